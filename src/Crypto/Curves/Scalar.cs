using System.Buffers.Binary;
using System.Runtime.CompilerServices;

namespace EdgeMeter.Crypto.Curves;

/// <summary>
/// An integer modulo the group order n of secp256k1, as four 64-bit limbs (little-endian), always fully
/// reduced. Like <see cref="FieldElement"/>, every operation runs the same instructions whatever the
/// values, so private keys and nonces can live here; nothing is allocated.
/// </summary>
[SkipLocalsInit]
internal struct Scalar
{
    private const ulong N0 = 0xBFD25E8CD0364141, N1 = 0xBAAEDCE6AF48A03B, N2 = 0xFFFFFFFFFFFFFFFE, N3 = 0xFFFFFFFFFFFFFFFF;

    // 2^256 − n = C0 + C1·2^64 + 2^128.
    private const ulong C0 = 0x402DA1732FC9BEBF, C1 = 0x4551231950B75FC4;

    // n / 2, rounded down: the largest low-S value.
    private const ulong H0 = 0xDFE92F46681B20A0, H1 = 0x5D576E7357A4501D, H2 = 0xFFFFFFFFFFFFFFFF, H3 = 0x7FFFFFFFFFFFFFFF;

    public ulong L0, L1, L2, L3;

    public Scalar(ulong l0, ulong l1, ulong l2, ulong l3)
    {
        L0 = l0;
        L1 = l1;
        L2 = l2;
        L3 = l3;
    }

    public static Scalar One => new(1, 0, 0, 0);

    /// <summary>
    /// Reads 32 big-endian bytes and reduces them mod n. <paramref name="overflow"/> is 1 when the bytes
    /// encoded n or more, else 0 (a word, not a branch, so that secret bytes can be read).
    /// </summary>
    public static Scalar Read(ReadOnlySpan<byte> bytes32, out ulong overflow)
    {
        var r = new Scalar(
            BinaryPrimitives.ReadUInt64BigEndian(bytes32[24..]),
            BinaryPrimitives.ReadUInt64BigEndian(bytes32[16..]),
            BinaryPrimitives.ReadUInt64BigEndian(bytes32[8..]),
            BinaryPrimitives.ReadUInt64BigEndian(bytes32));
        overflow = SubtractNIfAbove(ref r, 0);
        return r;
    }

    /// <summary>Writes the value as 32 big-endian bytes.</summary>
    public readonly void Write(Span<byte> bytes32)
    {
        BinaryPrimitives.WriteUInt64BigEndian(bytes32, L3);
        BinaryPrimitives.WriteUInt64BigEndian(bytes32[8..], L2);
        BinaryPrimitives.WriteUInt64BigEndian(bytes32[16..], L1);
        BinaryPrimitives.WriteUInt64BigEndian(bytes32[24..], L0);
    }

    /// <summary>All ones when the value is zero, else 0.</summary>
    public readonly ulong ZeroMask => ConstantTime.ZeroMask(L0 | L1 | L2 | L3);

    /// <summary>All ones when the value is above n/2 (a high S), else 0.</summary>
    public readonly ulong HighMask
    {
        get
        {
            // n/2 − value borrows exactly when value > n/2.
            ulong borrow = 0;
            ConstantTime.SubBorrow(H0, L0, ref borrow);
            ConstantTime.SubBorrow(H1, L1, ref borrow);
            ConstantTime.SubBorrow(H2, L2, ref borrow);
            ConstantTime.SubBorrow(H3, L3, ref borrow);
            return 0 - borrow;
        }
    }

    /// <summary>
    /// <paramref name="bits"/> (at most 63) bits of the value starting at bit <paramref name="start"/>, zeros past
    /// bit 255. The position is public; the bits may be secret.
    /// </summary>
    public readonly ulong Window(int start, int bits)
    {
        int word = start >> 6;
        int shift = start & 63;
        ulong value = Limb(word) >> shift;
        if (shift + bits > 64 && word < 3)
            value |= Limb(word + 1) << (64 - shift);
        return value & ((1UL << bits) - 1);
    }

    private readonly ulong Limb(int word) => word switch { 0 => L0, 1 => L1, 2 => L2, 3 => L3, _ => 0 };

    /// <summary>r = mask ? a : r, for mask all ones or zero.</summary>
    public static void Select(ref Scalar r, in Scalar a, ulong mask)
    {
        r.L0 ^= (r.L0 ^ a.L0) & mask;
        r.L1 ^= (r.L1 ^ a.L1) & mask;
        r.L2 ^= (r.L2 ^ a.L2) & mask;
        r.L3 ^= (r.L3 ^ a.L3) & mask;
    }

    public static Scalar Add(in Scalar a, in Scalar b)
    {
        ulong c = 0;
        var r = new Scalar(
            ConstantTime.AddCarry(a.L0, b.L0, ref c),
            ConstantTime.AddCarry(a.L1, b.L1, ref c),
            ConstantTime.AddCarry(a.L2, b.L2, ref c),
            ConstantTime.AddCarry(a.L3, b.L3, ref c));
        SubtractNIfAbove(ref r, c);
        return r;
    }

    /// <summary>n − a, and 0 for 0.</summary>
    public static Scalar Negate(in Scalar a)
    {
        ulong borrow = 0;
        var r = new Scalar(
            ConstantTime.SubBorrow(N0, a.L0, ref borrow),
            ConstantTime.SubBorrow(N1, a.L1, ref borrow),
            ConstantTime.SubBorrow(N2, a.L2, ref borrow),
            ConstantTime.SubBorrow(N3, a.L3, ref borrow));
        ulong keep = ~a.ZeroMask;
        r.L0 &= keep;
        r.L1 &= keep;
        r.L2 &= keep;
        r.L3 &= keep;
        return r;
    }

    public static Scalar Mul(in Scalar a, in Scalar b)
    {
        ConstantTime.Mul256(a.L0, a.L1, a.L2, a.L3, b.L0, b.L1, b.L2, b.L3,
            out ulong t0, out ulong t1, out ulong t2, out ulong t3, out ulong t4, out ulong t5, out ulong t6, out ulong t7);

        // t = lo + hi·2^256 ≡ lo + hi·(2^256 − n), three times over: the high part shrinks from 256 bits
        // to 130, then to 5, then to one carry bit; the fixed passes do not look at how small it already is.
        ulong m0, m1, m2, m3, m4, m5, m6;
        ulong c0 = t0, c1 = 0, c2 = 0;
        ConstantTime.Accumulate(t4, C0, ref c0, ref c1, ref c2);
        m0 = c0; c0 = c1; c1 = c2; c2 = 0;
        ConstantTime.AccumulateWord(t1, ref c0, ref c1, ref c2);
        ConstantTime.Accumulate(t5, C0, ref c0, ref c1, ref c2);
        ConstantTime.Accumulate(t4, C1, ref c0, ref c1, ref c2);
        m1 = c0; c0 = c1; c1 = c2; c2 = 0;
        ConstantTime.AccumulateWord(t2, ref c0, ref c1, ref c2);
        ConstantTime.Accumulate(t6, C0, ref c0, ref c1, ref c2);
        ConstantTime.Accumulate(t5, C1, ref c0, ref c1, ref c2);
        ConstantTime.AccumulateWord(t4, ref c0, ref c1, ref c2);
        m2 = c0; c0 = c1; c1 = c2; c2 = 0;
        ConstantTime.AccumulateWord(t3, ref c0, ref c1, ref c2);
        ConstantTime.Accumulate(t7, C0, ref c0, ref c1, ref c2);
        ConstantTime.Accumulate(t6, C1, ref c0, ref c1, ref c2);
        ConstantTime.AccumulateWord(t5, ref c0, ref c1, ref c2);
        m3 = c0; c0 = c1; c1 = c2; c2 = 0;
        ConstantTime.Accumulate(t7, C1, ref c0, ref c1, ref c2);
        ConstantTime.AccumulateWord(t6, ref c0, ref c1, ref c2);
        m4 = c0; c0 = c1; c1 = c2; c2 = 0;
        ConstantTime.AccumulateWord(t7, ref c0, ref c1, ref c2);
        m5 = c0;
        m6 = c1;

        ulong q0, q1, q2, q3, q4;
        c0 = m0; c1 = 0; c2 = 0;
        ConstantTime.Accumulate(m4, C0, ref c0, ref c1, ref c2);
        q0 = c0; c0 = c1; c1 = c2; c2 = 0;
        ConstantTime.AccumulateWord(m1, ref c0, ref c1, ref c2);
        ConstantTime.Accumulate(m5, C0, ref c0, ref c1, ref c2);
        ConstantTime.Accumulate(m4, C1, ref c0, ref c1, ref c2);
        q1 = c0; c0 = c1; c1 = c2; c2 = 0;
        ConstantTime.AccumulateWord(m2, ref c0, ref c1, ref c2);
        ConstantTime.Accumulate(m6, C0, ref c0, ref c1, ref c2);
        ConstantTime.Accumulate(m5, C1, ref c0, ref c1, ref c2);
        ConstantTime.AccumulateWord(m4, ref c0, ref c1, ref c2);
        q2 = c0; c0 = c1; c1 = c2; c2 = 0;
        ConstantTime.AccumulateWord(m3, ref c0, ref c1, ref c2);
        ConstantTime.Accumulate(m6, C1, ref c0, ref c1, ref c2);
        ConstantTime.AccumulateWord(m5, ref c0, ref c1, ref c2);
        q3 = c0; c0 = c1; c1 = c2;
        ConstantTime.AccumulateWord(m6, ref c0, ref c1, ref c2);
        q4 = c0;

        ulong c = 0;
        ulong hi = ConstantTime.MulAdd(q4, C0, q0, 0, out ulong r0);
        ulong hi1 = ConstantTime.MulAdd(q4, C1, hi, 0, out ulong lo1);
        ulong r1 = ConstantTime.AddCarry(q1, lo1, ref c);
        ulong r2 = ConstantTime.AddCarry(q2, q4 + hi1, ref c);
        ulong r3 = ConstantTime.AddCarry(q3, 0, ref c);
        var r = new Scalar(r0, r1, r2, r3);
        SubtractNIfAbove(ref r, c);
        return r;
    }

    /// <summary>1/a in variable time, for public a (0 for 0).</summary>
    public static Scalar InvertVariableTime(in Scalar a)
    {
        Span<ulong> r = stackalloc ulong[4];
        r[0] = a.L0;
        r[1] = a.L1;
        r[2] = a.L2;
        r[3] = a.L3;
        Span<ulong> m = stackalloc ulong[4];
        m[0] = N0;
        m[1] = N1;
        m[2] = N2;
        m[3] = N3;
        BinaryInverse.Invert(r, m, r);
        return new Scalar(r[0], r[1], r[2], r[3]);
    }

    /// <summary>1/a for secret a: a·b inverted in variable time (uniformly random whatever a is), times b again.</summary>
    public static Scalar InvertBlinded(in Scalar a, in Scalar blind) => Mul(InvertVariableTime(Mul(a, blind)), blind);

    // r + carry·2^256 (below 2n) to the canonical value; returns 1 when n was subtracted.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong SubtractNIfAbove(ref Scalar r, ulong carry)
    {
        // A carry is worth 2^256 − n, and the sum is then small enough that adding it cannot carry again.
        ulong mask = 0 - carry;
        ulong c = 0;
        r.L0 = ConstantTime.AddCarry(r.L0, C0 & mask, ref c);
        r.L1 = ConstantTime.AddCarry(r.L1, C1 & mask, ref c);
        r.L2 = ConstantTime.AddCarry(r.L2, carry, ref c);
        r.L3 = ConstantTime.AddCarry(r.L3, 0, ref c);

        ulong borrow = 0;
        ulong d0 = ConstantTime.SubBorrow(r.L0, N0, ref borrow);
        ulong d1 = ConstantTime.SubBorrow(r.L1, N1, ref borrow);
        ulong d2 = ConstantTime.SubBorrow(r.L2, N2, ref borrow);
        ulong d3 = ConstantTime.SubBorrow(r.L3, N3, ref borrow);
        ulong take = borrow - 1;
        r.L0 ^= (r.L0 ^ d0) & take;
        r.L1 ^= (r.L1 ^ d1) & take;
        r.L2 ^= (r.L2 ^ d2) & take;
        r.L3 ^= (r.L3 ^ d3) & take;
        return take & 1;
    }
}
