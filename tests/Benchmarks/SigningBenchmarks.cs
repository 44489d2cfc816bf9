using BenchmarkDotNet.Attributes;
using EdgeMeter.Crypto.Hashing;
using EdgeMeter.Crypto.Keys;
using EdgeMeter.Crypto.Records;
using EdgeMeter.Crypto.Signing;
using Org.BouncyCastle.Crypto.Digests;
using Org.BouncyCastle.Crypto.EC;
using Org.BouncyCastle.Crypto.Parameters;
using Org.BouncyCastle.Crypto.Signers;
using Org.BouncyCastle.Math;

namespace EdgeMeter.Benchmarks;

/// <summary>
/// Cost of one signed reading on one core, split into encoding (hashStruct), hashing (the full EIP-712
/// digest), signing (RFC 6979 + k·G + low-S + recovery id), the whole <see cref="RecordSigner.Sign"/>,
/// and BouncyCastle's stock ECDsaSigner for comparison. Run:
/// <c>dotnet run -c Release --project tests/Benchmarks -- --filter *SigningBenchmarks* --inProcess</c>
/// </summary>
[MemoryDiagnoser]
[ShortRunJob]
public class SigningBenchmarks
{
    private readonly byte[] _digest = new byte[32];
    private readonly byte[] _signature = new byte[65];
    private readonly byte[] _payload = new byte[448];
    private FileDeviceKey _key = null!;
    private RecordSigner _signer = null!;
    private ReadingRecord _record = null!;
    private ECDsaSigner _stock = null!;
    private Eip712Domain _domain = null!;

    [GlobalSetup]
    public void Setup()
    {
        var secret = new byte[32];
        secret.AsSpan().Fill(0x42);
        _key = FileDeviceKey.FromSecret(secret);
        _domain = Eip712Domain.ForReadings(100);
        _signer = new RecordSigner(_key, _domain);
        _record = new ReadingRecord
        {
            Device = _key.Address, Sequence = 123_456, MeterId = "EM-3PH-0042", Obis = "1-0:1.8.0*255", Value = 987_654_321,
            Scaler = -3, Unit = "Wh", Source = EnergySource.Pv, Clean = true, GatewayTimeMs = 1_767_225_600_000,
            MeterTimeMs = 1_767_225_599_250, TimeStatus = TimeStatus.Synchronised, PrevHash = new byte[32],
        };
        ReadingTypedData.Digest(_domain, _record, _digest);

        var p = CustomNamedCurves.GetByName("secp256k1");
        _stock = new ECDsaSigner(new HMacDsaKCalculator(new Sha256Digest()));
        _stock.Init(true, new ECPrivateKeyParameters(new BigInteger(1, secret), new ECDomainParameters(p.Curve, p.G, p.N, p.H)));
        _signer.Sign(_record); // builds the fixed-base table outside the measurement
    }

    [Benchmark(Description = "encode: hashStruct(Reading)")]
    public void Encode() => ReadingTypedData.HashStruct(_record, _digest);

    [Benchmark(Description = "hash: keccak-256 of 448 bytes")]
    public void Keccak() => Keccak256.Hash(_payload, _digest);

    [Benchmark(Description = "digest: full EIP-712 digest")]
    public void Digest() => ReadingTypedData.Digest(_domain, _record, _digest);

    [Benchmark(Description = "sign: SignDigest (RFC 6979, k·G, low-S, v)")]
    public void Sign() => _key.SignDigest(_digest, _signature);

    [Benchmark(Baseline = true, Description = "total: RecordSigner.Sign")]
    public SignedReading Total() => _signer.Sign(_record);

    [Benchmark(Description = "stock BouncyCastle ECDsaSigner")]
    public BigInteger[] Stock() => _stock.GenerateSignature(_digest);
}
