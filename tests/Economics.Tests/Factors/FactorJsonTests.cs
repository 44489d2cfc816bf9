using System.Text;
using EdgeMeter.Economics;
using Xunit;

namespace EdgeMeter.Economics.Tests.Factors;

/// <summary>The parsers the lead reuses for MQTT payloads.</summary>
public sealed class FactorJsonTests
{
    private const string ParamsPayload = """
        {"version":7,"timeZone":"Europe/Berlin","role":"producer","alpha":1.5,"beta":2,"gamma":10,"delta":0.01,
         "efGridKgPerKwh":0.401,"f1":-1,"f2":1,"mu":3,"lambda":2,"nMax":10,
         "congestionSteps":[{"minKw":3,"factor":2},{"minKw":1,"factor":0.5}],
         "congestionThreshold":2,"tokensPerCongestionThreshold":3,"sPermit":100,"s":40,"futureField":[1,2]}
        """;

    [Fact]
    public void Parameters_payload_parses_exact_decimals_version_and_sorted_steps()
    {
        var p = FactorJson.ParseParams(Encoding.UTF8.GetBytes(ParamsPayload));
        Assert.Equal((7L, "Europe/Berlin", FactorRole.Producer), (p.Version, p.TimeZoneId, p.Role));
        Assert.Equal((1.5m, 2m, 10m, 0.01m, 0.401m), (p.Alpha, p.Beta, p.Gamma, p.Delta, p.EfGridKgPerKwh));
        Assert.Equal((-1m, 1m, 3m, 2m, 10L), (p.F1, p.F2, p.Mu, p.Lambda, p.NMax));
        Assert.Equal([new CongestionStep(1m, 0.5m), new CongestionStep(3m, 2m)], p.CongestionSteps);
        Assert.Equal((2m, 3L, (decimal?)100m, (decimal?)40m), (p.CongestionThreshold, p.TokensPerCongestionThreshold, p.SPermit, p.S));
    }

    [Fact]
    public void Parameters_errors_name_the_field_under_the_given_path()
    {
        var bad = ParamsPayload.Replace("\"f1\":-1", "\"f1\":1", StringComparison.Ordinal);
        var e = Assert.Throws<FactorInputException>(() => FactorJson.ParseParams(Encoding.UTF8.GetBytes(bad), "payload"));
        Assert.Equal(("payload.f1", "must be less than payload.f2"), (e.Field, e.Reason));
    }

    [Fact]
    public void Event_payload_is_one_event_or_an_array()
    {
        var one = FactorJson.ParseEvents(Encoding.UTF8.GetBytes(
            """{"id":"dr-17","kind":"demand-response","start":"2026-03-02T18:00:00+01:00","end":"2026-03-02T19:00:00+01:00"}"""));
        Assert.Equal([new FactorEvent("dr-17", FactorEventKind.DemandResponse,
            new DateTimeOffset(2026, 3, 2, 17, 0, 0, TimeSpan.Zero), new DateTimeOffset(2026, 3, 2, 18, 0, 0, TimeSpan.Zero))], one);

        var many = FactorJson.ParseEvents(Encoding.UTF8.GetBytes(
            """[{"id":"a","kind":"congestion","start":"2026-03-02T18:00Z","end":"2026-03-02T18:15Z"},{"id":"b","kind":"demand-response","start":"2026-03-03T18:00Z","end":"2026-03-03T18:15Z"}]"""));
        Assert.Equal(["a", "b"], many.Select(e => e.Id));
        Assert.Equal([FactorEventKind.Congestion, FactorEventKind.DemandResponse], many.Select(e => e.Kind));
    }

    [Theory]
    [InlineData("2026-03-02T18:00:00Z", true)]
    [InlineData("2026-03-02T18:00Z", true)]
    [InlineData("2026-03-02T18:00:00.250+05:30", true)]
    [InlineData("2026-03-02T18:00:00-00:00", true)]
    [InlineData("2026-03-02T18:00:00", false)]
    [InlineData("2026-03-02 18:00:00Z", false)]
    [InlineData("2026-03-02T18:00:00+0100", false)]
    [InlineData("2026-03-02", false)]
    [InlineData("2026-02-30T18:00:00Z", false)]
    [InlineData("", false)]
    public void Timestamps_need_an_offset(string text, bool ok)
    {
        Assert.Equal(ok, FactorJson.TryParseTimestamp(text, out _));
    }

    [Fact]
    public void Numbers_are_read_exactly_as_decimal()
    {
        var p = FactorJson.ParseParams(Encoding.UTF8.GetBytes(
            ParamsPayload.Replace("\"gamma\":10", "\"gamma\":0.1000000000000000000000000001", StringComparison.Ordinal)));
        Assert.Equal(0.1000000000000000000000000001m, p.Gamma);
    }
}
