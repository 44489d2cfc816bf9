using EdgeMeter.Agent.Factors;
using EdgeMeter.Economics;
using Xunit;
using static EdgeMeter.Agent.Tests.Factors.FactorTestSupport;

namespace EdgeMeter.Agent.Tests.Factors;

/// <summary>
/// Each scenario file computed by hand from the definitions (README.md in src/EdgeAgent/Factors), through the
/// calculator (exact decimals) and through <c>edgemeter factors --json</c> (6-place rounding).
/// Common parameters unless a scenario overrides them: γ=10, δ=0.01, EF=0.4, F1=2, F2=5, μ=3, λ=2, N_max=10,
/// g = {≥1 kW: 0.5, ≥3 kW: 2}, C_T=2, T_C=3.
/// </summary>
[Collection(FactorsConsoleCollection.Name)]
public sealed class ScenarioTests
{
    [Fact]
    public async Task Penalty_is_floored_toward_minus_infinity_and_not_capped()
    {
        // UTC month 2026-03; Feb 28 23:00Z and Apr 1 00:00Z are outside it.
        // E_elec = 8 + 6 = 14, E_clean_elec = 1 + 0 = 1, E_heat = 2 + 4 = 6, E_clean_heat = 0 + 0.5 = 0.5
        // cleanShare = (1 + 0.5) / (14 + 6) = 1.5 / 20 = 0.075
        // F_demand = 10·0.075 + 0.01·0.4·0 = 0.75 < F1 = 2 → ⌊μ·(F − F1)⌋ = ⌊10·(0.75 − 2)⌋ = ⌊−12.5⌋ = −13
        // no congestion: C = 0, carry 0, 0 tokens; total −13 (|−13| > N_max = 10: negatives are not capped)
        var r = Compute("penalty.json");
        Assert.Equal(2, r.IntervalCount);
        Assert.Equal(14m, r.ElecKwh);
        Assert.Equal(1m, r.CleanElecKwh);
        Assert.Equal(6m, r.HeatKwh);
        Assert.Equal(0.5m, r.CleanHeatKwh);
        Assert.Equal(0.075m, r.CleanShare);
        Assert.Equal(0.75m, r.FDemand);
        Assert.Null(r.FSupply);
        Assert.Equal(0m, r.EDrKwh);
        Assert.Equal(-13, r.CarbonTokens);
        Assert.Equal(0, r.CongestionTokens);
        Assert.Equal(-13, r.TotalTokens);
        Assert.Equal(
            new CliOutputValues("2026-03", 0.075m, 0.75m, null, 0m, 0m, 0m, -13, 0, -13),
            await RunScenarioJsonAsync(Scenario("penalty.json")));
    }

    [Fact]
    public async Task Positive_total_is_capped_at_n_max()
    {
        // λ = 3. All four March intervals clean: cleanShare = 16/16 = 1; F_demand = 10·1 + 0 = 10
        // carbon = min(⌊3·(10 − 5)⌋, 10) = min(15, 10) = 10
        // congestion c1 [03-20 17:00, 18:00): interval 03-20 17:00 (60 min, 1 kWh); history k=1..3 (03-19/18/17 17:00) = 5, 5, 5
        //   → 3 days ≥ 3: baseline 5; reduction 5 − 1 = 4 kWh; ΔP = 4/1 h = 4 kW; g(4) = 2 (step ≥ 3)
        //   C = 2·(60/60) = 2; carryIn 0 + 2 = 2 = 1·C_T → 1·3 = 3 tokens, carry 0
        // total = 10 + 3 = 13 > N_max → 10
        var r = Compute("cap.json");
        Assert.Equal(1m, r.CleanShare);
        Assert.Equal(10m, r.FDemand);
        Assert.Equal(2m, r.CongestionFactor);
        Assert.Equal(0m, r.CongestionCarryOut);
        Assert.Equal(10, r.CarbonTokens);
        Assert.Equal(3, r.CongestionTokens);
        Assert.Equal(10, r.TotalTokens);
        var row = Assert.Single(r.Baselines);
        Assert.Equal((BaselineMethod.History, 3, 5m, 4m, 4m, 2m), (row.Method, row.SampleCount, row.BaselineKwh, row.ReductionKwh, row.DeltaPKw, row.StepFactor));
        Assert.Equal(
            new CliOutputValues("2026-03", 1m, 10m, null, 0m, 2m, 0m, 10, 3, 10),
            await RunScenarioJsonAsync(Scenario("cap.json")));
    }

    [Fact]
    public async Task Congestion_carry_in_adds_to_c_and_the_remainder_carries()
    {
        // Steps given unsorted: g = {≥1: 4, ≥3: 10}. carryIn = 1.25.
        // Events c1 [08:00, 09:00) and c2 [08:30, 10:00) on 03-10: 08:30 and 08:45 are in both → counted once, under c1 (earliest).
        // History: 03-07/08/09 at each quarter hour, 1.0 kWh each → baseline 1.0 (3 days) for every event interval.
        //   08:00 actual 0.5: reduction 0.5, ΔP = 0.5/0.25 = 2 → g 4  → 4·0.25  = 1
        //   08:15 actual 0.2: reduction 0.8, ΔP = 3.2          → g 10 → 10·0.25 = 2.5
        //   08:30 actual 1.2: reduction 0,   ΔP = 0            → g 0  → 0
        //   08:45 actual 0.7: reduction 0.3, ΔP = 1.2          → g 4  → 1
        //   C = 4.5; carryIn + C = 5.75 = 2·2 + 1.75 → 2·3 = 6 tokens, carry 1.75
        // Energy: 12 history × 1.0 + (0.5 + 0.2 + 1.2 + 0.7) = 14.6; clean 12 × 0.4 = 4.8
        //   cleanShare = 4.8/14.6 = 24/73 = 0.32876712 32876712… → 0.328767; F_demand = 240/73 = 3.2876712… → 3.287671
        //   F1 = 2 ≤ F ≤ 5 = F2 → 0 carbon tokens; total 0 + 6 = 6
        var r = Compute("carry.json");
        Assert.Equal(4.5m, r.CongestionFactor);
        Assert.Equal(1.25m, r.CongestionCarryIn);
        Assert.Equal(1.75m, r.CongestionCarryOut);
        Assert.Equal(24m / 73m, r.CleanShare);
        Assert.Equal(0, r.CarbonTokens);
        Assert.Equal(6, r.CongestionTokens);
        Assert.Equal(6, r.TotalTokens);
        Assert.Equal(4, r.Baselines.Count);
        Assert.All(r.Baselines, b => Assert.Equal(("c1", BaselineMethod.History, 1.0m), (b.EventId, b.Method, b.BaselineKwh)));
        Assert.Equal([4m, 10m, 0m, 4m], r.Baselines.Select(b => b.StepFactor));
        Assert.Equal(
            new CliOutputValues("2026-03", 0.328767m, 3.287671m, null, 0m, 4.5m, 1.75m, 0, 6, 6),
            await RunScenarioJsonAsync(Scenario("carry.json")));
    }

    [Fact]
    public async Task Short_history_falls_back_to_the_window_then_to_own_consumption()
    {
        // δ = 1. d1 [03-02 18:00, 18:30) has 15-min intervals 18:00 (1 kWh) and 18:15 (2 kWh).
        //   18:00: of the 10 preceding days only 03-01 18:00 exists → 1 day < 3 → window [18:00 − 4·15 min, 18:00) = 17:00..17:45:
        //          (2 + 2 + 3 + 3)/4 = 2.5 (17:45 counts although it is in congestion event c0); reduction 2.5 − 1 = 1.5
        //   18:15: no history day → same window (d1's start) → 2.5; reduction 0.5
        // d2 [03-05 06:00, 06:15): no history, window [05:00, 06:00) empty → own 4 kWh → reduction 0
        //   E_dr = 1.5 + 0.5 + 0 = 2
        // c0 [17:45, 18:00): 17:45 has no history → window [16:45, 17:45) = 17:00, 17:15, 17:30 → 7/3 < 3 actual → reduction 0 → C = 0
        // Energy: 9 + 2 + 2 + 3 + 3 + 1 + 2 + 4 = 26; clean 2.6 → cleanShare 0.1
        // F_demand = 10·0.1 + 1·(0.4·2) = 1.8 < 2 → ⌊3·(1.8 − 2)⌋ = ⌊−0.6⌋ = −1; total −1
        var r = Compute("short-history.json");
        Assert.Equal(26m, r.ElecKwh);
        Assert.Equal(0.1m, r.CleanShare);
        Assert.Equal(2m, r.EDrKwh);
        Assert.Equal(1.8m, r.FDemand);
        Assert.Equal(0m, r.CongestionFactor);
        Assert.Equal(-1, r.CarbonTokens);
        Assert.Equal(-1, r.TotalTokens);
        Assert.Equal(4, r.Baselines.Count);
        var (dr1, dr2, dr3, c0) = (r.Baselines[0], r.Baselines[1], r.Baselines[2], r.Baselines[3]);
        Assert.Equal(("d1", BaselineMethod.Window, 4, 2.5m, 1.5m, 6m), (dr1.EventId, dr1.Method, dr1.SampleCount, dr1.BaselineKwh, dr1.ReductionKwh, dr1.DeltaPKw));
        Assert.Equal(("d1", BaselineMethod.Window, 4, 2.5m, 0.5m, 2m), (dr2.EventId, dr2.Method, dr2.SampleCount, dr2.BaselineKwh, dr2.ReductionKwh, dr2.DeltaPKw));
        Assert.Equal(("d2", BaselineMethod.Own, 0, 4m, 0m), (dr3.EventId, dr3.Method, dr3.SampleCount, dr3.BaselineKwh, dr3.ReductionKwh));
        Assert.Equal(("c0", FactorEventKind.Congestion, BaselineMethod.Window, 3, 7m / 3m, 0m), (c0.EventId, c0.Kind, c0.Method, c0.SampleCount, c0.BaselineKwh, c0.ReductionKwh));
        Assert.Equal(
            new CliOutputValues("2026-03", 0.1m, 1.8m, null, 2m, 0m, 0m, -1, 0, -1),
            await RunScenarioJsonAsync(Scenario("short-history.json")));
    }

    [Fact]
    public async Task Month_is_taken_in_the_configured_time_zone()
    {
        // Europe/Berlin, γ = 20. Local times: 02-28T22:30Z = Feb 28 23:30 CET (February, excluded);
        //   02-28T23:30Z = Mar 1 00:30 CET (March); 03-01T00:15+01:00 = Mar 1 00:15 (March);
        //   03-31T21:30Z = Mar 31 23:30 CEST (March); 03-31T22:00Z = Apr 1 00:00 CEST (April, excluded).
        // E_elec = 4 + 4 + 2 = 10, clean = 2 + 0 + 1 = 3 → cleanShare 0.3; F_demand = 20·0.3 = 6 > 5
        //   → min(⌊2·(6 − 5)⌋, 10) = 2; total 2. (In UTC the month would hold 2 + 30 kWh instead.)
        var r = Compute("berlin-month.json");
        Assert.Equal(3, r.IntervalCount);
        Assert.Equal(10m, r.ElecKwh);
        Assert.Equal(0.3m, r.CleanShare);
        Assert.Equal(6m, r.FDemand);
        Assert.Equal(2, r.CarbonTokens);
        Assert.Equal(2, r.TotalTokens);
        Assert.Equal(
            new CliOutputValues("2026-03", 0.3m, 6m, null, 0m, 0m, 0m, 2, 0, 2),
            await RunScenarioJsonAsync(Scenario("berlin-month.json")));
    }

    [Fact]
    public async Task Producer_over_the_permit_is_penalised_by_beta()
    {
        // Producer, F1 = −1, F2 = 1, S_permit = 100, S = 130 > S_permit → F_supply = β·(100 − 130)/100 = 5·(−0.3) = −1.5
        // carbon = ⌊3·(−1.5 − (−1))⌋ = ⌊−1.5⌋ = −2; total −2
        // F_demand still reported: cleanShare 5/10 = 0.5 → 10·0.5 = 5
        var r = Compute("producer-over-permit.json");
        Assert.Equal(-1.5m, r.FSupply);
        Assert.Equal(5m, r.FDemand);
        Assert.Equal(-2, r.CarbonTokens);
        Assert.Equal(-2, r.TotalTokens);
        Assert.Equal(
            new CliOutputValues("2026-03", 0.5m, 5m, -1.5m, 0m, 0m, 0m, -2, 0, -2),
            await RunScenarioJsonAsync(Scenario("producer-over-permit.json")));
    }

    [Fact]
    public async Task Producer_within_the_permit_is_rewarded_by_alpha()
    {
        // S = 40 ≤ 100 → F_supply = α·(100 − 40)/100 = 2·0.6 = 1.2 > F2 = 1 → min(⌊10·0.2⌋, 10) = 2 (λ = 10); total 2
        var r = Compute("producer-under-permit.json");
        Assert.Equal(1.2m, r.FSupply);
        Assert.Equal(2, r.CarbonTokens);
        Assert.Equal(2, r.TotalTokens);
        Assert.Equal(
            new CliOutputValues("2026-03", 0.5m, 5m, 1.2m, 0m, 0m, 0m, 2, 0, 2),
            await RunScenarioJsonAsync(Scenario("producer-under-permit.json")));
    }

    [Fact]
    public async Task Baseline_days_are_instants_minus_24_hours_across_a_dst_change()
    {
        // Europe/Berlin switches to CEST on 2026-03-29 at 01:00Z. d1 holds 03-30T10:00+02:00 = 08:00Z (0.5 kWh).
        //   k = 1, 2, 3 → 03-29T08:00Z, 03-28T08:00Z, 03-27T08:00Z: 2, 2, 2 kWh → baseline 2 (3 days)
        //   (same local wall clock, 10:00, would be 08:00Z, 09:00Z, 09:00Z: 2, 10, 10 → 22/3 — not the rule)
        //   reduction 2 − 0.5 = 1.5 = E_dr; ΔP = 1.5/0.25 = 6
        // Energy 2 + 10 + 2 + 10 + 2 + 0.5 = 26.5, clean 0 → cleanShare 0; F_demand = 0 + 1·0.4·1.5 = 0.6
        //   → ⌊3·(0.6 − 2)⌋ = ⌊−4.2⌋ = −5; total −5
        var r = Compute("dst-baseline.json");
        var row = Assert.Single(r.Baselines);
        Assert.Equal((BaselineMethod.History, 3, 2m, 1.5m, 6m), (row.Method, row.SampleCount, row.BaselineKwh, row.ReductionKwh, row.DeltaPKw));
        Assert.Equal(26.5m, r.ElecKwh);
        Assert.Equal(1.5m, r.EDrKwh);
        Assert.Equal(0.6m, r.FDemand);
        Assert.Equal(-5, r.CarbonTokens);
        Assert.Equal(
            new CliOutputValues("2026-03", 0m, 0.6m, null, 1.5m, 0m, 0m, -5, 0, -5),
            await RunScenarioJsonAsync(Scenario("dst-baseline.json")));
    }

    [Fact]
    public async Task Readable_table_names_every_quantity()
    {
        var (code, stdout, stderr) = await RunCliAsync("factors", "--input", Scenario("producer-over-permit.json"));
        Assert.Equal((0, ""), (code, stderr));
        var expected = string.Join('\n',
            "month                 2026-03",
            "clean share           0.5",
            "F_demand              5",
            "F_supply              -1.5",
            "E_dr (kWh)            0",
            "congestion factor C   0",
            "congestion carry-out  0",
            "carbon tokens         -2",
            "congestion tokens     0",
            "total tokens          -2",
            "");
        Assert.Equal(expected, stdout);
    }
}
