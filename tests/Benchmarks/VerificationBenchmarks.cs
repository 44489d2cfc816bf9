using BenchmarkDotNet.Attributes;
using EdgeMeter.Crypto.Keys;
using EdgeMeter.Crypto.Signing;

namespace EdgeMeter.Benchmarks;

/// <summary>
/// What the ledger spends per signature of a known device: one alone (<see cref="KnownSigner.Verify"/>), a full batch
/// of a backlog (<see cref="KnownSigner.VerifyBatch"/>, wide tables), and full recovery (ecrecover) for comparison.
/// Run: <c>dotnet run -c Release --project tests/Benchmarks -- --filter *VerificationBenchmarks* --inProcess</c>
/// </summary>
[MemoryDiagnoser]
[ShortRunJob]
public class VerificationBenchmarks
{
    private readonly byte[][] _digests = new byte[KnownSigner.BatchSize][];
    private readonly ReadOnlyMemory<byte>[] _signatures = new ReadOnlyMemory<byte>[KnownSigner.BatchSize];
    private readonly bool[] _ok = new bool[KnownSigner.BatchSize];
    private KnownSigner _signer = null!;

    [GlobalSetup]
    public void Setup()
    {
        var secret = new byte[32];
        secret.AsSpan().Fill(0x42);
        using var key = FileDeviceKey.FromSecret(secret);
        var random = new Random(7);
        for (int i = 0; i < _digests.Length; i++)
        {
            _digests[i] = new byte[32];
            random.NextBytes(_digests[i]);
            var signature = new byte[65];
            key.SignDigest(_digests[i], signature);
            _signatures[i] = signature;
        }
        if (!KnownSigner.TryCreate(key.PublicKey.Span, out var signer))
            throw new InvalidOperationException("the key's table");
        _signer = signer!;
        _signer.VerifyBatch(_digests, _signatures, _ok); // builds the wide tables outside the measurement
        if (Array.IndexOf(_ok, false) >= 0)
            throw new InvalidOperationException("a signature did not verify");
    }

    [Benchmark(Description = "verify one (known key)")]
    public bool One() => _signer.Verify(_digests[0], _signatures[0].Span);

    [Benchmark(Baseline = true, Description = "verify a batch of 128 (known key), per batch", OperationsPerInvoke = 1)]
    public void Batch() => _signer.VerifyBatch(_digests, _signatures, _ok);

    [Benchmark(Description = "ecrecover one")]
    public bool Recover() => SignatureRecovery.TryRecoverAddress(_digests[0], _signatures[0].Span, out _);
}

/// <summary>The field operations verification is made of (a chain of 100 each, so latency counts as it does there).</summary>
[ShortRunJob]
public class FieldBenchmarks
{
    private Crypto.Curves.FieldElement _a = new(0x1234567890ABCDEF, 0xFEDCBA0987654321, 0x0F1E2D3C4B5A6978, 0x7FFFFFFFFFFFFFFF);

    [Benchmark(OperationsPerInvoke = 100)]
    public ulong Mul()
    {
        var x = _a;
        for (int i = 0; i < 100; i++)
            x = Crypto.Curves.FieldElement.Mul(x, _a);
        return x.L0;
    }

    [Benchmark(OperationsPerInvoke = 100)]
    public ulong Sqr()
    {
        var x = _a;
        for (int i = 0; i < 100; i++)
            x = Crypto.Curves.FieldElement.Sqr(x);
        return x.L0;
    }

    [Benchmark(OperationsPerInvoke = 100)]
    public ulong Sub()
    {
        var x = _a;
        for (int i = 0; i < 100; i++)
            x = Crypto.Curves.FieldElement.Sub(x, _a);
        return x.L0;
    }

    [Benchmark]
    public ulong Invert() => Crypto.Curves.FieldElement.InvertVariableTime(_a).L0;
}
