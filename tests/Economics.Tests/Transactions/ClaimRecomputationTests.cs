using System.Text;
using CsCheck;
using EdgeMeter.Crypto.Keys;
using EdgeMeter.Crypto.Records;
using EdgeMeter.Economics.Tests.Factors;

namespace EdgeMeter.Economics.Tests.Transactions;

/// <summary>
/// The gateway's final claim, its provisional figures and the ledger's recomputation (<see cref="ClaimCodec.Recompute"/>)
/// agree, for random months of readings, events and parameters, across restarts of the gateway and in several time
/// zones; and a claim raised by one token is told apart, with both figures.
/// </summary>
public sealed class ClaimRecomputationTests
{
    private static readonly FileDeviceKey Key = FileDeviceKey.FromSecret(Convert.FromHexString("1f2e3d4c5b6a79881f2e3d4c5b6a79881f2e3d4c5b6a79881f2e3d4c5b6a7988"));

    private static readonly string[] Zones = ["UTC", "Europe/Berlin", "America/New_York", "Asia/Kolkata", "Australia/Adelaide"];

    private sealed record Channel(string MeterId, string Obis, EnergySource Source, bool Clean);

    private static readonly Channel Import = new("grid", "1-0:1.8.0*255", EnergySource.GridImport, false);
    private static readonly Channel Export = new("grid", "1-0:2.8.0*255", EnergySource.GridImport, false);
    private static readonly Channel Pv = new("pv", "1-0:1.8.0*255", EnergySource.Pv, true);
    private static readonly Channel Heat = new("heat", "6-0:1.8.0*255", EnergySource.Heat, false);

    /// <summary>One generated case: the month, its zone and parameters, events, the gateway's interval length, readings and where it restarts.</summary>
    private sealed record Case(FactorMonth Month, FactorParams Params, IReadOnlyList<FactorEvent> Events, int IntervalMinutes, IReadOnlyList<ReadingRecord> Readings, int RestartAt, decimal CarryIn);

    private static readonly Gen<Case> GenCase =
        Gen.Select(Gen.Int[2025, 2027], Gen.Int[1, 12], Gen.Int[0, Zones.Length - 1], Gen.OneOfConst(15, 30, 60), Gen.Int[0, 1000])
            .SelectMany(head => Gen.Select(
                Gen.Select(Gen.Int[20, 95], Gen.Int[0, 3000], Gen.Int[0, 1500], Gen.Int[0, 2500]).Array[4],
                Gen.Select(Gen.Int[0, 27], Gen.Int[0, 95], Gen.Int[1, 16], Gen.Bool).Array[0, 3],
                Gen.Select(Gen.Int[0, 20_000], Gen.Int[0, 5], Gen.Int[1, 4_000]),
                (channels, events, p) => Build(head, channels, events, p)));

    private static Case Build(
        (int Year, int Month, int Zone, int Minutes, int Restart) head,
        (int SpacingMin, int Jitter, int MaxWh, int Base)[] channels,
        (int Day, int Quarter, int Quarters, bool Congestion)[] events,
        (int Gamma, int Threshold, int Carry) p)
    {
        var zone = TimeZoneInfo.FindSystemTimeZoneById(Zones[head.Zone]);
        var month = new FactorMonth(head.Year, head.Month);
        var start = month.StartIn(zone);
        var end = month.Next().StartIn(zone);
        var parameters = FactorPropertyTests.Params(gamma: p.Gamma / 1000m, f1: 2m, width: 3m, threshold: p.Threshold + 0.5m) with
        {
            TimeZoneId = Zones[head.Zone],
            TimeZone = zone,
        };
        var evs = events.Select((e, i) => new FactorEvent(
            $"e{i}",
            e.Congestion ? FactorEventKind.Congestion : FactorEventKind.DemandResponse,
            start.AddDays(e.Day).AddMinutes(15 * e.Quarter),
            start.AddDays(e.Day).AddMinutes(15 * (e.Quarter + e.Quarters)))).ToList();

        // Readings from 12 days before the month to 3 hours after it, every channel at its own pace.
        var drafts = new List<(long Ms, Channel Channel, long Wh)>();
        Channel[] kinds = [Import, Export, Pv, Heat];
        for (var c = 0; c < kinds.Length; c++)
        {
            var (spacing, jitter, maxWh, baseWh) = channels[c];
            var wh = (long)baseWh * 1000;
            var rng = new Random(HashCode.Combine(head, c, spacing, jitter));
            for (var t = start.AddDays(-12).AddSeconds(jitter); t < end.AddHours(3); t = t.AddMinutes(spacing).AddSeconds(rng.Next(0, 60)))
            {
                drafts.Add((t.ToUnixTimeMilliseconds(), kinds[c], wh));
                wh += rng.Next(0, maxWh + 1);
            }
        }
        ulong seq = 0;
        var readings = drafts.OrderBy(d => d.Ms).Select(d => new ReadingRecord
        {
            Device = Key.Address,
            Sequence = ++seq,
            MeterId = d.Channel.MeterId,
            Obis = d.Channel.Obis,
            Value = d.Wh,
            Scaler = 0,
            Unit = "Wh",
            Source = d.Channel.Source,
            Clean = d.Channel.Clean,
            GatewayTimeMs = d.Ms,
            TimeStatus = TimeStatus.Synchronised,
            PrevHash = new byte[32],
        }).ToList();
        return new Case(month, parameters, evs, head.Minutes, readings, head.Restart * readings.Count / 1000, p.Carry / 1000m);
    }

    /// <summary>The gateway: readings fed live, with a restart (snapshot, reload) part-way.</summary>
    private static IntervalAccumulator Gateway(Case c)
    {
        var acc = new IntervalAccumulator(c.IntervalMinutes);
        for (var i = 0; i < c.Readings.Count; i++)
        {
            if (i == c.RestartAt)
            {
                var buffer = new System.Buffers.ArrayBufferWriter<byte>();
                using (var w = new System.Text.Json.Utf8JsonWriter(buffer))
                    acc.WriteSnapshot(w);
                acc = new IntervalAccumulator(c.IntervalMinutes);
                using var doc = System.Text.Json.JsonDocument.Parse(buffer.WrittenMemory);
                Assert.True(acc.TryLoadSnapshot(doc.RootElement));
            }
            acc.Add(c.Readings[i]);
        }
        return acc;
    }

    private static ClaimHeader Header(byte[] payload)
    {
        Assert.True(ClaimCodec.TryVerify(SignedEnvelope.Create(payload, Key), Key.Address, out var header, out var reason), reason);
        return header!;
    }

    [Fact]
    public void Final_claim_provisional_figures_and_ledger_recomputation_agree_for_random_months()
    {
        GenCase.Sample(c =>
        {
            var gateway = Gateway(c);
            var end = c.Month.Next().StartIn(c.Params.TimeZone);
            Assert.True(gateway.CompleteThrough >= end);
            var claim = gateway.BuildClaimThrough(Key.Address, c.Month, c.Params, c.Events, c.CarryIn, end);
            Assert.True(claim.IsFinal);

            var recomputed = ClaimCodec.Recompute(Header(claim.ToCanonicalJson()), c.Readings, c.Params, c.Events, c.CarryIn);

            Assert.Null(ClaimCodec.Compare(Header(claim.ToCanonicalJson()), recomputed));
            Assert.Equal(claim.ToCanonicalJson(), recomputed.ToCanonicalJson());
            var provisional = gateway.Provisional(c.Params, c.Events, c.CarryIn, now: c.Month.StartIn(c.Params.TimeZone).AddDays(3))!;
            Assert.Equal(claim.Result.TotalTokens, provisional.TotalTokens);
            Assert.Equal(FactorDecimal.Round6(claim.Result.CleanShare), provisional.CleanShare);
        }, iter: 25);
    }

    [Fact]
    public void A_claim_raised_by_one_token_is_told_apart_with_both_figures()
    {
        GenCase.Sample(c =>
        {
            var end = c.Month.Next().StartIn(c.Params.TimeZone);
            var claim = Gateway(c).BuildClaimThrough(Key.Address, c.Month, c.Params, c.Events, c.CarryIn, end);
            var total = claim.Result.TotalTokens;
            var raised = Encoding.UTF8.GetBytes(Encoding.UTF8.GetString(claim.ToCanonicalJson())
                .Replace($"\"totalTokens\":{total}}}", $"\"totalTokens\":{total + 1}}}", StringComparison.Ordinal));

            var header = Header(raised);
            var reason = ClaimCodec.Compare(header, ClaimCodec.Recompute(header, c.Readings, c.Params, c.Events, c.CarryIn));

            Assert.Equal($"claimed {total + 1} tokens, recomputed {total}; first difference result.totalTokens: claimed {total + 1}, recomputed {total}", reason);
        }, iter: 5);
    }

    [Fact]
    public void Leaving_a_meter_out_of_the_claim_is_told_apart()
    {
        var c = GenCase.Single();
        var end = c.Month.Next().StartIn(c.Params.TimeZone);
        var withoutImport = new IntervalAccumulator(c.IntervalMinutes);
        foreach (var r in c.Readings.Where(r => !(r.MeterId == "grid" && r.Obis == Import.Obis)))
            withoutImport.Add(r);
        var claim = withoutImport.BuildClaimThrough(Key.Address, c.Month, c.Params, c.Events, c.CarryIn, end);
        var header = Header(claim.ToCanonicalJson());

        var recomputed = ClaimCodec.Recompute(header, c.Readings, c.Params, c.Events, c.CarryIn);

        Assert.StartsWith($"claimed {claim.Result.TotalTokens} tokens, recomputed {recomputed.Result.TotalTokens}", ClaimCodec.Compare(header, recomputed), StringComparison.Ordinal);
        Assert.NotEqual(claim.InputsHash, recomputed.InputsHash);
        Assert.True(recomputed.Result.ElecKwh > claim.Result.ElecKwh);
    }

    [Theory]
    [InlineData("penalty.json")]
    [InlineData("cap.json")]
    [InlineData("carry.json")]
    [InlineData("short-history.json")]
    [InlineData("berlin-month.json")]
    [InlineData("producer-over-permit.json")]
    [InlineData("producer-under-permit.json")]
    [InlineData("dst-baseline.json")]
    public void For_the_scenarios_the_final_claim_equals_the_ledger_recomputation(string name)
    {
        var scenario = FactorJson.ParseScenario(File.ReadAllBytes(Scenarios.Scenario(name)));
        // Intervals of mixed lengths become the gateway's intervals of their greatest common length.
        var minutes = scenario.Intervals.Select(i => i.Minutes).Aggregate((a, b) => (int)System.Numerics.BigInteger.GreatestCommonDivisor(a, b));
        // The scenario's intervals as meter readings: import = elec − clean elec, clean PV = clean elec, heat split likewise.
        var drafts = new List<(DateTimeOffset At, Channel Channel, decimal Kwh)>();
        var totals = new Dictionary<Channel, decimal>();
        var cleanHeat = new Channel("heat-clean", "6-0:1.8.0*255", EnergySource.Heat, true);
        foreach (var iv in scenario.Intervals.OrderBy(i => i.Start.UtcTicks))
        {
            foreach (var (channel, kwh) in new[] { (Import, iv.ElecKwh - iv.CleanElecKwh), (Pv, iv.CleanElecKwh), (Heat, iv.HeatKwh - iv.CleanHeatKwh), (cleanHeat, iv.CleanHeatKwh) })
            {
                var before = totals.GetValueOrDefault(channel);
                drafts.Add((iv.Start, channel, before));
                totals[channel] = before + kwh;
                drafts.Add((iv.Start.AddMinutes(iv.Minutes), channel, before + kwh));
            }
        }
        ulong seq = 0;
        var readings = drafts.DistinctBy(d => (d.At.UtcTicks, d.Channel)).OrderBy(d => d.At.UtcTicks).Select(d => new ReadingRecord
        {
            Device = Key.Address,
            Sequence = ++seq,
            MeterId = d.Channel.MeterId,
            Obis = d.Channel.Obis,
            Value = (long)(d.Kwh * 1000_000m),
            Scaler = -3,
            Unit = "Wh",
            Source = d.Channel.Source,
            Clean = d.Channel.Clean,
            GatewayTimeMs = d.At.ToUnixTimeMilliseconds(),
            TimeStatus = TimeStatus.Synchronised,
            PrevHash = new byte[32],
        }).ToList();
        var gateway = new IntervalAccumulator(minutes);
        foreach (var r in readings)
            gateway.Add(r);
        var end = scenario.Month.Next().StartIn(scenario.Params.TimeZone);
        var claim = gateway.BuildClaimThrough(Key.Address, scenario.Month, scenario.Params, scenario.Events, scenario.CongestionCarryIn, end);

        var recomputed = ClaimCodec.Recompute(Header(claim.ToCanonicalJson()), readings, scenario.Params, scenario.Events, scenario.CongestionCarryIn);

        Assert.Equal(Encoding.UTF8.GetString(claim.ToCanonicalJson()), Encoding.UTF8.GetString(recomputed.ToCanonicalJson()));
        // Where the scenario's intervals are back to back, the readings carry them exactly: the same figures as the scenario.
        if (scenario.Intervals.All(i => i.Minutes == minutes) && scenario.Intervals.Count == claim.Result.IntervalCount + scenario.Intervals.Count(i => FactorMonth.Of(i.Start, scenario.Params.TimeZone) != scenario.Month))
            Assert.Equal(scenario.Compute().TotalTokens, claim.Result.TotalTokens);
    }
}
