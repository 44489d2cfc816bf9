using EdgeMeter.Economics;
using EdgeMeter.Crypto.Records;
using Xunit;

namespace EdgeMeter.Economics.Tests.Factors;

public sealed class IntervalAccumulatorTests
{
    private const string Import = "1-0:1.8.0*255";
    private const string Export = "1-0:2.8.0*255";
    private static readonly DateTimeOffset T0 = new(2026, 3, 10, 10, 0, 0, TimeSpan.Zero);

    private static DateTimeOffset At(int minutes) => T0.AddMinutes(minutes);

    private static ConsumptionInterval Iv(DateTimeOffset start, decimal elec, decimal cleanElec = 0, decimal heat = 0, decimal cleanHeat = 0) =>
        new(start, 15, elec, cleanElec, heat, cleanHeat);

    [Fact]
    public void Register_difference_is_spread_over_intervals_in_proportion_to_time()
    {
        var acc = new IntervalAccumulator(15);
        Assert.True(acc.Add("grid", EnergySource.GridImport, false, Import, 1000m, At(10)));
        Assert.True(acc.Add("grid", EnergySource.GridImport, false, Import, 1600m, At(25)));
        // 600 Wh over 10:10..10:25: 5 min (200 Wh) in 10:00, 10 min (400 Wh) in 10:15; 10:15 is not complete before 10:30.
        Assert.Equal([Iv(At(0), 0.2m)], acc.CompleteIntervals());

        Assert.True(acc.Add("grid", EnergySource.GridImport, false, Import, 1900m, At(30)));
        // 10:15 gets 400 + 300 Wh.
        Assert.Equal([Iv(At(0), 0.2m), Iv(At(15), 0.7m)], acc.CompleteIntervals());
    }

    [Fact]
    public void Site_consumption_nets_export_and_adds_generation_with_export_taken_from_clean_first()
    {
        var acc = new IntervalAccumulator(15);
        foreach (var (minute, grid, export, pv, chp, heat, heat2) in new[]
        {
            (0, 5000m, 100m, 20000m, 0m, 1000m, 0m),
            (15, 5400m, 1100m, 21500m, 300m, 3000m, 1000m),
        })
        {
            Assert.True(acc.Add("grid", EnergySource.GridImport, false, Import, grid, At(minute)));
            Assert.True(acc.Add("grid", EnergySource.GridImport, false, Export, export, At(minute)));
            Assert.True(acc.Add("pv", EnergySource.Pv, true, Import, pv, At(minute)));
            Assert.True(acc.Add("chp", EnergySource.Chp, false, Import, chp, At(minute)));
            Assert.True(acc.Add("heat", EnergySource.Heat, true, "6-0:1.0.0*255", heat, At(minute)));
            Assert.True(acc.Add("heat2", EnergySource.Heat, false, "6-0:1.8.0", heat2, At(minute)));
        }
        // I = 400, X = 1000, G = 1500 (pv, clean) + 300 (chp) = 1800, Gc = 1500
        // elec = 400 − 1000 + 1800 = 1200 Wh; clean = min(1200, 1500 − 1000) = 500 Wh
        // heat = 2000 (clean) + 1000 = 3000 Wh, clean heat 2000 Wh
        Assert.Equal([Iv(At(0), 1.2m, 0.5m, 3m, 2m)], acc.CompleteIntervals());
    }

    [Fact]
    public void Export_beyond_clean_generation_leaves_no_clean_share_and_consumption_never_goes_negative()
    {
        var acc = new IntervalAccumulator(15);
        acc.Add("grid", EnergySource.GridExport, false, Export, 0m, At(0));
        acc.Add("pv", EnergySource.Wind, true, Import, 0m, At(0));
        acc.Add("grid", EnergySource.GridExport, false, Export, 2000m, At(15));
        acc.Add("pv", EnergySource.Wind, true, Import, 1500m, At(15));
        // I = 0, X = 2000, G = Gc = 1500: elec = max(0, −500) = 0; clean = min(0, max(0, −500)) = 0
        Assert.Equal([Iv(At(0), 0m)], acc.CompleteIntervals());
    }

    [Theory]
    [InlineData(EnergySource.Battery, Import)]
    [InlineData(EnergySource.Other, Import)]
    [InlineData(EnergySource.GridImport, "1-0:1.8.1*255")]
    [InlineData(EnergySource.GridImport, "1-0:1.7.0*255")]
    [InlineData(EnergySource.GridImport, "1-0:3.8.0*255")]
    [InlineData(EnergySource.Pv, Export)]
    [InlineData(EnergySource.Heat, Import)]
    [InlineData(EnergySource.GridImport, "6-0:1.0.0*255")]
    [InlineData(EnergySource.GridImport, "1.8.0")]
    [InlineData(EnergySource.GridImport, "not obis")]
    public void Registers_outside_the_rules_are_not_taken(EnergySource source, string obis)
    {
        var acc = new IntervalAccumulator(15);
        Assert.False(acc.Add("m", source, true, obis, 1000m, At(0)));
        Assert.False(acc.Add("m", source, true, obis, 2000m, At(15)));
        Assert.Empty(acc.CompleteIntervals());
        Assert.Null(acc.LatestReadingTime);
    }

    [Fact]
    public void Reset_registers_and_stale_readings_add_no_energy()
    {
        var acc = new IntervalAccumulator(15);
        Assert.True(acc.Add("grid", EnergySource.GridImport, false, Import, 1000m, At(0)));
        Assert.True(acc.Add("grid", EnergySource.GridImport, false, Import, 1500m, At(5)));   // +500
        Assert.True(acc.Add("grid", EnergySource.GridImport, false, Import, 900m, At(10)));   // reset: new anchor, nothing
        Assert.False(acc.Add("grid", EnergySource.GridImport, false, Import, 1000m, At(10))); // same time
        Assert.False(acc.Add("grid", EnergySource.GridImport, false, Import, 1100m, At(8)));  // older
        Assert.True(acc.Add("grid", EnergySource.GridImport, false, Import, 1200m, At(15)));  // +300 from 900
        Assert.Equal([Iv(At(0), 0.8m)], acc.CompleteIntervals());
    }

    [Fact]
    public void A_gap_longer_than_a_day_is_not_spread()
    {
        var acc = new IntervalAccumulator(15);
        acc.Add("grid", EnergySource.GridImport, false, Import, 1000m, At(0));
        acc.Add("grid", EnergySource.GridImport, false, Import, 5000m, At(24 * 60 + 15));
        acc.Add("grid", EnergySource.GridImport, false, Import, 5100m, At(24 * 60 + 30));
        Assert.Equal([Iv(At(24 * 60 + 15), 0.1m)], acc.CompleteIntervals());
    }

    [Fact]
    public void A_lagging_channel_keeps_intervals_open_until_it_reports()
    {
        var acc = new IntervalAccumulator(15);
        acc.Add("grid", EnergySource.GridImport, false, Import, 0m, At(0));
        acc.Add("pv", EnergySource.Pv, true, Import, 0m, At(0));
        acc.Add("grid", EnergySource.GridImport, false, Import, 1000m, At(30));
        acc.Add("pv", EnergySource.Pv, true, Import, 100m, At(10));
        // pv last reported at 10:10: nothing is complete yet.
        Assert.Empty(acc.CompleteIntervals());
        acc.Add("pv", EnergySource.Pv, true, Import, 300m, At(30));
        // grid: 500 + 500; pv: 100 + 50 (10:10..10:15 of 200 over 20 min) = 150 in 10:00, 150 in 10:15
        Assert.Equal([Iv(At(0), 0.65m, 0.15m), Iv(At(15), 0.65m, 0.15m)], acc.CompleteIntervals());
    }

    [Fact]
    public void Provisional_tokens_take_the_month_in_the_configured_zone()
    {
        var p = FactorPropertyTests.Params();   // Europe/Berlin, γ = 10, F1 = 2, μ = 3
        var acc = new IntervalAccumulator(15);
        var t = new DateTimeOffset(2026, 2, 28, 22, 45, 0, TimeSpan.Zero);
        foreach (var (minute, grid) in new[] { (0, 0m), (15, 500m), (30, 800m), (45, 1800m), (60, 3800m) })
        {
            acc.Add("grid", EnergySource.GridImport, false, Import, grid, t.AddMinutes(minute));
        }
        foreach (var (minute, pv) in new[] { (30, 0m), (45, 500m), (60, 500m) })
        {
            acc.Add("pv", EnergySource.Pv, true, Import, pv, t.AddMinutes(minute));
        }
        // 22:45Z = 23:45 Feb 28 in Berlin (February); 23:00Z, 23:15Z, 23:30Z = 00:00, 00:15, 00:30 Mar 1 (March).
        Assert.Equal(
            [Iv(t, 0.5m), Iv(t.AddMinutes(15), 0.3m), Iv(t.AddMinutes(30), 1.5m, 0.5m), Iv(t.AddMinutes(45), 2m)],
            acc.CompleteIntervals());

        var provisional = acc.Provisional(p, []);

        // March: elec 0.3 + 1.5 + 2 = 3.8, clean 0.5 → share 5/38 = 0.1315789… → 0.131579
        // F_demand = 10·5/38 = 1.3157894… → 1.315789 < 2 → ⌊3·(1.3157894… − 2)⌋ = ⌊−2.0526…⌋ = −3
        Assert.NotNull(provisional);
        Assert.Equal(
            (("2026-03", 0.131579m, 1.315789m, (decimal?)null, 0m), (-3L, 0L, -3L)),
            ((provisional.Month, provisional.CleanShare, provisional.FDemand, provisional.FSupply, provisional.CongestionFactor),
             (provisional.CarbonTokens, provisional.CongestionTokens, provisional.TotalTokens)));
        Assert.Equal("2026-02", acc.Provisional(p, [], now: t)!.Month);
    }

    [Fact]
    public void Provisional_is_null_before_the_first_reading()
    {
        Assert.Null(new IntervalAccumulator().Provisional(FactorPropertyTests.Params(), []));
    }

    [Fact]
    public void Signed_records_are_scaled_to_wh_and_their_sequences_listed_in_the_claim()
    {
        var acc = new IntervalAccumulator(15);
        var start = new DateTimeOffset(2026, 3, 10, 10, 0, 0, TimeSpan.Zero);
        Assert.True(acc.Add(Record(11, Import, 12345, -1, "kWh", start)));                  // 1234.5 kWh
        Assert.False(acc.Add(Record(12, "1-0:1.7.0*255", 870, 0, "W", start.AddMinutes(5))));
        Assert.True(acc.Add(Record(13, Import, 12347, -1, "kWh", start.AddMinutes(15))));   // +0.2 kWh
        Assert.True(acc.Add(Record(14, Import, 1234750, 0, "Wh", start.AddMinutes(30))));   // +50 Wh
        Assert.Equal([Iv(start, 0.2m), Iv(start.AddMinutes(15), 0.05m)], acc.CompleteIntervals());

        var claim = acc.BuildClaim("0xab", new FactorMonth(2026, 3), FactorPropertyTests.Params(), []);

        Assert.Equal([new ReadingRange("grid", Import, 11, 14)], claim.Readings);
        Assert.Equal(15, claim.IntervalMinutes);
        Assert.Equal(0.25m, claim.Result.ElecKwh);
    }

    [Fact]
    public void Interval_length_must_divide_a_day()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new IntervalAccumulator(7));
        Assert.Throws<ArgumentOutOfRangeException>(() => new IntervalAccumulator(15, TimeSpan.FromDays(30)));
    }

    private static ReadingRecord Record(ulong seq, string obis, long value, sbyte scaler, string unit, DateTimeOffset t) => new()
    {
        Device = "0xab",
        Sequence = seq,
        MeterId = "grid",
        Obis = obis,
        Value = value,
        Scaler = scaler,
        Unit = unit,
        Source = EnergySource.GridImport,
        Clean = false,
        GatewayTimeMs = t.ToUnixTimeMilliseconds(),
        TimeStatus = TimeStatus.Synchronised,
        PrevHash = new byte[32],
    };
}
