using System.Text;
using System.Text.Json;
using EdgeMeter.Economics;
using Xunit;
using static EdgeMeter.Economics.Tests.Factors.Scenarios;

namespace EdgeMeter.Economics.Tests.Factors;

public sealed class TokenClaimTests
{
    private const string Device = "0x00000000000000000000000000000000000000aa";

    [Fact]
    public void Canonical_json_lists_inputs_baselines_and_results_in_a_fixed_order()
    {
        var scenario = FactorJson.ParseScenario(File.ReadAllBytes(Scenario("cap.json")));
        var result = scenario.Compute();
        var claim = TokenClaim.Create(Device, scenario.Params, result, scenario.Events,
            [new ReadingRange("pv", "1-0:1.8.0*255", 4, 10), new ReadingRange("grid", "1-0:1.8.0*255", 3, 9)]);

        var json = Encoding.UTF8.GetString(claim.ToCanonicalJson());

        // Values from the cap scenario (see ScenarioTests.Positive_total_is_capped_at_n_max): decimals as exact strings.
        Assert.Equal(
            "{\"type\":\"edgemeter.token-claim\",\"version\":1,\"device\":\"" + Device + "\",\"month\":\"2026-03\",\"timeZone\":\"UTC\"," +
            "\"role\":\"consumer\",\"paramsVersion\":0,\"sPermit\":null,\"s\":null,\"intervalMinutes\":null," +
            "\"readings\":[{\"meterId\":\"grid\",\"obis\":\"1-0:1.8.0*255\",\"firstSequence\":3,\"lastSequence\":9}," +
            "{\"meterId\":\"pv\",\"obis\":\"1-0:1.8.0*255\",\"firstSequence\":4,\"lastSequence\":10}]," +
            "\"events\":[{\"id\":\"c1\",\"kind\":\"congestion\",\"start\":\"2026-03-20T17:00:00Z\",\"end\":\"2026-03-20T18:00:00Z\"}]," +
            "\"congestionCarryIn\":\"0\",\"intervalCount\":4," +
            "\"energy\":{\"elecKwh\":\"16\",\"cleanElecKwh\":\"16\",\"heatKwh\":\"0\",\"cleanHeatKwh\":\"0\"}," +
            "\"baselines\":[{\"start\":\"2026-03-20T17:00:00Z\",\"minutes\":60,\"kind\":\"congestion\",\"eventId\":\"c1\",\"method\":\"history\"," +
            "\"samples\":3,\"baselineKwh\":\"5\",\"actualKwh\":\"1\",\"reductionKwh\":\"4\",\"deltaPKw\":\"4\",\"stepFactor\":\"2\"}]," +
            "\"result\":{\"cleanShare\":\"1\",\"fDemand\":\"10\",\"fSupply\":null,\"eDrKwh\":\"0\",\"congestionFactor\":\"2\"," +
            "\"congestionCarryOut\":\"0\",\"carbonTokens\":10,\"congestionTokens\":3,\"totalTokens\":10}}",
            json);
    }

    [Fact]
    public void Same_claim_gives_the_same_bytes_whatever_the_input_order()
    {
        var scenario = FactorJson.ParseScenario(File.ReadAllBytes(Scenario("short-history.json")));
        ReadingRange[] readings = [new("a", "1-0:1.8.0*255", 1, 5), new("b", "1-0:2.8.0*255", 2, 6)];
        var forward = TokenClaim.Create(Device, scenario.Params, scenario.Compute(), scenario.Events, readings);
        var reversedEvents = scenario.Events.Reverse().ToArray();
        var reversedIntervals = scenario.Intervals.Reverse().ToArray();
        var backward = TokenClaim.Create(Device, scenario.Params,
            FactorCalculator.Compute(scenario.Month, scenario.Params, reversedIntervals, reversedEvents),
            reversedEvents, readings.Reverse().ToArray());

        Assert.Equal(forward.ToCanonicalJson(), backward.ToCanonicalJson());
    }

    [Fact]
    public void Exact_decimals_are_kept_and_a_producer_lists_its_permit()
    {
        var scenario = FactorJson.ParseScenario(File.ReadAllBytes(Scenario("producer-over-permit.json")));
        var claim = TokenClaim.Create(Device, scenario.Params with { Version = 42 }, scenario.Compute(), [], [], intervalMinutes: 15);

        using var doc = JsonDocument.Parse(claim.ToCanonicalJson());
        var root = doc.RootElement;
        Assert.Equal(("producer", 42L, "100", "130", 15), (root.GetProperty("role").GetString(), root.GetProperty("paramsVersion").GetInt64(),
            root.GetProperty("sPermit").GetString(), root.GetProperty("s").GetString(), root.GetProperty("intervalMinutes").GetInt32()));
        Assert.Equal("-1.5", root.GetProperty("result").GetProperty("fSupply").GetString());
        Assert.Equal(-2, root.GetProperty("result").GetProperty("totalTokens").GetInt64());
    }

    [Fact]
    public void Non_terminating_quotients_are_written_with_all_their_digits()
    {
        var scenario = FactorJson.ParseScenario(File.ReadAllBytes(Scenario("carry.json")));
        var claim = TokenClaim.Create(Device, scenario.Params, scenario.Compute(), scenario.Events, []);
        using var doc = JsonDocument.Parse(claim.ToCanonicalJson());
        // 24/73 in decimal (28 significant digits), not the 6-place rounding of the CLI.
        Assert.Equal((24m / 73m).ToString(System.Globalization.CultureInfo.InvariantCulture),
            doc.RootElement.GetProperty("result").GetProperty("cleanShare").GetString());
        Assert.Equal("1.25", doc.RootElement.GetProperty("congestionCarryIn").GetString());
        Assert.Equal("1.75", doc.RootElement.GetProperty("result").GetProperty("congestionCarryOut").GetString());
    }

    [Theory]
    [InlineData("2026-03-01T00:00:00+01:00", "2026-02-28T23:00:00Z")]
    [InlineData("2026-03-01T00:00:00.5Z", "2026-03-01T00:00:00.5Z")]
    [InlineData("2026-03-01T01:30:00.1234567+01:30", "2026-03-01T00:00:00.1234567Z")]
    [InlineData("2026-03-01T00:00-02:00", "2026-03-01T02:00:00Z")]
    public void Instants_are_written_in_utc(string input, string expected)
    {
        Assert.True(FactorJson.TryParseTimestamp(input, out var t));
        Assert.Equal(expected, TokenClaim.Instant(t));
    }
}
