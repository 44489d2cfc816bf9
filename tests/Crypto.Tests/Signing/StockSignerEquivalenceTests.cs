using CsCheck;
using EdgeMeter.Crypto.Curves;
using EdgeMeter.Crypto.Keys;
using EdgeMeter.Crypto.Signing;
using Org.BouncyCastle.Crypto.Digests;
using Org.BouncyCastle.Crypto.EC;
using Org.BouncyCastle.Crypto.Parameters;
using Org.BouncyCastle.Crypto.Signers;
using Org.BouncyCastle.Math;
using Org.BouncyCastle.Utilities;

namespace EdgeMeter.Crypto.Tests.Signing;

/// <summary>Our fixed-base table and signing path against BouncyCastle's stock ECDsaSigner with an RFC 6979 k.</summary>
public class StockSignerEquivalenceTests
{
    private static readonly ECDomainParameters StockDomain = StockDomainParameters();

    [Fact]
    public void Signatures_are_byte_identical_to_stock_ECDsaSigner_with_rfc6979_after_low_s()
    {
        Gen.Select(Gen.Byte.Array[32], Gen.Byte.Array[32]).Sample((secret, digest) =>
        {
            var d = new BigInteger(1, secret);
            if (!Secp256k1.IsValidPrivateKey(secret))
                return;
            using var key = FileDeviceKey.FromSecret(secret);
            var ours = new byte[65];
            key.SignDigest(digest, ours);

            var stock = new ECDsaSigner(new HMacDsaKCalculator(new Sha256Digest()));
            stock.Init(true, new ECPrivateKeyParameters(d, StockDomain));
            var rs = stock.GenerateSignature(digest);
            var s = rs[1].CompareTo(StockDomain.N.ShiftRight(1)) > 0 ? StockDomain.N.Subtract(rs[1]) : rs[1];

            Assert.Equal(BigIntegers.AsUnsignedByteArray(32, rs[0]), ours[..32]);
            Assert.Equal(BigIntegers.AsUnsignedByteArray(32, s), ours[32..64]);
            Assert.True(SignatureRecovery.TryRecoverAddress(digest, ours, out var recovered));
            Assert.Equal(key.Address, recovered);
        }, iter: 300);
    }

    [Fact]
    public void Fixed_base_multiplication_gives_BouncyCastle_points_for_edge_scalars()
    {
        var n = StockDomain.N;
        var scalars = new[]
        {
            BigInteger.One, BigInteger.Two, BigInteger.ValueOf(255), BigInteger.ValueOf(256), BigInteger.ValueOf(257),
            n.Subtract(BigInteger.One), n.Subtract(BigInteger.Two), BigInteger.One.ShiftLeft(255), BigInteger.One.ShiftLeft(248).Subtract(BigInteger.One),
            new BigInteger("ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00", 16).Mod(n),
        };
        foreach (var k in scalars)
        {
            var expected = StockDomain.G.Multiply(k).Normalize();
            var actual = new byte[65];
            Secp256k1.PublicKeyOf(Scalar.Read(BigIntegers.AsUnsignedByteArray(32, k), out _), actual);
            Assert.Equal(expected.GetEncoded(false), actual);
        }
    }

    [Fact]
    public void Signatures_are_low_s_with_v_27_or_28()
    {
        using var key = FileDeviceKey.FromSecret(TestRecords.Secret(0x5a));
        var half = StockDomain.N.ShiftRight(1);
        Gen.Byte.Array[32].Sample(digest =>
        {
            var sig = new byte[65];
            key.SignDigest(digest, sig);
            Assert.True(new BigInteger(1, sig[32..64]).CompareTo(half) <= 0);
            Assert.True(sig[64] is 27 or 28);
        }, iter: 100);
    }

    [Fact]
    public void Recovery_rejects_high_s_bad_v_and_out_of_range_r()
    {
        using var key = FileDeviceKey.FromSecret(TestRecords.Secret(0x33));
        var digest = new byte[32];
        digest[0] = 9;
        var sig = new byte[65];
        key.SignDigest(digest, sig);

        var highS = (byte[])sig.Clone();
        var s = new BigInteger(1, sig[32..64]);
        BigIntegers.AsUnsignedByteArray(StockDomain.N.Subtract(s), highS.AsSpan(32, 32));
        highS[64] ^= 1;
        Assert.False(SignatureRecovery.TryRecoverAddress(digest, highS, out _));

        var badV = (byte[])sig.Clone();
        badV[64] = 29;
        Assert.False(SignatureRecovery.TryRecoverAddress(digest, badV, out _));

        var zeroR = (byte[])sig.Clone();
        zeroR.AsSpan(0, 32).Clear();
        Assert.False(SignatureRecovery.TryRecoverAddress(digest, zeroR, out _));

        var bigR = (byte[])sig.Clone();
        bigR.AsSpan(0, 32).Fill(0xff);
        Assert.False(SignatureRecovery.TryRecoverAddress(digest, bigR, out _));

        Assert.False(SignatureRecovery.TryRecoverAddress(digest, sig.AsSpan(0, 64), out _));
    }

    private static ECDomainParameters StockDomainParameters()
    {
        var p = CustomNamedCurves.GetByName("secp256k1");
        return new ECDomainParameters(p.Curve, p.G, p.N, p.H);
    }
}
