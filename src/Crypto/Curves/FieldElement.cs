using System.Buffers.Binary;
using System.Runtime.CompilerServices;

namespace EdgeMeter.Crypto.Curves;

/// <summary>
/// An element of GF(p), p = 2^256 − 2^32 − 977, as four 64-bit limbs (little-endian), always fully reduced
/// (0 ≤ value &lt; p). Every operation runs the same instructions whatever the values: carries become
/// 0/1 words and conditional steps become masks, so the arithmetic can carry secrets. A plain value type:
/// nothing is allocated.
/// </summary>
[SkipLocalsInit]
internal struct FieldElement
{
    /// <summary>2^256 mod p = 2^32 + 977: multiplying the upper half of a product by it folds it down.</summary>
    private const ulong R = 0x1000003D1;

    public ulong L0, L1, L2, L3;

    public FieldElement(ulong l0, ulong l1, ulong l2, ulong l3)
    {
        L0 = l0;
        L1 = l1;
        L2 = l2;
        L3 = l3;
    }

    public static FieldElement Zero => default;

    public static FieldElement One => new(1, 0, 0, 0);

    /// <summary>Reads 32 big-endian bytes. Returns false, with the value reduced anyway, when they encode p or more.</summary>
    public static bool TryRead(ReadOnlySpan<byte> bytes32, out FieldElement r)
    {
        r = new FieldElement(
            BinaryPrimitives.ReadUInt64BigEndian(bytes32[24..]),
            BinaryPrimitives.ReadUInt64BigEndian(bytes32[16..]),
            BinaryPrimitives.ReadUInt64BigEndian(bytes32[8..]),
            BinaryPrimitives.ReadUInt64BigEndian(bytes32));
        ulong overflow = Reduce(ref r, 0);
        return overflow == 0;
    }

    /// <summary>Writes the value as 32 big-endian bytes.</summary>
    public readonly void Write(Span<byte> bytes32)
    {
        BinaryPrimitives.WriteUInt64BigEndian(bytes32, L3);
        BinaryPrimitives.WriteUInt64BigEndian(bytes32[8..], L2);
        BinaryPrimitives.WriteUInt64BigEndian(bytes32[16..], L1);
        BinaryPrimitives.WriteUInt64BigEndian(bytes32[24..], L0);
    }

    /// <summary>1 when the value is odd, else 0.</summary>
    public readonly ulong IsOdd => L0 & 1;

    /// <summary>All ones when the value is zero, else 0.</summary>
    public readonly ulong ZeroMask => ConstantTime.ZeroMask(L0 | L1 | L2 | L3);

    /// <summary>All ones when the values are equal, else 0.</summary>
    public static ulong EqualMask(in FieldElement a, in FieldElement b) =>
        ConstantTime.ZeroMask((a.L0 ^ b.L0) | (a.L1 ^ b.L1) | (a.L2 ^ b.L2) | (a.L3 ^ b.L3));

    /// <summary>r = mask ? a : r, for mask all ones or zero.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Select(ref FieldElement r, in FieldElement a, ulong mask)
    {
        r.L0 ^= (r.L0 ^ a.L0) & mask;
        r.L1 ^= (r.L1 ^ a.L1) & mask;
        r.L2 ^= (r.L2 ^ a.L2) & mask;
        r.L3 ^= (r.L3 ^ a.L3) & mask;
    }

    public static FieldElement Add(in FieldElement a, in FieldElement b)
    {
        ulong c = 0;
        var r = new FieldElement(
            ConstantTime.AddCarry(a.L0, b.L0, ref c),
            ConstantTime.AddCarry(a.L1, b.L1, ref c),
            ConstantTime.AddCarry(a.L2, b.L2, ref c),
            ConstantTime.AddCarry(a.L3, b.L3, ref c));
        Reduce(ref r, c);
        return r;
    }

    public static FieldElement Sub(in FieldElement a, in FieldElement b)
    {
        ulong borrow = 0;
        var r = new FieldElement(
            ConstantTime.SubBorrow(a.L0, b.L0, ref borrow),
            ConstantTime.SubBorrow(a.L1, b.L1, ref borrow),
            ConstantTime.SubBorrow(a.L2, b.L2, ref borrow),
            ConstantTime.SubBorrow(a.L3, b.L3, ref borrow));
        // On a borrow the word is a − b + 2^256; adding p is subtracting 2^256 − p = R, and that borrow cancels.
        ulong rr = R & (0 - borrow);
        borrow = 0;
        r.L0 = ConstantTime.SubBorrow(r.L0, rr, ref borrow);
        r.L1 = ConstantTime.SubBorrow(r.L1, 0, ref borrow);
        r.L2 = ConstantTime.SubBorrow(r.L2, 0, ref borrow);
        r.L3 = ConstantTime.SubBorrow(r.L3, 0, ref borrow);
        return r;
    }

    public static FieldElement Negate(in FieldElement a) => Sub(default, a);

    /// <summary>a · k for a small constant k (below 2^31).</summary>
    public static FieldElement MulSmall(in FieldElement a, ulong k)
    {
        ulong hi = ConstantTime.MulHigh(a.L0, k, out ulong r0);
        hi = ConstantTime.MulAdd(a.L1, k, hi, 0, out ulong r1);
        hi = ConstantTime.MulAdd(a.L2, k, hi, 0, out ulong r2);
        hi = ConstantTime.MulAdd(a.L3, k, hi, 0, out ulong r3);
        var r = new FieldElement(r0, r1, r2, r3);
        FoldSmall(ref r, hi);
        return r;
    }

    public static FieldElement Mul(in FieldElement a, in FieldElement b)
    {
        ConstantTime.Mul256(a.L0, a.L1, a.L2, a.L3, b.L0, b.L1, b.L2, b.L3,
            out ulong t0, out ulong t1, out ulong t2, out ulong t3, out ulong t4, out ulong t5, out ulong t6, out ulong t7);
        return ReduceWide(t0, t1, t2, t3, t4, t5, t6, t7);
    }

    public static FieldElement Sqr(in FieldElement a)
    {
        // The off-diagonal products once, doubled by a shift, plus the squares on the diagonal.
        ulong t1, t2, t3, t4, t5, t6, t7, c;
        c = ConstantTime.MulHigh(a.L0, a.L1, out t1);
        c = ConstantTime.MulAdd(a.L0, a.L2, c, 0, out t2);
        t4 = ConstantTime.MulAdd(a.L0, a.L3, c, 0, out t3);
        c = ConstantTime.MulAdd(a.L1, a.L2, t3, 0, out t3);
        t5 = ConstantTime.MulAdd(a.L1, a.L3, t4, c, out t4);
        t6 = ConstantTime.MulAdd(a.L2, a.L3, t5, 0, out t5);

        t7 = t6 >> 63;
        t6 = (t6 << 1) | (t5 >> 63);
        t5 = (t5 << 1) | (t4 >> 63);
        t4 = (t4 << 1) | (t3 >> 63);
        t3 = (t3 << 1) | (t2 >> 63);
        t2 = (t2 << 1) | (t1 >> 63);
        t1 <<= 1;

        ulong h0 = ConstantTime.MulHigh(a.L0, a.L0, out ulong t0);
        ulong h1 = ConstantTime.MulHigh(a.L1, a.L1, out ulong l1);
        ulong h2 = ConstantTime.MulHigh(a.L2, a.L2, out ulong l2);
        ulong h3 = ConstantTime.MulHigh(a.L3, a.L3, out ulong l3);
        c = 0;
        t1 = ConstantTime.AddCarry(t1, h0, ref c);
        t2 = ConstantTime.AddCarry(t2, l1, ref c);
        t3 = ConstantTime.AddCarry(t3, h1, ref c);
        t4 = ConstantTime.AddCarry(t4, l2, ref c);
        t5 = ConstantTime.AddCarry(t5, h2, ref c);
        t6 = ConstantTime.AddCarry(t6, l3, ref c);
        t7 = t7 + h3 + c;
        return ReduceWide(t0, t1, t2, t3, t4, t5, t6, t7);
    }

    /// <summary>1/a in variable time, for public a (0 for 0).</summary>
    public static FieldElement InvertVariableTime(in FieldElement a)
    {
        Span<ulong> r = stackalloc ulong[4];
        r[0] = a.L0;
        r[1] = a.L1;
        r[2] = a.L2;
        r[3] = a.L3;
        Span<ulong> m = stackalloc ulong[4];
        m[0] = 0xFFFFFFFEFFFFFC2F;
        m[1] = m[2] = m[3] = ulong.MaxValue;
        BinaryInverse.Invert(r, m, r);
        return new FieldElement(r[0], r[1], r[2], r[3]);
    }

    /// <summary>
    /// 1/a for secret a (0 for 0): a is multiplied by a fresh random factor β, the product (uniformly random,
    /// whatever a is) inverted in variable time, and the result multiplied by β again.
    /// </summary>
    public static FieldElement InvertBlinded(in FieldElement a, in FieldElement blind) =>
        Mul(InvertVariableTime(Mul(a, blind)), blind);

    /// <summary>
    /// A square root of a, as a^((p+1)/4); true when a has one (the result squared gives a back).
    /// Variable time is not needed here, but the chain is fixed anyway.
    /// </summary>
    public static bool TrySqrt(in FieldElement a, out FieldElement r)
    {
        // (p + 1)/4 in binary: 223 ones, a zero, 22 ones, 00001100.
        var x2 = Mul(Sqr(a), a);
        var x3 = Mul(Sqr(x2), a);
        var x223 = OnesTo223(x2, x3);
        var t = Mul(SqrN(x223, 23), Ones22(x2, x3));
        t = Mul(SqrN(t, 6), x2);
        r = SqrN(t, 2);
        return EqualMask(Sqr(r), a) != 0;
    }

    private static FieldElement Ones22(in FieldElement x2, in FieldElement x3)
    {
        var x6 = Mul(SqrN(x3, 3), x3);
        var x9 = Mul(SqrN(x6, 3), x3);
        var x11 = Mul(SqrN(x9, 2), x2);
        return Mul(SqrN(x11, 11), x11);
    }

    // a^(2^223 − 1) from a^3 and a^7: x_k stands for a^(2^k − 1).
    private static FieldElement OnesTo223(in FieldElement x2, in FieldElement x3)
    {
        var x22 = Ones22(x2, x3);
        var x44 = Mul(SqrN(x22, 22), x22);
        var x88 = Mul(SqrN(x44, 44), x44);
        var x176 = Mul(SqrN(x88, 88), x88);
        var x220 = Mul(SqrN(x176, 44), x44);
        return Mul(SqrN(x220, 3), x3);
    }

    private static FieldElement SqrN(FieldElement a, int n)
    {
        for (int i = 0; i < n; i++)
            a = Sqr(a);
        return a;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static FieldElement ReduceWide(ulong t0, ulong t1, ulong t2, ulong t3, ulong t4, ulong t5, ulong t6, ulong t7)
    {
        // t = lo + hi·2^256 ≡ lo + hi·R; the sum needs at most 34 bits above 2^256.
        ulong c = ConstantTime.MulAdd(t4, R, t0, 0, out ulong r0);
        c = ConstantTime.MulAdd(t5, R, t1, c, out ulong r1);
        c = ConstantTime.MulAdd(t6, R, t2, c, out ulong r2);
        c = ConstantTime.MulAdd(t7, R, t3, c, out ulong r3);
        var r = new FieldElement(r0, r1, r2, r3);
        FoldSmall(ref r, c);
        return r;
    }

    // r + top·2^256 with top < 2^35 → fully reduced r.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void FoldSmall(ref FieldElement r, ulong top)
    {
        ulong hi = ConstantTime.MulHigh(top, R, out ulong lo);
        ulong c = 0;
        r.L0 = ConstantTime.AddCarry(r.L0, lo, ref c);
        r.L1 = ConstantTime.AddCarry(r.L1, hi, ref c);
        r.L2 = ConstantTime.AddCarry(r.L2, 0, ref c);
        r.L3 = ConstantTime.AddCarry(r.L3, 0, ref c);
        Reduce(ref r, c);
    }

    // r + carry·2^256, below 2p, to the canonical value; returns 1 when p was subtracted.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong Reduce(ref FieldElement r, ulong carry)
    {
        // t = r + R. With a carry in, the value minus p is r + 2^256 − p = t (r is then small, so t does not
        // overflow); without one, the value is p or more exactly when t overflows, and t mod 2^256 is value − p.
        ulong t0 = r.L0 + R;
        ulong c = ConstantTime.Bit(t0 < R);
        ulong t1 = r.L1 + c;
        c = ConstantTime.Bit(t1 < c);
        ulong t2 = r.L2 + c;
        c = ConstantTime.Bit(t2 < c);
        ulong t3 = r.L3 + c;
        c = ConstantTime.Bit(t3 < c);
        ulong mask = 0 - (c | carry);
        r.L0 ^= (r.L0 ^ t0) & mask;
        r.L1 ^= (r.L1 ^ t1) & mask;
        r.L2 ^= (r.L2 ^ t2) & mask;
        r.L3 ^= (r.L3 ^ t3) & mask;
        return mask & 1;
    }
}
