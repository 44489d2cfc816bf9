namespace EdgeMeter.Crypto.Curves;

/// <summary>
/// k·G in constant time, for secret k (nonces, private keys). The scalar is recoded into 43 signed digits
/// d_i in [−32, 32) of 6 bits each (k = Σ d_i·64^i); window i holds the affine points m·64^i·G for
/// m = 1..32. For every window the whole row is read and the entry for |d_i| kept with masks, y is
/// negated by mask for a negative digit, the addition is always done, and a zero digit keeps the old sum
/// by mask rather than by skipping. The additions use the complete projective formulas of Renes, Costello
/// and Batina (2016, algorithm 8 for a = 0), which have no exceptional cases for the running sum, so no
/// branch is needed for the point at infinity either.
/// </summary>
/// <remarks>The table (43 × 32 points, 88 KB) is built once, on first use, from G with the public-data formulas.</remarks>
internal static class FixedBaseMultiplier
{
    private const int WindowBits = 6;
    private const int Windows = (256 + WindowBits) / WindowBits; // 43: the top digit takes the last carry
    private const int Entries = 1 << (WindowBits - 1);
    private const int EntryWords = 8;
    private const ulong B3 = 21; // 3·b for y² = x³ + 7

    private static readonly Lazy<ulong[]> LazyTable = new(BuildTable, LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>k·G as affine coordinates, for 0 &lt; k &lt; n. Same instructions and memory accesses for every k.</summary>
    public static void Multiply(in Scalar k, out FieldElement x, out FieldElement y)
    {
        var table = LazyTable.Value.AsSpan();
        // The point at infinity is (0 : 1 : 0) in projective coordinates.
        FieldElement x3 = default, y3 = FieldElement.One, z3 = default;
        ulong carry = 0;
        for (int i = 0; i < Windows; i++)
        {
            // Signed recoding without branches: a window value v of 32 or more (with the carry in, v ≤ 64)
            // becomes the digit v − 64, of magnitude 64 − v, and carries one into the next window.
            ulong value = k.Window(i * WindowBits, WindowBits) + carry;
            carry = (value + Entries) >> WindowBits;
            ulong negative = 0 - carry;
            ulong magnitude = ((2 * Entries - value) & negative) | (value & ~negative);

            var row = table.Slice(i * Entries * EntryWords, Entries * EntryWords);
            FieldElement px = default, py = default;
            for (int j = 0; j < Entries; j++)
            {
                ulong take = ConstantTime.EqualMask(magnitude, (ulong)(j + 1));
                var e = row.Slice(j * EntryWords, EntryWords);
                px.L0 |= e[0] & take;
                px.L1 |= e[1] & take;
                px.L2 |= e[2] & take;
                px.L3 |= e[3] & take;
                py.L0 |= e[4] & take;
                py.L1 |= e[5] & take;
                py.L2 |= e[6] & take;
                py.L3 |= e[7] & take;
            }
            FieldElement.Select(ref py, FieldElement.Negate(py), negative);

            AddMixed(x3, y3, z3, px, py, out var sx, out var sy, out var sz);
            ulong keep = ~ConstantTime.ZeroMask(magnitude);
            FieldElement.Select(ref x3, sx, keep);
            FieldElement.Select(ref y3, sy, keep);
            FieldElement.Select(ref z3, sz, keep);
        }

        // Projective: x = X/Z, y = Y/Z. Z is not zero for 0 < k < n; it depends on k, so it is blinded.
        var zi = FieldElement.InvertBlinded(z3, Blinding.NextFieldElement());
        x = FieldElement.Mul(x3, zi);
        y = FieldElement.Mul(y3, zi);
    }

    /// <summary>(X1 : Y1 : Z1) + (x2, y2) with the complete mixed formula; the affine point must be on the curve.</summary>
    private static void AddMixed(in FieldElement x1, in FieldElement y1, in FieldElement z1, in FieldElement x2, in FieldElement y2,
        out FieldElement x3, out FieldElement y3, out FieldElement z3)
    {
        var t0 = FieldElement.Mul(x1, x2);
        var t1 = FieldElement.Mul(y1, y2);
        var t3 = FieldElement.Mul(FieldElement.Add(x2, y2), FieldElement.Add(x1, y1));
        t3 = FieldElement.Sub(t3, FieldElement.Add(t0, t1));        // x1·y2 + x2·y1
        var t4 = FieldElement.Add(FieldElement.Mul(y2, z1), y1);    // y1 + y2·z1
        var yy = FieldElement.Add(FieldElement.Mul(x2, z1), x1);    // x1 + x2·z1
        var x3t = FieldElement.Add(t0, t0);
        t0 = FieldElement.Add(x3t, t0);                             // 3·x1·x2
        var t2 = FieldElement.MulSmall(z1, B3);
        var zz = FieldElement.Add(t1, t2);
        t1 = FieldElement.Sub(t1, t2);
        yy = FieldElement.MulSmall(yy, B3);
        x3 = FieldElement.Sub(FieldElement.Mul(t3, t1), FieldElement.Mul(t4, yy));
        y3 = FieldElement.Add(FieldElement.Mul(t1, zz), FieldElement.Mul(yy, t0));
        z3 = FieldElement.Add(FieldElement.Mul(zz, t4), FieldElement.Mul(t0, t3));
    }

    private static ulong[] BuildTable()
    {
        var points = new JacobianPoint[Windows * Entries];
        var windowBase = JacobianPoint.FromAffine(Secp256k1.Gx, Secp256k1.Gy);
        for (int i = 0; i < Windows; i++)
        {
            var p = windowBase;
            for (int j = 0; j < Entries; j++)
            {
                points[i * Entries + j] = p;
                p = JacobianPoint.Add(p, windowBase);
            }
            // p is now (Entries + 1)·base; the next base is 64·base.
            for (int j = Entries + 1; j < 2 * Entries; j++)
                p = JacobianPoint.Add(p, windowBase);
            windowBase = p;
        }

        var table = new ulong[Windows * Entries * EntryWords];
        for (int i = 0; i < points.Length; i++)
        {
            points[i].TryToAffine(out var x, out var y);
            var e = table.AsSpan(i * EntryWords, EntryWords);
            e[0] = x.L0; e[1] = x.L1; e[2] = x.L2; e[3] = x.L3;
            e[4] = y.L0; e[5] = y.L1; e[6] = y.L2; e[7] = y.L3;
        }
        return table;
    }
}
