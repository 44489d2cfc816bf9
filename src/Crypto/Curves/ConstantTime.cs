using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics.Arm;
using System.Runtime.Intrinsics.X86;

namespace EdgeMeter.Crypto.Curves;

/// <summary>
/// Word operations without branches: carries and borrows come out as 0/1 words computed from the bits,
/// and conditions become all-ones/zero masks, so no jump and no memory address depends on the values.
/// </summary>
[SkipLocalsInit]
internal static class ConstantTime
{
    /// <summary>a + b + carry (carry 0 or 1); carry becomes the carry out.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong AddCarry(ulong a, ulong b, ref ulong carry)
    {
        ulong t = a + b;
        ulong s = t + carry;
        carry = Bit(t < a) | Bit(s < t);
        return s;
    }

    /// <summary>a − b − borrow (borrow 0 or 1); borrow becomes the borrow out.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong SubBorrow(ulong a, ulong b, ref ulong borrow)
    {
        ulong t = a - b;
        ulong d = t - borrow;
        borrow = Bit(a < b) | Bit(t < borrow);
        return d;
    }

    /// <summary>
    /// The 128-bit product a·b: returns the high word, the low one in <paramref name="lo"/>. The same as
    /// <see cref="Math.BigMul(ulong, ulong, out ulong)"/>, but that one's x64 form has mulx write the low word to memory
    /// and reads it back (a store and a load in every step of a multiplication chain, seen in the AOT code); here the
    /// low word is a plain multiplication and the high one mulx (umulh on arm64), both in registers.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong MulHigh(ulong a, ulong b, out ulong lo)
    {
        lo = a * b;
        if (Bmi2.X64.IsSupported)
            return Bmi2.X64.MultiplyNoFlags(a, b);
        if (ArmBase.Arm64.IsSupported)
            return ArmBase.Arm64.MultiplyHigh(a, b);
        return Math.BigMul(a, b, out _);
    }

    /// <summary>a·b + c + d, which always fits 128 bits: returns the high word, the low one in <paramref name="lo"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong MulAdd(ulong a, ulong b, ulong c, ulong d, out ulong lo)
    {
        ulong hi = MulHigh(a, b, out ulong l);
        ulong s = l + c;
        lo = s + d;
        return hi + Bit(s < c) + Bit(lo < d);
    }

    /// <summary>The 512-bit product of two 256-bit numbers given as little-endian limbs.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Mul256(ulong a0, ulong a1, ulong a2, ulong a3, ulong b0, ulong b1, ulong b2, ulong b3,
        out ulong t0, out ulong t1, out ulong t2, out ulong t3, out ulong t4, out ulong t5, out ulong t6, out ulong t7)
    {
        ulong c = MulHigh(a0, b0, out t0);
        c = MulAdd(a0, b1, c, 0, out t1);
        c = MulAdd(a0, b2, c, 0, out t2);
        t4 = MulAdd(a0, b3, c, 0, out t3);

        c = MulAdd(a1, b0, t1, 0, out t1);
        c = MulAdd(a1, b1, t2, c, out t2);
        c = MulAdd(a1, b2, t3, c, out t3);
        t5 = MulAdd(a1, b3, t4, c, out t4);

        c = MulAdd(a2, b0, t2, 0, out t2);
        c = MulAdd(a2, b1, t3, c, out t3);
        c = MulAdd(a2, b2, t4, c, out t4);
        t6 = MulAdd(a2, b3, t5, c, out t5);

        c = MulAdd(a3, b0, t3, 0, out t3);
        c = MulAdd(a3, b1, t4, c, out t4);
        c = MulAdd(a3, b2, t5, c, out t5);
        t7 = MulAdd(a3, b3, t6, c, out t6);
    }

    /// <summary>(c2, c1, c0) += a·b, a column of a schoolbook product.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Accumulate(ulong a, ulong b, ref ulong c0, ref ulong c1, ref ulong c2)
    {
        ulong hi = MulHigh(a, b, out ulong lo);
        c0 += lo;
        hi += Bit(c0 < lo);
        c1 += hi;
        c2 += Bit(c1 < hi);
    }

    /// <summary>(c2, c1, c0) += a.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void AccumulateWord(ulong a, ref ulong c0, ref ulong c1, ref ulong c2)
    {
        ulong carry = 0;
        c0 = AddCarry(c0, a, ref carry);
        c1 = AddCarry(c1, 0, ref carry);
        c2 += carry;
    }

    /// <summary>
    /// A comparison as a 0/1 word. The comparison is an IL <c>clt</c>/<c>cgt</c>, which the JIT compiles to
    /// <c>cmp</c> + <c>setcc</c>, never to a jump; the bit cast keeps the C# compiler from emitting a branch.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong Bit(bool condition) => Unsafe.BitCast<bool, byte>(condition);

    /// <summary>All ones when x is zero, else 0.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong ZeroMask(ulong x) => ((x | (0 - x)) >> 63) - 1;

    /// <summary>All ones when a equals b, else 0.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong EqualMask(ulong a, ulong b) => ZeroMask(a ^ b);
}
