using EdgeMeter.Crypto.Curves;

namespace EdgeMeter.Crypto.Tests.Curves;

/// <summary>
/// Batch verification sums each signature's table points in affine coordinates, all lanes a step at a time with one
/// shared inversion. Each lane must come out as the Jacobian sum of its points, also when a lane meets a doubling or
/// the point at infinity (which a device that knows its key can steer a sum into), and such a lane must not spoil the
/// lanes beside it (their shared product must never take its zero).
/// </summary>
public class AffineLanesTests
{
    private const int Stride = 2 * FixedBaseMultiplier.MaxDigits;

    /// <summary>Offsets of G's 7-bit table: window 0 holds m·G for m = 1..64 at 8·(m − 1).</summary>
    private static int MultipleOfG(int m) => 8 * (m - 1);

    [Fact]
    public void Lanes_that_double_or_cancel_are_summed_alone_and_the_lanes_beside_them_stay_right()
    {
        var g = FixedBaseMultiplier.GTable;
        int G = MultipleOfG(1), G2 = MultipleOfG(2), G3 = MultipleOfG(3), minusG = MultipleOfG(1) | AffineLanes.Negated;
        int[][] lanes =
        [
            [G2, G3, MultipleOfG(64)],                     // plain: 69·G
            [G, G],                                        // a doubling: 2·G
            [G, minusG],                                   // cancels: infinity
            [G, minusG, G2],                               // through infinity and out: 2·G
            [G2, minusG, G],                               // G, then a doubling: 2·G
            [],                                            // no points: infinity
            [G3],                                          // one point: 3·G
            [G3, MultipleOfG(5), MultipleOfG(7) | AffineLanes.Negated], // 3 + 5 − 7 = 1: G
        ];
        var (x, y, finite) = Sum(g, g, lanes);

        AssertPoint(g, MultipleOfG(2), x[1], y[1]);
        Assert.True(finite[1]);
        Assert.False(finite[2]);
        AssertPoint(g, MultipleOfG(2), x[3], y[3]);
        AssertPoint(g, MultipleOfG(2), x[4], y[4]);
        Assert.False(finite[5]);
        AssertPoint(g, MultipleOfG(3), x[6], y[6]);
        AssertPoint(g, MultipleOfG(1), x[7], y[7]);
        for (int l = 0; l < lanes.Length; l++)
            AssertSameAsJacobian(g, g, lanes[l], x[l], y[l], finite[l]);
    }

    [Fact]
    public void Random_lanes_of_two_tables_give_the_jacobian_sums()
    {
        // Table B: the multiples of some public point Q (here 12345·G), as a known signer's key table is.
        var q = Scalar.Read(Convert.FromHexString("0000000000000000000000000000000000000000000000000000000000003039"), out _);
        FixedBaseMultiplier.Multiply(q, out var qx, out var qy);
        var b = FixedBaseMultiplier.BuildTable(qx, qy, FixedBaseMultiplier.VerifyWindowBits);
        var a = FixedBaseMultiplier.GVerifyTable;
        var random = new Random(20261202);
        var bytes = new byte[32];
        for (int round = 0; round < 4; round++)
        {
            var lanes = new int[AffineLanes.MaxLanes][];
            for (int l = 0; l < lanes.Length; l++)
            {
                // Two public scalars recoded as verification does, e/s into A and r/s into B; now and then a lane that
                // ends where it began (a point and its negation appended), which must come out as its first part.
                var codes = new int[Stride];
                random.NextBytes(bytes);
                bytes[0] &= 0x7F;
                int n = FixedBaseMultiplier.Recode(Scalar.Read(bytes, out _), FixedBaseMultiplier.VerifyWindowBits, 0, codes);
                random.NextBytes(bytes);
                bytes[0] &= 0x7F;
                n += FixedBaseMultiplier.Recode(Scalar.Read(bytes, out _), FixedBaseMultiplier.VerifyWindowBits, AffineLanes.InTableB, codes.AsSpan(n));
                lanes[l] = codes[..Math.Min(n, random.Next(0, n + 8))];
            }
            var (x, y, finite) = Sum(a, b, lanes);
            for (int l = 0; l < lanes.Length; l++)
                AssertSameAsJacobian(a, b, lanes[l], x[l], y[l], finite[l]);
        }
    }

    [Fact]
    public void Recoded_scalars_summed_in_lanes_give_the_signing_multipliers_points()
    {
        // Two batches' worth: every edge scalar of the 10-bit recoding.
        foreach (var chunk in VerifyTableTests.EdgeValues().Chunk(AffineLanes.MaxLanes))
            SumsOfG(chunk.Select(VerifyTableTests.ScalarOf).ToArray());
    }

    private static void SumsOfG(Scalar[] ks)
    {
        var lanes = new int[ks.Length][];
        for (int l = 0; l < ks.Length; l++)
        {
            var codes = new int[Stride];
            lanes[l] = codes[..FixedBaseMultiplier.Recode(ks[l], FixedBaseMultiplier.VerifyWindowBits, 0, codes)];
        }
        var (x, y, finite) = Sum(FixedBaseMultiplier.GVerifyTable, [], lanes);
        for (int l = 0; l < ks.Length; l++)
        {
            FixedBaseMultiplier.Multiply(ks[l], out var ex, out var ey);
            Assert.True(finite[l]);
            Assert.Equal((ex.L0, ex.L1, ex.L2, ex.L3, ey.L0, ey.L1, ey.L2, ey.L3), (x[l].L0, x[l].L1, x[l].L2, x[l].L3, y[l].L0, y[l].L1, y[l].L2, y[l].L3));
        }
    }

    private static (FieldElement[] X, FieldElement[] Y, bool[] Finite) Sum(ulong[] a, ulong[] b, int[][] lanes)
    {
        var codes = new int[lanes.Length * Stride];
        var counts = new int[lanes.Length];
        for (int l = 0; l < lanes.Length; l++)
        {
            lanes[l].CopyTo(codes, l * Stride);
            counts[l] = lanes[l].Length;
        }
        var x = new FieldElement[lanes.Length];
        var y = new FieldElement[lanes.Length];
        var finite = new bool[lanes.Length];
        AffineLanes.Sum(a, b, codes, Stride, counts, x, y, finite);
        return (x, y, finite);
    }

    private static void AssertSameAsJacobian(ulong[] a, ulong[] b, int[] codes, FieldElement x, FieldElement y, bool finite)
    {
        var acc = JacobianPoint.Infinity;
        foreach (var code in codes)
        {
            var table = (code & AffineLanes.InTableB) != 0 ? b : a;
            var e = table.AsSpan(code & (AffineLanes.InTableB - 1), 8);
            var py = new FieldElement(e[4], e[5], e[6], e[7]);
            acc = JacobianPoint.AddAffine(acc, new FieldElement(e[0], e[1], e[2], e[3]), code < 0 ? FieldElement.Negate(py) : py);
        }
        Assert.Equal(acc.TryToAffine(out var ex, out var ey), finite);
        if (finite)
            Assert.Equal((ex.L0, ex.L1, ex.L2, ex.L3, ey.L0, ey.L1, ey.L2, ey.L3), (x.L0, x.L1, x.L2, x.L3, y.L0, y.L1, y.L2, y.L3));
    }

    private static void AssertPoint(ulong[] table, int offset, FieldElement x, FieldElement y) =>
        Assert.Equal(
            (table[offset], table[offset + 1], table[offset + 2], table[offset + 3], table[offset + 4], table[offset + 5], table[offset + 6], table[offset + 7]),
            (x.L0, x.L1, x.L2, x.L3, y.L0, y.L1, y.L2, y.L3));
}
