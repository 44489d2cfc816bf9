using System.Security.Cryptography;
using EdgeMeter.Crypto.Hashing;

namespace EdgeMeter.Crypto.Curves;

/// <summary>
/// ECDSA over secp256k1 as Ethereum wants it: RFC 6979 deterministic k (HMAC-SHA256), low-S, and the
/// recovery id taken from R while it is at hand rather than by trial recovery. Signing is constant time
/// in the key and the nonce and allocates nothing; recovery works on public data only and is variable time.
/// </summary>
[System.Runtime.CompilerServices.SkipLocalsInit]
internal static class Secp256k1Signer
{
    /// <summary>Signature length: r (32) ‖ s (32) ‖ v (1).</summary>
    public const int SignatureSize = 65;

    /// <summary>Signs a 32-byte digest with private scalar <paramref name="d"/> (0 &lt; d &lt; n); v = 27 + recovery id.</summary>
    public static void Sign(in Scalar d, ReadOnlySpan<byte> digest32, Span<byte> signature65)
    {
        if (digest32.Length != 32)
            throw new ArgumentException("The digest must be 32 bytes.", nameof(digest32));
        if (signature65.Length < SignatureSize)
            throw new ArgumentException("The signature buffer must hold 65 bytes.", nameof(signature65));

        // A 256-bit digest and a 256-bit order: bits2int is the digest itself, reduced once for the arithmetic.
        var e = Scalar.Read(digest32, out _);
        var nonces = new Rfc6979(d, e);
        try
        {
            while (true)
            {
                var k = nonces.Next();
                FixedBaseMultiplier.Multiply(k, out var x, out var y);
                Span<byte> xBytes = stackalloc byte[32];
                x.Write(xBytes);
                // r and whether x ≥ n end up in the signature: they are public.
                var r = Scalar.Read(xBytes, out ulong xOverflow);
                if (r.ZeroMask != 0)
                    continue;

                var s = Scalar.Mul(Scalar.InvertBlinded(k, Blinding.NextScalar()), Scalar.Add(e, Scalar.Mul(r, d)));
                if (s.ZeroMask != 0)
                    continue;

                // (r, n − s) is the same signature with R negated: the y parity flips.
                ulong high = s.HighMask;
                Scalar.Select(ref s, Scalar.Negate(s), high);
                ulong recoveryId = (y.IsOdd ^ (high & 1)) | (xOverflow << 1);

                r.Write(signature65[..32]);
                s.Write(signature65[32..64]);
                signature65[64] = (byte)(27 + recoveryId);
                return;
            }
        }
        finally
        {
            nonces.Clear();
        }
    }

    /// <summary>
    /// ecrecover: the uncompressed public key that made <paramref name="signature65"/> over <paramref name="digest32"/>.
    /// Rejects r or s out of range, high S, v other than 27/28, and an r that is not an x on the curve.
    /// </summary>
    public static bool TryRecoverPublicKey(ReadOnlySpan<byte> digest32, ReadOnlySpan<byte> signature65, Span<byte> publicKey65)
    {
        if (digest32.Length != 32 || publicKey65.Length < 65 || !TryReadSignature(signature65, out var r, out var s, out int v))
            return false;

        // v of 27/28 carries only the y parity; an x ≥ n (recovery id 2, 3) cannot be expressed, as in the EVM.
        FieldElement.TryRead(signature65[..32], out var rx);
        if (!FieldElement.TrySqrt(Secp256k1.CurveRight(rx), out var ry))
            return false;
        if (ry.IsOdd != (ulong)(v - 27))
            ry = FieldElement.Negate(ry);

        var e = Scalar.Read(digest32, out _);
        var rInv = Scalar.InvertVariableTime(r);
        var u1 = Scalar.Negate(Scalar.Mul(e, rInv));
        var u2 = Scalar.Mul(s, rInv);
        var q = PublicMultiplier.MultiplyAdd(u1, u2, rx, ry);
        if (!q.TryToAffine(out var qx, out var qy))
            return false;
        publicKey65[0] = 0x04;
        qx.Write(publicKey65[1..33]);
        qy.Write(publicKey65[33..65]);
        return true;
    }

    /// <summary>
    /// True exactly when <see cref="TryRecoverPublicKey"/> would give the key whose table is <paramref name="keyTable"/>
    /// (<see cref="FixedBaseMultiplier.BuildTable"/>): the same range, low-S and v checks, then R = (e·G + r·Q)/s
    /// from two fixed-base tables (G's in 10-bit windows once a backlog has built that table, else its 7-bit signing table; Q's
    /// in 7- or 10-bit ones, told apart by the table's length: at most 26 or 37 mixed additions each, no doublings), and R must be the point recovery starts
    /// from: x = r and the y parity v names. Recovery computes Q = (s·R − e·G)/r, so Q is recovered exactly when
    /// s·R = e·G + r·Q. Variable time, public data only; allocates nothing.
    /// </summary>
    public static bool VerifyWithKeyTable(ReadOnlySpan<byte> digest32, ReadOnlySpan<byte> signature65, ReadOnlySpan<ulong> keyTable)
    {
        int keyBits = FixedBaseMultiplier.WindowBitsOf(keyTable.Length);
        if (digest32.Length != 32 || keyBits == 0 || !TryReadSignature(signature65, out var r, out var s, out int v))
            return false;

        var e = Scalar.Read(digest32, out _);
        var sInv = Scalar.InvertVariableTime(s);
        var acc = JacobianPoint.Infinity;
        var (gTable, gBits) = FixedBaseMultiplier.GTableForVerifying(1);
        FixedBaseMultiplier.AddMultiplePublic(ref acc, gTable, Scalar.Mul(e, sInv), gBits);
        FixedBaseMultiplier.AddMultiplePublic(ref acc, keyTable, Scalar.Mul(r, sInv), keyBits);
        if (!acc.TryToAffine(out var x, out var y))
            return false;
        FieldElement.TryRead(signature65[..32], out var rx);
        return FieldElement.EqualMask(x, rx) != 0 && y.IsOdd == (ulong)(v - 27);
    }

    /// <summary>
    /// r, s and v of a 65-byte signature r‖s‖v, when it is one recovery accepts: r and s in [1, n − 1], s low, v 27 or 28.
    /// The one place these checks live for recovery, verification and batch verification.
    /// </summary>
    private static bool TryReadSignature(ReadOnlySpan<byte> signature65, out Scalar r, out Scalar s, out int v)
    {
        r = default;
        s = default;
        v = 0;
        if (signature65.Length != SignatureSize || signature65[64] is not (27 or 28))
            return false;
        v = signature65[64];
        r = Scalar.Read(signature65[..32], out ulong rOverflow);
        s = Scalar.Read(signature65[32..64], out ulong sOverflow);
        return rOverflow == 0 && sOverflow == 0 && r.ZeroMask == 0 && s.ZeroMask == 0 && s.HighMask == 0;
    }

    /// <summary>Signatures per batch in <see cref="VerifyBatchWithKeyTable"/>: one inversion of each kind per batch and per addition step.</summary>
    public const int VerifyBatchSize = AffineLanes.MaxLanes;

    /// <summary>
    /// <see cref="VerifyWithKeyTable"/> for up to <see cref="VerifyBatchSize"/> signatures of the same key:
    /// <paramref name="ok"/>[i] is what it would say for digests[i] and signatures[i]. The s inverses are taken
    /// together (Montgomery's trick: one inversion and three multiplications per element), and the table points of
    /// all the R = (e·G + r·Q)/s are summed in affine coordinates a step at a time across the batch, one shared
    /// inversion per step (<see cref="AffineLanes"/>), so R comes out affine. Allocates nothing.
    /// </summary>
    public static void VerifyBatchWithKeyTable(ReadOnlySpan<byte[]> digests, ReadOnlySpan<ReadOnlyMemory<byte>> signatures, ReadOnlySpan<ulong> keyTable, Span<bool> ok)
    {
        int m = digests.Length;
        if (m > VerifyBatchSize || signatures.Length != m || ok.Length < m)
            throw new ArgumentException($"A batch is at most {VerifyBatchSize} digests with as many signatures and results.");
        int keyBits = FixedBaseMultiplier.WindowBitsOf(keyTable.Length);
        if (keyBits == 0)
            throw new ArgumentException("Not a key table.", nameof(keyTable));

        Span<Scalar> r = stackalloc Scalar[VerifyBatchSize];
        Span<Scalar> sInv = stackalloc Scalar[VerifyBatchSize];
        Span<Scalar> sPrefix = stackalloc Scalar[VerifyBatchSize];
        var sProduct = Scalar.One;
        for (int i = 0; i < m; i++)
        {
            ok[i] = false;
            r[i] = Scalar.One;
            sInv[i] = Scalar.One;
            if (digests[i] is { Length: 32 } && TryReadSignature(signatures[i].Span, out var ri, out var si, out _))
            {
                ok[i] = true;
                r[i] = ri;
                sInv[i] = si;
            }
            sPrefix[i] = sProduct;
            sProduct = Scalar.Mul(sProduct, sInv[i]);
        }
        // Walk back: inverse of the product times the prefix is the element's inverse.
        var inverse = Scalar.InvertVariableTime(sProduct);
        for (int i = m - 1; i >= 0; i--)
        {
            var si = sInv[i];
            sInv[i] = Scalar.Mul(inverse, sPrefix[i]);
            inverse = Scalar.Mul(inverse, si);
        }

        // Each R as its table points: e/s in G's table (A), r/s in the key's (B).
        var (gTable, gBits) = FixedBaseMultiplier.GTableForVerifying(m);
        const int stride = 2 * FixedBaseMultiplier.MaxDigits;
        Span<int> codes = stackalloc int[VerifyBatchSize * stride];
        Span<int> counts = stackalloc int[VerifyBatchSize];
        for (int i = 0; i < m; i++)
        {
            counts[i] = 0;
            if (!ok[i])
                continue;
            var lane = codes.Slice(i * stride, stride);
            var e = Scalar.Read(digests[i], out _);
            int n = FixedBaseMultiplier.Recode(Scalar.Mul(e, sInv[i]), gBits, 0, lane);
            counts[i] = n + FixedBaseMultiplier.Recode(Scalar.Mul(r[i], sInv[i]), keyBits, AffineLanes.InTableB, lane[n..]);
        }
        Span<FieldElement> xs = stackalloc FieldElement[VerifyBatchSize];
        Span<FieldElement> ys = stackalloc FieldElement[VerifyBatchSize];
        Span<bool> finite = stackalloc bool[VerifyBatchSize];
        AffineLanes.Sum(gTable, keyTable, codes, stride, counts[..m], xs, ys, finite);
        for (int i = 0; i < m; i++)
        {
            if (!ok[i])
                continue;
            var signature = signatures[i].Span;
            FieldElement.TryRead(signature[..32], out var rx);
            ok[i] = finite[i] && FieldElement.EqualMask(xs[i], rx) != 0 && ys[i].IsOdd == (ulong)(signature[64] - 27);
        }
    }

    /// <summary>The RFC 6979 HMAC-DRBG (section 3.2) with HMAC-SHA256, in inline buffers: no allocation.</summary>
    private struct Rfc6979
    {
        private static ReadOnlySpan<byte> Zero => [0x00];
        private static ReadOnlySpan<byte> One => [0x01];

        private HmacSha256 _mac;
        private Block32 _v;
        private bool _started;

        public Rfc6979(in Scalar d, in Scalar e)
        {
            // seed = int2octets(x) ‖ bits2octets(h1): the key and the digest reduced mod n.
            Span<byte> seed = stackalloc byte[64];
            d.Write(seed[..32]);
            e.Write(seed[32..]);
            ((Span<byte>)_v).Fill(0x01);
            Span<byte> k = stackalloc byte[32];
            k.Clear();
            _mac = new HmacSha256(k);
            Reseed(Zero, seed);
            Reseed(One, seed);
            CryptographicOperations.ZeroMemory(seed);
        }

        /// <summary>The next candidate k in [1, n).</summary>
        public Scalar Next()
        {
            while (true)
            {
                if (_started)
                    Reseed(Zero, default);
                _started = true;
                Span<byte> v = _v;
                _mac.Compute(v, default, default, v);
                var k = Scalar.Read(v, out ulong overflow);
                if ((overflow | (k.ZeroMask & 1)) == 0)
                    return k;
            }
        }

        public void Clear()
        {
            _mac.Clear();
            CryptographicOperations.ZeroMemory(_v);
        }

        // K = HMAC_K(V ‖ marker ‖ seed); V = HMAC_K(V).
        private void Reseed(ReadOnlySpan<byte> marker, ReadOnlySpan<byte> seed)
        {
            Span<byte> k = stackalloc byte[32];
            Span<byte> v = _v;
            _mac.Compute(v, marker, seed, k);
            _mac = new HmacSha256(k);
            _mac.Compute(v, default, default, v);
            CryptographicOperations.ZeroMemory(k);
        }
    }

    [System.Runtime.CompilerServices.InlineArray(32)]
    private struct Block32
    {
        private byte _element;
    }
}
