using EdgeMeter.Agent.Configuration;
using EdgeMeter.Agent.Hosting;
using EdgeMeter.Agent.Tests.Support;
using Microsoft.Extensions.Logging.Abstractions;

namespace EdgeMeter.Agent.Tests.Metering;

public sealed class MeterStatusTests
{
    [Fact]
    public async Task The_agent_status_carries_each_meters_traffic_counters_and_breaker()
    {
        await using var simulated = SimulatedMeter.Start(1, ("active_power", 2340m));
        var endpoint = simulated.Endpoint;
        using var dir = new TempDir();
        var options = new AgentOptions
        {
            DataDirectory = dir.Path,
            Http = new HttpOptions { Url = "" },
            Storage = new StorageOptions { CommitIntervalSeconds = 0 },
            Meters =
            [
                new MeterOptions { Id = "live", Endpoint = endpoint, Unit = 1, Map = "eastron-sdm630", TimeoutMs = 2000 },
                new MeterOptions { Id = "dead", Endpoint = endpoint, Unit = 5, Map = "eastron-sdm630", TimeoutMs = 100 },
            ],
        };
        await using var agent = new AgentRuntime(options, NullLoggerFactory.Instance, displayMirror: TextWriter.Null);

        for (var i = 0; i < 4; i++)
            await agent.Poller.PollOnceAsync(CancellationToken.None);

        var status = agent.Current;
        var live = status.Meters.Single(m => m.MeterId == "live");
        var dead = status.Meters.Single(m => m.MeterId == "dead");
        Assert.True(live.Online);
        Assert.Equal(2340m, live.ActivePowerW);
        Assert.Equal("closed", live.Breaker);
        Assert.Equal(0, live.Timeouts);
        Assert.True(live.Requests >= 4 && live.MeanLatencyMs > 0, $"{live.Requests} requests, {live.MeanLatencyMs} ms");
        Assert.False(dead.Online);
        Assert.Equal("open", dead.Breaker);
        Assert.True(dead.Timeouts >= 3, $"{dead.Timeouts} timeouts");
        Assert.Equal(12, status.Counters.Stored);
    }
}
