namespace EdgeMeter.Crypto.Curves;

/// <summary>
/// u1·G + u2·P for public scalars and a public point (verification, recovery): Strauss–Shamir over
/// width-w NAF digits, one shared chain of doublings, G's odd multiples from a table built once (affine,
/// so its additions are mixed ones), P's odd multiples computed per call. Variable time; allocation-free.
/// </summary>
internal static class PublicMultiplier
{
    private const int GWindow = 8;   // digits ±1, ±3, …, ±127: 64 affine multiples of G
    private const int PWindow = 5;   // digits ±1, ±3, …, ±15: 8 multiples of P
    private const int MaxDigits = 258;

    private static readonly Lazy<FieldElement[]> LazyGTable = new(BuildGTable, LazyThreadSafetyMode.ExecutionAndPublication);

    public static JacobianPoint MultiplyAdd(in Scalar u1, in Scalar u2, in FieldElement px, in FieldElement py)
    {
        var gTable = LazyGTable.Value;
        Span<sbyte> gDigits = stackalloc sbyte[MaxDigits];
        Span<sbyte> pDigits = stackalloc sbyte[MaxDigits];
        int gLength = Wnaf(u1, GWindow, gDigits);
        int pLength = Wnaf(u2, PWindow, pDigits);

        Span<JacobianPoint> pTable = stackalloc JacobianPoint[1 << (PWindow - 2)];
        pTable[0] = JacobianPoint.FromAffine(px, py);
        var twice = JacobianPoint.Double(pTable[0]);
        for (int i = 1; i < pTable.Length; i++)
            pTable[i] = JacobianPoint.Add(pTable[i - 1], twice);

        var acc = JacobianPoint.Infinity;
        for (int i = Math.Max(gLength, pLength) - 1; i >= 0; i--)
        {
            acc = JacobianPoint.Double(acc);
            int g = gDigits[i];
            if (g != 0)
            {
                int index = (Math.Abs(g) >> 1) * 2;
                var y = gTable[index + 1];
                acc = JacobianPoint.AddAffine(acc, gTable[index], g > 0 ? y : FieldElement.Negate(y));
            }
            int p = pDigits[i];
            if (p != 0)
            {
                ref readonly var point = ref pTable[Math.Abs(p) >> 1];
                acc = JacobianPoint.Add(acc, p > 0 ? point : JacobianPoint.Negate(point));
            }
        }
        return acc;
    }

    /// <summary>Width-w NAF of k, least significant digit first; returns the number of digits.</summary>
    private static int Wnaf(in Scalar k, int w, Span<sbyte> digits)
    {
        digits.Clear();
        // Five words: adding a digit back may carry past 2^256 only in the top word, never out of it.
        Span<ulong> n = [k.L0, k.L1, k.L2, k.L3, 0];
        int length = 0;
        int i = 0;
        ulong windowMask = (1UL << w) - 1;
        while ((n[0] | n[1] | n[2] | n[3] | n[4]) != 0)
        {
            if ((n[0] & 1) != 0)
            {
                int d = (int)(n[0] & windowMask);
                if (d >= 1 << (w - 1))
                    d -= 1 << w;
                digits[i] = (sbyte)d;
                length = i + 1;
                // n −= d: subtract a small positive or add a small positive.
                if (d > 0)
                    SubSmall(n, (ulong)d);
                else
                    AddSmall(n, (ulong)-d);
            }
            ShiftRightOne(n);
            i++;
        }
        return length;
    }

    private static void SubSmall(Span<ulong> n, ulong d)
    {
        for (int j = 0; j < n.Length && d != 0; j++)
        {
            ulong before = n[j];
            n[j] = before - d;
            d = before < d ? 1UL : 0UL;
        }
    }

    private static void AddSmall(Span<ulong> n, ulong d)
    {
        for (int j = 0; j < n.Length && d != 0; j++)
        {
            n[j] += d;
            d = n[j] < d ? 1UL : 0UL;
        }
    }

    private static void ShiftRightOne(Span<ulong> n)
    {
        for (int j = 0; j < n.Length - 1; j++)
            n[j] = (n[j] >> 1) | (n[j + 1] << 63);
        n[^1] >>= 1;
    }

    // x, y of G, 3G, 5G, …, 127G, interleaved.
    private static FieldElement[] BuildGTable()
    {
        int count = 1 << (GWindow - 2);
        var table = new FieldElement[count * 2];
        var g = JacobianPoint.FromAffine(Secp256k1.Gx, Secp256k1.Gy);
        var twice = JacobianPoint.Double(g);
        var p = g;
        for (int i = 0; i < count; i++)
        {
            p.TryToAffine(out table[2 * i], out table[2 * i + 1]);
            p = JacobianPoint.Add(p, twice);
        }
        return table;
    }
}
