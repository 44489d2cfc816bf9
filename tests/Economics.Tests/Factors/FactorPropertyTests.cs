using CsCheck;
using EdgeMeter.Economics;
using Xunit;

namespace EdgeMeter.Economics.Tests.Factors;

/// <summary>Properties of the calculator over generated parameters and months (CsCheck).</summary>
public sealed class FactorPropertyTests
{
    private static readonly TimeZoneInfo Berlin = TimeZoneInfo.FindSystemTimeZoneById("Europe/Berlin");
    private static readonly FactorMonth March = new(2026, 3);

    /// <summary>Decimals with at most 3 places in [0, max].</summary>
    private static Gen<decimal> Amount(long maxThousandths) => Gen.Long[0, maxThousandths].Select(x => x / 1000m);

    private static readonly Gen<FactorParams> GenParams =
        Gen.Select(
            Gen.Select(Amount(50_000), Amount(20_000), Amount(10_000), Amount(5_000), Gen.Long[0, 50]),
            Gen.Select(Amount(5_000), Amount(5_000), Amount(5_000), Gen.Long[1, 20_000].Select(x => x / 1000m), Gen.Long[0, 10]),
            (a, b) => Params(
                gamma: a.Item1, f1: a.Item2 - 5m, width: a.Item3 + 0.001m, mu: a.Item4, nMax: a.Item5,
                lambda: b.Item1, delta: b.Item2, stepFactor: b.Item3, threshold: b.Item4, tokensPer: b.Item5));

    private static readonly Gen<ConsumptionInterval[]> GenMonth =
        Gen.Select(Amount(5_000), Gen.Int[0, 1000], Amount(5_000), Gen.Int[0, 1000])
            .Array[1, 40]
            .Select(rows => rows.Select((r, i) => new ConsumptionInterval(
                new DateTimeOffset(2026, 3, 2, 0, 0, 0, TimeSpan.Zero).AddMinutes(15 * i),
                15,
                r.Item1,
                r.Item1 * r.Item2 / 1000m,
                r.Item3,
                r.Item3 * r.Item4 / 1000m)).ToArray());

    internal static FactorParams Params(
        decimal gamma = 10m, decimal f1 = 2m, decimal width = 3m, decimal mu = 3m, long nMax = 10, decimal lambda = 2m,
        decimal delta = 0.01m, decimal stepFactor = 1m, decimal threshold = 2m, long tokensPer = 3) => new()
        {
            TimeZoneId = "Europe/Berlin",
            TimeZone = Berlin,
            Role = FactorRole.Consumer,
            Alpha = 1m,
            Beta = 1m,
            Gamma = gamma,
            Delta = delta,
            EfGridKgPerKwh = 0.4m,
            F1 = f1,
            F2 = f1 + width,
            Mu = mu,
            Lambda = lambda,
            NMax = nMax,
            CongestionSteps = [new CongestionStep(0.5m, stepFactor), new CongestionStep(2m, stepFactor * 3)],
            CongestionThreshold = threshold,
            TokensPerCongestionThreshold = tokensPer,
        };

    [Fact]
    public void More_clean_energy_never_lowers_share_factor_or_tokens()
    {
        Gen.Select(GenParams, GenMonth, Gen.Int[0, 39]).Sample((p, month, pick) =>
        {
            var k = pick % month.Length;
            var greener = month.ToArray();
            greener[k] = greener[k] with { CleanElecKwh = greener[k].ElecKwh, CleanHeatKwh = greener[k].HeatKwh };
            // A congestion event over the whole month, so congestion tokens are part of the total being compared.
            FactorEvent[] events = [new("c", FactorEventKind.Congestion, month[0].Start, month[^1].Start.AddMinutes(15))];

            var before = FactorCalculator.Compute(March, p, month, events);
            var after = FactorCalculator.Compute(March, p, greener, events);

            Assert.True(after.CleanShare >= before.CleanShare);
            Assert.True(after.FDemand >= before.FDemand);
            Assert.True(after.CarbonTokens >= before.CarbonTokens);
            Assert.True(after.TotalTokens >= before.TotalTokens);
        });
    }

    [Fact]
    public void Carbon_tokens_are_monotonic_in_the_factor()
    {
        Gen.Select(GenParams, Amount(20_000), Amount(20_000)).Sample((p, x, y) =>
        {
            var (lo, hi) = x <= y ? (x - 10m, y - 10m) : (y - 10m, x - 10m);
            Assert.True(FactorCalculator.CarbonTokens(p, lo) <= FactorCalculator.CarbonTokens(p, hi));
        });
    }

    [Fact]
    public void Totals_never_exceed_n_max()
    {
        Gen.Select(GenParams, GenMonth, Amount(10_000), Gen.Int[0, 39], Gen.Int[1, 16]).Sample((p, month, carryIn, at, length) =>
        {
            var start = month[at % month.Length].Start;
            FactorEvent[] events =
            [
                new("c", FactorEventKind.Congestion, start, start.AddMinutes(15 * length)),
                new("d", FactorEventKind.DemandResponse, start, start.AddMinutes(15 * length)),
            ];
            var r = FactorCalculator.Compute(March, p, month, events, carryIn);
            Assert.True(r.CarbonTokens <= p.NMax);
            Assert.True(r.TotalTokens <= p.NMax);
            Assert.Equal(r.CarbonTokens + r.CongestionTokens > 0 ? Math.Min(r.CarbonTokens + r.CongestionTokens, p.NMax) : r.CarbonTokens + r.CongestionTokens, r.TotalTokens);
        });
    }

    [Fact]
    public void Thresholds_are_exact()
    {
        Gen.Select(GenParams, Gen.Long[0, 1_000_000], Gen.Int[1, 20]).Sample((p, m, digits) =>
        {
            // At and between the thresholds: nothing.
            Assert.Equal(0, FactorCalculator.CarbonTokens(p, p.F1));
            Assert.Equal(0, FactorCalculator.CarbonTokens(p, p.F2));
            Assert.Equal(0, FactorCalculator.CarbonTokens(p, (p.F1 + p.F2) / 2));
            // Any step below F1, however small, is already a penalty of one token (μ ≤ 5, ε ≤ 0.1: μ·ε ≤ 0.5).
            var epsilon = 1m / Pow10(digits);
            Assert.Equal(p.Mu > 0 ? -1 : 0, FactorCalculator.CarbonTokens(p, p.F1 - epsilon));
            // F2 + m/λ earns exactly m (capped), just below it m − 1.
            if (p.Lambda > 0)
            {
                var f = p.F2 + (m / p.Lambda);
                if (p.Lambda * (f - p.F2) == m)
                {
                    Assert.Equal(Math.Min(m, p.NMax), FactorCalculator.CarbonTokens(p, f));
                    if (m > 0)
                    {
                        var justBelow = p.F2 + ((m - 0.000001m) / p.Lambda);
                        Assert.Equal(Math.Min(m - 1, p.NMax), FactorCalculator.CarbonTokens(p, justBelow));
                    }
                }
            }
        });
    }

    [Fact]
    public void Penalty_below_f1_is_the_floor_of_mu_times_the_gap()
    {
        Gen.Select(GenParams, Gen.Long[1, 10_000_000]).Sample((p, gapMillionths) =>
        {
            var gap = gapMillionths / 1_000_000m;
            var expected = -(long)decimal.Ceiling(p.Mu * gap);
            Assert.Equal(expected, FactorCalculator.CarbonTokens(p, p.F1 - gap));
        });
    }

    [Fact]
    public void Congestion_carry_is_conserved()
    {
        Gen.Select(Amount(100_000), Amount(100_000), Gen.Long[1, 50_000].Select(x => x / 1000m), Gen.Long[0, 100]).Sample((carryIn, c, threshold, per) =>
        {
            var tokens = FactorCalculator.CongestionTokens(carryIn, c, threshold, per, out var carryOut);
            Assert.InRange(carryOut, 0m, threshold);
            Assert.NotEqual(threshold, carryOut);
            var whole = decimal.Floor((carryIn + c - carryOut) / threshold);
            Assert.Equal(carryIn + c, (whole * threshold) + carryOut);
            Assert.Equal((long)whole * per, tokens);
        });
    }

    [Fact]
    public void Splitting_congestion_over_months_issues_the_same_tokens()
    {
        Gen.Select(Amount(100_000), Amount(100_000), Amount(100_000), Gen.Long[1, 50_000].Select(x => x / 1000m)).Sample((carryIn, c1, c2, threshold) =>
        {
            var first = FactorCalculator.CongestionTokens(carryIn, c1, threshold, 7, out var carry1);
            var second = FactorCalculator.CongestionTokens(carry1, c2, threshold, 7, out var carry2);
            var once = FactorCalculator.CongestionTokens(carryIn, c1 + c2, threshold, 7, out var carryOnce);
            Assert.Equal(once, first + second);
            Assert.Equal(carryOnce, carry2);
        });
    }

    [Fact]
    public void Step_function_takes_the_largest_step_not_above_delta_p()
    {
        CongestionStep[] steps = [new(1m, 0.5m), new(3m, 2m), new(2m, 1m)];
        Assert.Equal(0m, FactorCalculator.StepFactor(steps, 0.999999m));
        Assert.Equal(0.5m, FactorCalculator.StepFactor(steps, 1m));
        Assert.Equal(0.5m, FactorCalculator.StepFactor(steps, 1.999m));
        Assert.Equal(1m, FactorCalculator.StepFactor(steps, 2m));
        Assert.Equal(2m, FactorCalculator.StepFactor(steps, 3m));
        Assert.Equal(2m, FactorCalculator.StepFactor(steps, 1000m));
    }

    [Fact]
    public void Clean_share_is_zero_without_energy()
    {
        var r = FactorCalculator.Compute(March, Params(), [], []);
        Assert.Equal((0m, 0m, 0), (r.CleanShare, r.FDemand, r.IntervalCount));
        // F = 0 < F1 = 2 → ⌊3·(0 − 2)⌋ = −6
        Assert.Equal(-6, r.TotalTokens);
    }

    private static decimal Pow10(int n)
    {
        var v = 1m;
        for (var i = 0; i < n; i++)
        {
            v *= 10m;
        }
        return v;
    }
}
