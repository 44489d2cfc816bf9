using System.Text.Json;
using EdgeMeter.Interop.Tests.Support;

namespace EdgeMeter.Interop.Tests.Mqtt;

[Collection(AotCollection.Name)]
public sealed class BacklogDrainTests(AotBinaryFixture aot)
{
    [Fact]
    public async Task A_day_of_backlog_drains_completely_and_the_ledger_holds_each_record_once()
    {
        const int day = 86_400;
        var data = Directory.CreateTempSubdirectory("edgemeter-backlog-").FullName;

        // --exit-after is a bound, not the measurement: drainSeconds is reported for the benchmark in the README.
        var demo = await Processes.RunAsync(aot.Binary, ["demo", "--backlog", day.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--exit-after", "60", "--data", data, "--http", "http://127.0.0.1:0"], TimeSpan.FromMinutes(4));

        Assert.True(demo.ExitCode == 0, demo.Err);
        var last = JsonDocument.Parse(demo.Out.Trim().Split('\n')[^1]).RootElement;
        Assert.True(last.TryGetProperty("drainSeconds", out var drain) && drain.GetDouble() > 0, demo.Out);
        Assert.True(last.GetProperty("confirmed").GetInt64() >= day, demo.Out);
        // Live readings are never starved behind the backlog: the demo's meters kept being polled and signed (about 35
        // records a second), and all but at most the last cycle's were confirmed by the ledger before the demo stopped.
        var live = last.GetProperty("signed").GetInt64() - day;
        Assert.True(live >= 500, demo.Out);
        Assert.True(last.GetProperty("confirmed").GetInt64() >= day + live - 40, demo.Out);

        var dump = await Processes.RunAsync(aot.Binary, ["ledger", "--dump", "--json", "--data", Path.Combine(data, "ledger")], TimeSpan.FromMinutes(2));
        Assert.True(dump.ExitCode == 0, dump.Err);
        var device = Assert.Single(JsonDocument.Parse(dump.Out).RootElement.GetProperty("devices").EnumerateArray());
        var highest = device.GetProperty("highestSeq").GetInt64();
        Assert.True(highest >= day);
        Assert.Equal(highest, device.GetProperty("accepted").GetInt64());
        Assert.Equal(1, device.GetProperty("lowestSeq").GetInt64());
        Assert.Empty(device.GetProperty("gaps").EnumerateArray());
        Assert.Empty(device.GetProperty("duplicates").EnumerateArray());
    }
}
