using Org.BouncyCastle.Crypto.Digests;
using Org.BouncyCastle.Crypto.Signers;
using Org.BouncyCastle.Math;
using Org.BouncyCastle.Utilities;

namespace EdgeMeter.Crypto.Curves;

/// <summary>
/// ECDSA over secp256k1 as Ethereum wants it: RFC 6979 deterministic k (HMAC-SHA256), low-S, and the
/// recovery id taken from R while it is at hand rather than by trial recovery.
/// </summary>
internal static class Secp256k1Signer
{
    /// <summary>Signature length: r (32) ‖ s (32) ‖ v (1).</summary>
    public const int SignatureSize = 65;

    /// <summary>Signs a 32-byte digest with private scalar <paramref name="d"/>; v = 27 + recovery id.</summary>
    public static void Sign(BigInteger d, ReadOnlySpan<byte> digest32, Span<byte> signature65)
    {
        if (digest32.Length != 32)
            throw new ArgumentException("The digest must be 32 bytes.", nameof(digest32));
        if (signature65.Length < SignatureSize)
            throw new ArgumentException("The signature buffer must hold 65 bytes.", nameof(signature65));

        var n = Secp256k1.N;
        // A 256-bit digest and a 256-bit order: bits2int is the digest itself, no truncation.
        var e = new BigInteger(1, digest32);
        var kCalculator = new HMacDsaKCalculator(new Sha256Digest());
        kCalculator.Init(n, d, digest32.ToArray());

        while (true)
        {
            var k = kCalculator.NextK();
            var point = FixedBaseMultiplier.Shared.Multiply(k).Normalize();
            var x = point.AffineXCoord.ToBigInteger();
            var r = x.Mod(n);
            if (r.SignValue == 0)
                continue;

            var s = BigIntegers.ModOddInverse(n, k).Multiply(e.Add(d.Multiply(r))).Mod(n);
            if (s.SignValue == 0)
                continue;

            int recoveryId = (point.AffineYCoord.TestBitZero() ? 1 : 0) | (x.CompareTo(n) >= 0 ? 2 : 0);
            if (s.CompareTo(Secp256k1.HalfN) > 0)
            {
                // (r, n − s) is the same signature with R negated: the y parity flips.
                s = n.Subtract(s);
                recoveryId ^= 1;
            }

            BigIntegers.AsUnsignedByteArray(r, signature65[..32]);
            BigIntegers.AsUnsignedByteArray(s, signature65[32..64]);
            signature65[64] = (byte)(27 + recoveryId);
            return;
        }
    }

    /// <summary>
    /// ecrecover: the uncompressed public key that made <paramref name="signature65"/> over <paramref name="digest32"/>.
    /// Rejects r or s out of range, high S, v other than 27/28, and an r that is not an x on the curve.
    /// </summary>
    public static bool TryRecoverPublicKey(ReadOnlySpan<byte> digest32, ReadOnlySpan<byte> signature65, out byte[] publicKey65)
    {
        publicKey65 = [];
        if (digest32.Length != 32 || signature65.Length != SignatureSize)
            return false;
        int v = signature65[64];
        if (v is not (27 or 28))
            return false;

        var n = Secp256k1.N;
        var r = new BigInteger(1, signature65[..32]);
        var s = new BigInteger(1, signature65[32..64]);
        if (r.SignValue == 0 || r.CompareTo(n) >= 0 || s.SignValue == 0 || s.CompareTo(Secp256k1.HalfN) > 0)
            return false;

        // v of 27/28 carries only the y parity; an x ≥ n (recovery id 2, 3) cannot be expressed, as in the EVM.
        Span<byte> compressed = stackalloc byte[33];
        compressed[0] = (byte)(v == 27 ? 0x02 : 0x03);
        signature65[..32].CopyTo(compressed[1..]);
        Org.BouncyCastle.Math.EC.ECPoint rPoint;
        try
        {
            rPoint = Secp256k1.Curve.DecodePoint(compressed.ToArray());
        }
        catch (ArgumentException)
        {
            return false;
        }

        var e = new BigInteger(1, digest32);
        var rInv = BigIntegers.ModOddInverse(n, r);
        var u1 = n.Subtract(e).Multiply(rInv).Mod(n);
        var u2 = s.Multiply(rInv).Mod(n);
        var q = Org.BouncyCastle.Math.EC.ECAlgorithms.SumOfTwoMultiplies(Secp256k1.G, u1, rPoint, u2).Normalize();
        if (q.IsInfinity)
            return false;
        publicKey65 = q.GetEncoded(false);
        return true;
    }
}
