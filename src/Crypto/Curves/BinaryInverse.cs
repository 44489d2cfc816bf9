using System.Runtime.CompilerServices;

namespace EdgeMeter.Crypto.Curves;

/// <summary>
/// 1/a modulo an odd 256-bit modulus by the binary extended Euclidean algorithm. Variable time: for public
/// values, or for secret ones multiplied by a fresh random factor first (blinding), so that the running
/// time depends only on a uniformly random number. Values are little-endian 4-limb numbers below the modulus.
/// </summary>
[SkipLocalsInit]
internal static class BinaryInverse
{
    /// <summary>1/a mod m for 0 &lt; a &lt; m, m odd; 0 for a = 0. The result may overwrite a.</summary>
    public static void Invert(scoped ReadOnlySpan<ulong> a, scoped ReadOnlySpan<ulong> m, scoped Span<ulong> result)
    {
        // Invariants: x1·a ≡ u and x2·a ≡ v (mod m); gcd(u, v) = 1 throughout.
        Span<ulong> u = stackalloc ulong[4];
        Span<ulong> v = stackalloc ulong[4];
        Span<ulong> x1 = stackalloc ulong[4];
        Span<ulong> x2 = stackalloc ulong[4];
        a.CopyTo(u);
        m.CopyTo(v);
        x1.Clear();
        x1[0] = 1;
        x2.Clear();
        if (IsZero(u))
        {
            result.Clear();
            return;
        }

        while (!IsOne(u) && !IsOne(v))
        {
            while ((u[0] & 1) == 0)
            {
                ShiftRight(u, 0);
                Halve(x1, m);
            }
            while ((v[0] & 1) == 0)
            {
                ShiftRight(v, 0);
                Halve(x2, m);
            }
            if (Compare(u, v) >= 0)
            {
                Subtract(u, v);
                SubtractMod(x1, x2, m);
            }
            else
            {
                Subtract(v, u);
                SubtractMod(x2, x1, m);
            }
        }
        (IsOne(u) ? x1 : x2).CopyTo(result);
    }

    // x / 2 mod m: x, or x + m when x is odd, shifted right with the carry brought in on top.
    private static void Halve(Span<ulong> x, ReadOnlySpan<ulong> m)
    {
        ulong carry = 0;
        if ((x[0] & 1) != 0)
        {
            for (int i = 0; i < 4; i++)
                x[i] = ConstantTime.AddCarry(x[i], m[i], ref carry);
        }
        ShiftRight(x, carry);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void ShiftRight(Span<ulong> x, ulong top)
    {
        x[0] = (x[0] >> 1) | (x[1] << 63);
        x[1] = (x[1] >> 1) | (x[2] << 63);
        x[2] = (x[2] >> 1) | (x[3] << 63);
        x[3] = (x[3] >> 1) | (top << 63);
    }

    private static ulong Subtract(Span<ulong> x, ReadOnlySpan<ulong> y)
    {
        ulong borrow = 0;
        for (int i = 0; i < 4; i++)
            x[i] = ConstantTime.SubBorrow(x[i], y[i], ref borrow);
        return borrow;
    }

    // x = x − y mod m, for x, y below m.
    private static void SubtractMod(Span<ulong> x, ReadOnlySpan<ulong> y, ReadOnlySpan<ulong> m)
    {
        if (Subtract(x, y) != 0)
        {
            ulong carry = 0;
            for (int i = 0; i < 4; i++)
                x[i] = ConstantTime.AddCarry(x[i], m[i], ref carry);
        }
    }

    private static int Compare(ReadOnlySpan<ulong> x, ReadOnlySpan<ulong> y)
    {
        for (int i = 3; i >= 0; i--)
        {
            if (x[i] != y[i])
                return x[i] > y[i] ? 1 : -1;
        }
        return 0;
    }

    private static bool IsOne(ReadOnlySpan<ulong> x) => x[0] == 1 && (x[1] | x[2] | x[3]) == 0;

    private static bool IsZero(ReadOnlySpan<ulong> x) => (x[0] | x[1] | x[2] | x[3]) == 0;
}
