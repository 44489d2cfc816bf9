using System.Text.Json.Nodes;
using Xunit;
using static EdgeMeter.Agent.Tests.Factors.FactorTestSupport;

namespace EdgeMeter.Agent.Tests.Factors;

/// <summary>Every malformed scenario gets one line on stderr naming the field, nothing on stdout, and exit code 2.</summary>
[Collection(FactorsConsoleCollection.Name)]
public sealed class MalformedScenarioTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("edgemeter-factors-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Theory]
    [InlineData("missing-alpha", "params.alpha: required")]
    [InlineData("missing-params", "params: required")]
    [InlineData("missing-intervals", "intervals: required")]
    [InlineData("missing-month", "params.month: required")]
    [InlineData("missing-interval-field", "intervals[1].heatKwh: required")]
    [InlineData("missing-step-factor", "params.congestionSteps[0].factor: required")]
    [InlineData("f1-equals-f2", "params.f1: must be less than params.f2")]
    [InlineData("f1-above-f2", "params.f1: must be less than params.f2")]
    [InlineData("producer-permit-zero", "params.sPermit: must be greater than 0")]
    [InlineData("producer-permit-negative", "params.sPermit: must be greater than 0")]
    [InlineData("producer-no-permit", "params.sPermit: required for a producer")]
    [InlineData("producer-no-s", "params.s: required for a producer")]
    [InlineData("timestamp-without-offset", "intervals[0].start: must be an ISO-8601 timestamp with an offset (Z or ±hh:mm)")]
    [InlineData("event-timestamp-without-offset", "events[0].end: must be an ISO-8601 timestamp with an offset (Z or ±hh:mm)")]
    [InlineData("timestamp-garbage", "intervals[0].start: must be an ISO-8601 timestamp with an offset (Z or ±hh:mm)")]
    [InlineData("duplicate-interval", "intervals[1].start: duplicate interval start (same as intervals[0])")]
    [InlineData("duplicate-interval-other-offset", "intervals[1].start: duplicate interval start (same as intervals[0])")]
    [InlineData("unknown-zone", "params.timeZone: unknown time zone 'Mars/Olympus_Mons'")]
    [InlineData("bad-kind", "events[0].kind: must be \"congestion\" or \"demand-response\"")]
    [InlineData("bad-role", "params.role: must be \"consumer\" or \"producer\"")]
    [InlineData("string-number", "params.gamma: must be a number")]
    [InlineData("string-energy", "intervals[0].elecKwh: must be a number")]
    [InlineData("fractional-minutes", "intervals[0].minutes: must be a whole number")]
    [InlineData("zero-minutes", "intervals[0].minutes: must be a whole number from 1 to 1440")]
    [InlineData("bad-month", "params.month: must be YYYY-MM")]
    [InlineData("event-end-before-start", "events[0].end: must be after events[0].start")]
    [InlineData("duplicate-event-id", "events[1].id: duplicates events[0].id")]
    [InlineData("negative-energy", "intervals[0].elecKwh: must not be negative")]
    [InlineData("clean-above-total", "intervals[0].cleanElecKwh: must not exceed intervals[0].elecKwh")]
    [InlineData("step-min-zero", "params.congestionSteps[0].minKw: must be greater than 0")]
    [InlineData("duplicate-step", "params.congestionSteps[1].minKw: duplicates params.congestionSteps[0].minKw")]
    [InlineData("threshold-zero", "params.congestionThreshold: must be greater than 0")]
    [InlineData("fractional-nmax", "params.nMax: must be a whole number")]
    [InlineData("negative-carry", "params.congestionCarryIn: must not be negative")]
    public async Task Malformed_scenario_names_the_field_in_one_line_with_exit_code_2(string mutation, string expected)
    {
        var path = Path.Combine(_dir, mutation + ".json");
        await File.WriteAllTextAsync(path, Mutate(mutation));

        var (code, stdout, stderr) = await RunCliAsync("factors", "--input", path, "--json");

        Assert.Equal(($"edgemeter: {path}: {expected}" + Environment.NewLine, "", 2), (stderr, stdout, code));
    }

    [Fact]
    public async Task Text_that_is_not_json_is_rejected_in_one_line()
    {
        var path = Path.Combine(_dir, "broken.json");
        await File.WriteAllTextAsync(path, "{\"params\": {\n  \"month\": ");

        var (code, stdout, stderr) = await RunCliAsync("factors", "--input", path);

        Assert.Equal((2, ""), (code, stdout));
        Assert.Equal($"edgemeter: {path}: not valid JSON at line 2, byte 12" + Environment.NewLine, stderr);
    }

    [Fact]
    public async Task A_member_given_twice_is_rejected()
    {
        var path = Path.Combine(_dir, "twice.json");
        await File.WriteAllTextAsync(path, Base().ToJsonString().Replace("\"f1\":2", "\"f1\":2,\"f1\":4", StringComparison.Ordinal));

        var (code, stdout, stderr) = await RunCliAsync("factors", "--input", path, "--json");

        Assert.Equal((2, ""), (code, stdout));
        Assert.StartsWith($"edgemeter: {path}: not valid JSON: ", stderr, StringComparison.Ordinal);
        Assert.Contains("f1", stderr, StringComparison.Ordinal);
        Assert.Equal(1, stderr.Count(c => c == '\n'));
    }

    [Fact]
    public async Task Missing_file_is_bad_input()
    {
        var path = Path.Combine(_dir, "absent.json");

        var (code, stdout, stderr) = await RunCliAsync("factors", "--input", path, "--json");

        Assert.Equal((2, ""), (code, stdout));
        Assert.StartsWith($"edgemeter: {path}: cannot read: ", stderr, StringComparison.Ordinal);
        Assert.Equal(1, stderr.Count(c => c == '\n'));
    }

    [Fact]
    public async Task Consumer_without_permit_fields_is_accepted()
    {
        // The base document is a consumer with neither sPermit nor s: both are only required for a producer.
        var path = Path.Combine(_dir, "consumer.json");
        await File.WriteAllTextAsync(path, Base().ToJsonString());

        var (code, _, stderr) = await RunCliAsync("factors", "--input", path, "--json");

        Assert.Equal((0, ""), (code, stderr));
    }

    private static JsonObject Base() => (JsonObject)JsonNode.Parse("""
        {
          "params": {
            "month": "2026-03", "timeZone": "Europe/Berlin", "role": "consumer",
            "alpha": 1, "beta": 2, "gamma": 10, "delta": 0.01, "efGridKgPerKwh": 0.4,
            "f1": 2, "f2": 5, "mu": 3, "lambda": 2, "nMax": 10,
            "congestionSteps": [ { "minKw": 1, "factor": 0.5 }, { "minKw": 3, "factor": 2 } ],
            "congestionThreshold": 2, "tokensPerCongestionThreshold": 3
          },
          "intervals": [
            { "start": "2026-03-02T10:00:00Z", "minutes": 15, "elecKwh": 1, "cleanElecKwh": 0.5, "heatKwh": 0, "cleanHeatKwh": 0 },
            { "start": "2026-03-02T10:15:00Z", "minutes": 15, "elecKwh": 1, "cleanElecKwh": 0.5, "heatKwh": 0, "cleanHeatKwh": 0 }
          ],
          "events": [
            { "id": "e1", "kind": "congestion", "start": "2026-03-02T10:00:00Z", "end": "2026-03-02T11:00:00Z" }
          ]
        }
        """)!;

    private static string Mutate(string mutation)
    {
        var doc = Base();
        var p = doc["params"]!.AsObject();
        var intervals = doc["intervals"]!.AsArray();
        var events = doc["events"]!.AsArray();
        switch (mutation)
        {
            case "missing-alpha": p.Remove("alpha"); break;
            case "missing-params": doc.Remove("params"); break;
            case "missing-intervals": doc.Remove("intervals"); break;
            case "missing-month": p.Remove("month"); break;
            case "missing-interval-field": intervals[1]!.AsObject().Remove("heatKwh"); break;
            case "missing-step-factor": p["congestionSteps"]![0]!.AsObject().Remove("factor"); break;
            case "f1-equals-f2": p["f1"] = 5; break;
            case "f1-above-f2": p["f1"] = 6; break;
            case "producer-permit-zero": p["role"] = "producer"; p["sPermit"] = 0; p["s"] = 1; break;
            case "producer-permit-negative": p["role"] = "producer"; p["sPermit"] = -3; p["s"] = 1; break;
            case "producer-no-permit": p["role"] = "producer"; p["s"] = 1; break;
            case "producer-no-s": p["role"] = "producer"; p["sPermit"] = 100; break;
            case "timestamp-without-offset": intervals[0]!["start"] = "2026-03-02T10:00:00"; break;
            case "event-timestamp-without-offset": events[0]!["end"] = "2026-03-02T11:00:00"; break;
            case "timestamp-garbage": intervals[0]!["start"] = "yesterday at noonZ"; break;
            case "duplicate-interval": intervals[1]!["start"] = "2026-03-02T10:00:00Z"; break;
            case "duplicate-interval-other-offset": intervals[1]!["start"] = "2026-03-02T11:00:00+01:00"; break;
            case "unknown-zone": p["timeZone"] = "Mars/Olympus_Mons"; break;
            case "bad-kind": events[0]!["kind"] = "brownout"; break;
            case "bad-role": p["role"] = "prosumer"; break;
            case "string-number": p["gamma"] = "0.5"; break;
            case "string-energy": intervals[0]!["elecKwh"] = "1"; break;
            case "fractional-minutes": intervals[0]!["minutes"] = 15.5m; break;
            case "zero-minutes": intervals[0]!["minutes"] = 0; break;
            case "bad-month": p["month"] = "2026-3"; break;
            case "event-end-before-start": events[0]!["end"] = "2026-03-02T10:00:00Z"; break;
            case "duplicate-event-id": events.Add(JsonNode.Parse("""{ "id": "e1", "kind": "demand-response", "start": "2026-03-02T12:00:00Z", "end": "2026-03-02T13:00:00Z" }""")); break;
            case "negative-energy": intervals[0]!["elecKwh"] = -1; break;
            case "clean-above-total": intervals[0]!["cleanElecKwh"] = 2; break;
            case "step-min-zero": p["congestionSteps"]![0]!["minKw"] = 0; break;
            case "duplicate-step": p["congestionSteps"]![1]!["minKw"] = 1; break;
            case "threshold-zero": p["congestionThreshold"] = 0; break;
            case "fractional-nmax": p["nMax"] = 10.5m; break;
            case "negative-carry": p["congestionCarryIn"] = -0.5m; break;
            default: throw new ArgumentOutOfRangeException(nameof(mutation), mutation, null);
        }
        return doc.ToJsonString();
    }
}
