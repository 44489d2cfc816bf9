using System.Runtime.CompilerServices;

namespace EdgeMeter.Crypto.Curves;

/// <summary>
/// Sums of fixed-base table points for many verifications at once, in affine coordinates. Each lane (one signature)
/// adds its points one per step; all lanes take a step together and share the one division an affine addition needs
/// (Montgomery's trick: the lanes' x2 − x1 multiplied up, one inversion, walked back). Per addition that is 5M + 1S
/// plus a share of the inversion, against 7M + 4S for the Jacobian mixed addition, and the sums come out affine, with
/// no inversion at the end. Variable time: public data only (verification).
/// </summary>
/// <remarks>
/// An affine addition divides by x2 − x1, which is 0 when the sum so far is ± the point added (a doubling, or the
/// point at infinity). Honest signatures never get there short of solving a discrete logarithm, but a device that
/// knows its own key can steer a sum there; so a lane that meets it leaves the batch (its zero never enters the
/// shared product) and is summed again alone with the Jacobian formulas, which handle both cases.
/// </remarks>
[SkipLocalsInit]
internal static class AffineLanes
{
    /// <summary>Lanes <see cref="Sum"/> takes at most.</summary>
    public const int MaxLanes = 128;

    /// <summary>A point's code: the offset of its first word in table A, or in table B with this bit set.</summary>
    public const int InTableB = 1 << 30;

    /// <summary>A point's code with this bit set stands for the point negated (y → −y).</summary>
    public const int Negated = int.MinValue;

    private const int OffsetMask = InTableB - 1;

    /// <summary>
    /// For each lane l, the sum of the points <paramref name="codes"/>[l·stride ..][.. counts[l]] of tables
    /// <paramref name="a"/> and <paramref name="b"/> (affine points of 8 words: x then y, low limb first), as affine
    /// (x[l], y[l]) with finite[l] true, or finite[l] false when the sum is the point at infinity (no points at all,
    /// or points that cancel).
    /// </summary>
    public static void Sum(ReadOnlySpan<ulong> a, ReadOnlySpan<ulong> b, ReadOnlySpan<int> codes, int stride, ReadOnlySpan<int> counts,
        Span<FieldElement> x, Span<FieldElement> y, Span<bool> finite)
    {
        int lanes = counts.Length;
        if (lanes > MaxLanes || x.Length < lanes || y.Length < lanes || finite.Length < lanes)
            throw new ArgumentException($"At most {MaxLanes} lanes, with as many results.");
        Span<FieldElement> prefix = stackalloc FieldElement[MaxLanes];
        Span<FieldElement> dx = stackalloc FieldElement[MaxLanes];
        Span<bool> alone = stackalloc bool[MaxLanes];
        int steps = 0;
        for (int l = 0; l < lanes; l++)
        {
            if (counts[l] < 0 || counts[l] > stride)
                throw new ArgumentOutOfRangeException(nameof(counts), "A lane holds 0 to stride points.");
            alone[l] = false;
            finite[l] = counts[l] > 0;
            x[l] = y[l] = default;
            if (finite[l])
                Read(a, b, codes[l * stride], out x[l], out y[l]);
            steps = Math.Max(steps, counts[l]);
        }

        for (int s = 1; s < steps; s++)
        {
            // Up: each taking lane's x2 − x1 into the running product, the product before it kept.
            var product = FieldElement.One;
            int taking = 0;
            for (int l = 0; l < lanes; l++)
            {
                if (s >= counts[l] || alone[l])
                    continue;
                Read(a, b, codes[l * stride + s], out var px, out _);
                var d = FieldElement.Sub(px, x[l]);
                if (d.ZeroMask != 0)
                {
                    alone[l] = true;
                    continue;
                }
                prefix[l] = product;
                dx[l] = d;
                product = FieldElement.Mul(product, d);
                taking++;
            }
            if (taking == 0)
                continue;

            // Down: the inverse of the whole product times the product before a lane is that lane's 1/(x2 − x1).
            var inverse = FieldElement.InvertVariableTime(product);
            for (int l = lanes - 1; l >= 0; l--)
            {
                if (s >= counts[l] || alone[l])
                    continue;
                var dInverse = FieldElement.Mul(inverse, prefix[l]);
                inverse = FieldElement.Mul(inverse, dx[l]);
                Read(a, b, codes[l * stride + s], out var px, out var py);
                var lambda = FieldElement.Mul(FieldElement.Sub(py, y[l]), dInverse);
                var x3 = FieldElement.Sub(FieldElement.Sub(FieldElement.Sqr(lambda), x[l]), px);
                y[l] = FieldElement.Sub(FieldElement.Mul(lambda, FieldElement.Sub(x[l], x3)), y[l]);
                x[l] = x3;
            }
        }

        for (int l = 0; l < lanes; l++)
        {
            if (!alone[l])
                continue;
            var acc = JacobianPoint.Infinity;
            AddJacobian(ref acc, a, b, codes.Slice(l * stride, counts[l]));
            finite[l] = acc.TryToAffine(out x[l], out y[l]);
        }
    }

    /// <summary>
    /// acc + the points <paramref name="codes"/> of tables <paramref name="a"/> and <paramref name="b"/>, one Jacobian
    /// mixed addition each: every case (a doubling, the point at infinity) handled, no shared inversion.
    /// </summary>
    public static void AddJacobian(ref JacobianPoint acc, ReadOnlySpan<ulong> a, ReadOnlySpan<ulong> b, ReadOnlySpan<int> codes)
    {
        foreach (int code in codes)
        {
            Read(a, b, code, out var px, out var py);
            acc = JacobianPoint.AddAffine(acc, px, py);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Read(ReadOnlySpan<ulong> a, ReadOnlySpan<ulong> b, int code, out FieldElement x, out FieldElement y)
    {
        var e = ((code & InTableB) != 0 ? b : a).Slice(code & OffsetMask, 8);
        x = new FieldElement(e[0], e[1], e[2], e[3]);
        y = new FieldElement(e[4], e[5], e[6], e[7]);
        if (code < 0)
            y = FieldElement.Negate(y);
    }
}
