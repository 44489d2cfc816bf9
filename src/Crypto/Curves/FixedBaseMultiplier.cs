using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.CompilerServices;

namespace EdgeMeter.Crypto.Curves;

/// <summary>
/// k·G in constant time, for secret k (nonces, private keys). The scalar is recoded into 37 signed digits
/// d_i in [−64, 64) of 7 bits each (k = Σ d_i·128^i); window i holds the affine points m·128^i·G for
/// m = 1..64. For every window the whole row is read and the entry for |d_i| kept with masks, y is negated
/// by mask for a negative digit, the addition is always done, and a zero digit keeps the old sum by mask
/// rather than by skipping.
/// </summary>
/// <remarks>
/// The additions are Jacobian + affine (7M + 4S). Such a formula fails only when the running sum is the point
/// at infinity or ± the added point. The first is tracked with a mask (the sum starts at infinity and stays
/// there while the digits are zero). The second cannot happen: the running sum is P = Σ_{j&lt;i} d_j·128^j with
/// |P| &lt; 128^i/2 and the added point is d_i·128^i with |d_i| ≥ 1, so P ≠ ±d_i·128^i, and every partial sum
/// is far below n except the last, which is k itself (0 &lt; k &lt; n). The table (37 × 64 affine points,
/// 152 KB) is built once, on first use, from G with the public-data formulas.
/// </remarks>
[SkipLocalsInit]
internal static class FixedBaseMultiplier
{
    private const int WindowBits = 7;
    private const int Windows = (256 + WindowBits) / WindowBits; // 37: the top digit takes the last carry
    private const int Entries = 1 << (WindowBits - 1);
    private const int EntryWords = 8;

    /// <summary>
    /// The window of G's verification table: 26 signed 10-bit digits, 512 entries each (852 KB, built on first
    /// verification), so e·G/s costs 26 additions instead of 37. Signing keeps its 7-bit table, whose every row it
    /// reads whole.
    /// </summary>
    public const int VerifyWindowBits = 10;

    private static readonly Lazy<ulong[]> LazyTable = new(() => BuildTable(Secp256k1.Gx, Secp256k1.Gy), LazyThreadSafetyMode.ExecutionAndPublication);

    private static readonly Lazy<ulong[]> LazyVerifyTable = new(() => BuildTable(Secp256k1.Gx, Secp256k1.Gy, VerifyWindowBits), LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>The signing table of G's multiples (7-bit windows, built on first use).</summary>
    public static ulong[] GTable => LazyTable.Value;

    /// <summary>G's multiples in <see cref="VerifyWindowBits"/>-bit windows, for <see cref="AddMultiplePublic"/> in verification.</summary>
    public static ulong[] GVerifyTable => LazyVerifyTable.Value;

    /// <summary>
    /// The table and window for e·G in verifying <paramref name="signatures"/> signatures at once: the 10-bit table
    /// once a batch is big enough to pay for its 852 KB (a backlog), or once it exists; else the signing table, which a
    /// gateway holds anyway. A ledger that only sees live readings (a few per transaction) never builds the big one.
    /// </summary>
    public static (ulong[] Table, int WindowBits) GTableForVerifying(int signatures) =>
        signatures >= 16 || LazyVerifyTable.IsValueCreated ? (GVerifyTable, VerifyWindowBits) : (GTable, WindowBits);

    /// <summary>Words per 7-bit table (37 windows × 64 entries × 8 words).</summary>
    public const int TableWords = Windows * Entries * EntryWords;

    /// <summary>The window width of a table from <see cref="BuildTable"/> of <paramref name="words"/> words: 7 or <see cref="VerifyWindowBits"/>; 0 for any other length.</summary>
    public static int WindowBitsOf(int words) =>
        words == TableWords ? WindowBits : words == WindowsOf(VerifyWindowBits) * (1 << (VerifyWindowBits - 1)) * EntryWords ? VerifyWindowBits : 0;

    /// <summary>Signed digits of <paramref name="windowBits"/> bits that cover a scalar below 2^256 and the last carry.</summary>
    private static int WindowsOf(int windowBits) => (256 + windowBits) / windowBits;

    /// <summary>Signed digits at most in a public multiple (<see cref="Recode"/>): 37, with 7-bit windows.</summary>
    public const int MaxDigits = Windows;

    /// <summary>
    /// The table points whose sum is k·B, for public k and a table of B from <see cref="BuildTable"/> made with the
    /// same <paramref name="windowBits"/>: the signed digits of <see cref="Multiply"/> at that width, a zero digit
    /// skipped, each non-zero one as an <see cref="AffineLanes"/> code (the entry's first word, <see cref="AffineLanes.Negated"/>
    /// for a negative digit) ORed with <paramref name="flags"/>. Returns how many codes it wrote (at most 37 with 7-bit
    /// windows, 26 with 10-bit ones). Variable time: for verification only.
    /// </summary>
    public static int Recode(in Scalar k, int windowBits, int flags, Span<int> codes)
    {
        int windows = WindowsOf(windowBits), count = 0;
        ulong entries = 1UL << (windowBits - 1);
        ulong carry = 0;
        for (int i = 0; i < windows; i++)
        {
            ulong value = k.Window(i * windowBits, windowBits) + carry;
            carry = (value + entries) >> windowBits;
            ulong magnitude = carry != 0 ? 2 * entries - value : value;
            if (magnitude != 0)
                codes[count++] = (int)(((ulong)i * entries + magnitude - 1) * EntryWords) | flags | (carry != 0 ? AffineLanes.Negated : 0);
        }
        return count;
    }

    /// <summary>
    /// acc + k·B for public k (<see cref="Recode"/>): one mixed addition per non-zero digit and no doublings.
    /// Variable time: for verification only.
    /// </summary>
    public static void AddMultiplePublic(ref JacobianPoint acc, ReadOnlySpan<ulong> table, in Scalar k, int windowBits = WindowBits)
    {
        Span<int> codes = stackalloc int[MaxDigits];
        int count = Recode(k, windowBits, 0, codes);
        AffineLanes.AddJacobian(ref acc, table, default, codes[..count]);
    }

    /// <summary>k·G as affine coordinates, for 0 &lt; k &lt; n. Same instructions and memory accesses for every k.</summary>
    public static void Multiply(in Scalar k, out FieldElement x, out FieldElement y)
    {
        var table = MemoryMarshal.Cast<ulong, Vector128<ulong>>(LazyTable.Value.AsSpan());
        var acc = new JacobianPoint { X = FieldElement.One, Y = FieldElement.One, Z = FieldElement.One };
        ulong atInfinity = ulong.MaxValue;
        ulong carry = 0;
        for (int i = 0; i < Windows; i++)
        {
            // Signed recoding without branches: a window value v of 64 or more (with the carry in, v ≤ 128)
            // becomes the digit v − 128, of magnitude 128 − v, and carries one into the next window.
            ulong value = k.Window(i * WindowBits, WindowBits) + carry;
            carry = (value + Entries) >> WindowBits;
            ulong negative = 0 - carry;
            ulong magnitude = ((2 * Entries - value) & negative) | (value & ~negative);

            // Read the whole row, 64 bytes per entry, and keep the wanted entry with masks.
            var row = table.Slice(i * Entries * 4, Entries * 4);
            Vector128<ulong> x01 = default, x23 = default, y01 = default, y23 = default;
            for (int j = 0; j < Entries; j++)
            {
                var take = Vector128.Create(ConstantTime.EqualMask(magnitude, (ulong)(j + 1)));
                x01 |= row[4 * j] & take;
                x23 |= row[4 * j + 1] & take;
                y01 |= row[4 * j + 2] & take;
                y23 |= row[4 * j + 3] & take;
            }
            var px = new FieldElement(x01.GetElement(0), x01.GetElement(1), x23.GetElement(0), x23.GetElement(1));
            var py = new FieldElement(y01.GetElement(0), y01.GetElement(1), y23.GetElement(0), y23.GetElement(1));
            FieldElement.Select(ref py, FieldElement.Negate(py), negative);

            var sum = AddAffine(acc, px, py);
            // From infinity, the sum is the table point itself.
            FieldElement.Select(ref sum.X, px, atInfinity);
            FieldElement.Select(ref sum.Y, py, atInfinity);
            FieldElement.Select(ref sum.Z, FieldElement.One, atInfinity);
            ulong keep = ~ConstantTime.ZeroMask(magnitude);
            FieldElement.Select(ref acc.X, sum.X, keep);
            FieldElement.Select(ref acc.Y, sum.Y, keep);
            FieldElement.Select(ref acc.Z, sum.Z, keep);
            atInfinity &= ~keep;
        }

        // x = X/Z², y = Y/Z³. Z depends on k, so it is inverted blinded.
        var zi = FieldElement.InvertBlinded(acc.Z, Blinding.NextFieldElement());
        var zi2 = FieldElement.Sqr(zi);
        x = FieldElement.Mul(acc.X, zi2);
        y = FieldElement.Mul(acc.Y, FieldElement.Mul(zi2, zi));
    }

    /// <summary>(X1 : Y1 : Z1) + (x2, y2) without branches; wrong only in the cases the remarks rule out.</summary>
    private static JacobianPoint AddAffine(in JacobianPoint p, in FieldElement x2, in FieldElement y2)
    {
        var z1z1 = FieldElement.Sqr(p.Z);
        var u2 = FieldElement.Mul(x2, z1z1);
        var s2 = FieldElement.Mul(y2, FieldElement.Mul(p.Z, z1z1));
        var h = FieldElement.Sub(u2, p.X);
        var r = FieldElement.Sub(s2, p.Y);
        var hh = FieldElement.Sqr(h);
        var hhh = FieldElement.Mul(h, hh);
        var v = FieldElement.Mul(p.X, hh);
        JacobianPoint sum;
        sum.X = FieldElement.Sub(FieldElement.Sub(FieldElement.Sqr(r), hhh), FieldElement.Add(v, v));
        sum.Y = FieldElement.Sub(FieldElement.Mul(r, FieldElement.Sub(v, sum.X)), FieldElement.Mul(p.Y, hhh));
        sum.Z = FieldElement.Mul(p.Z, h);
        return sum;
    }

    /// <summary>
    /// The affine multiples m·2^(w·i)·B (i below the window count, m = 1..2^(w−1)) of a public point B for windows of
    /// w = <paramref name="windowBits"/> bits, 8 words each (x then y, low limb first): G's for signing (7 bits) and
    /// verification (<see cref="VerifyWindowBits"/>), a known signer's key for verification (7 bits, <see cref="Signing.KnownSigner"/>).
    /// </summary>
    public static ulong[] BuildTable(in FieldElement bx, in FieldElement by, int windowBits = WindowBits)
    {
        int windows = WindowsOf(windowBits), entries = 1 << (windowBits - 1);
        var points = new JacobianPoint[windows * entries];
        var windowBase = JacobianPoint.FromAffine(bx, by);
        for (int i = 0; i < windows; i++)
        {
            var p = windowBase;
            for (int j = 0; j < entries; j++)
            {
                points[i * entries + j] = p;
                p = JacobianPoint.Add(p, windowBase);
            }
            // p is now (entries + 1)·base; the next base is 2·entries·base.
            for (int j = entries + 1; j < 2 * entries; j++)
                p = JacobianPoint.Add(p, windowBase);
            windowBase = p;
        }

        // All to affine with one inversion (Montgomery's trick): prefix products, one inverse, walk back.
        var prefix = new FieldElement[points.Length];
        var running = FieldElement.One;
        for (int i = 0; i < points.Length; i++)
        {
            prefix[i] = running;
            running = FieldElement.Mul(running, points[i].Z);
        }
        var inverse = FieldElement.InvertVariableTime(running);
        var table = new ulong[points.Length * EntryWords];
        for (int i = points.Length - 1; i >= 0; i--)
        {
            var zi = FieldElement.Mul(inverse, prefix[i]);
            inverse = FieldElement.Mul(inverse, points[i].Z);
            var zi2 = FieldElement.Sqr(zi);
            var x = FieldElement.Mul(points[i].X, zi2);
            var y = FieldElement.Mul(points[i].Y, FieldElement.Mul(zi2, zi));
            var e = table.AsSpan(i * EntryWords, EntryWords);
            e[0] = x.L0; e[1] = x.L1; e[2] = x.L2; e[3] = x.L3;
            e[4] = y.L0; e[5] = y.L1; e[6] = y.L2; e[7] = y.L3;
        }
        return table;
    }
}
