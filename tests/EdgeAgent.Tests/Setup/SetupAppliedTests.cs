using EdgeMeter.Agent.Configuration;
using EdgeMeter.Agent.Hosting;
using EdgeMeter.Agent.Metering;
using EdgeMeter.Agent.Setup;
using EdgeMeter.Agent.Sync;
using EdgeMeter.Agent.Tests.Support;
using EdgeMeter.Crypto.Records;
using Microsoft.Extensions.Logging;
using Xunit;

namespace EdgeMeter.Agent.Tests.Setup;

/// <summary>A change saved through setup reaches the running agent: no restart.</summary>
public sealed class SetupAppliedTests
{
    [Fact]
    public async Task A_meter_and_an_uplink_saved_by_setup_are_polled_and_connected_without_a_restart()
    {
        await using var grid = SimulatedMeter.Start(1, ("active_power", 500m));
        await using var wind = SimulatedMeter.Start(7, ("active_power", 1234.5m), ("import_active_energy", 4321000m));
        await using var broker = await EmbeddedBroker.StartAsync();
        using var dir = new TempDir();
        var path = Path.Combine(dir.Path, "edgemeter.json");
        File.WriteAllText(path, $$"""
            { "dataDirectory": "{{dir.Path}}/data", "pollIntervalSeconds": 0.2, "http": { "url": "" }, "storage": { "commitIntervalSeconds": 0 },
              "meters": [ { "id": "grid", "endpoint": "{{grid.Endpoint}}", "unit": 1, "map": "eastron-sdm630", "source": "GridImport" } ] }
            """);
        var logs = new ListLoggerProvider();
        using var loggers = LoggerFactory.Create(b => b.AddProvider(logs));
        var options = ConfigLoader.Load(ConfigLoader.Build(path), path, requireMeters: true, MeterEndpoints.Check, RegisterMaps.Check);
        await using var agent = new AgentRuntime(options, loggers, displayMirror: TextWriter.Null, configPath: path);
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var run = agent.RunAsync(stop.Token);
        await Until(() => agent.Current.Meters.Any(m => m.MeterId == "grid" && m.ActivePowerW == 500m), stop.Token);
        Assert.Null(agent.Uplink);

        var saved = agent.Setup!.SaveMeter(new MeterSetup { Id = "garage-wind", Endpoint = wind.Endpoint, Unit = 7, Map = "eastron-sdm630", Source = EnergySource.Wind });
        Assert.True(saved.Ok);
        await Until(() => agent.Current.Meters.Any(m => m.MeterId == "garage-wind" && m.ActivePowerW == 1234.5m && m.Online), stop.Token);

        Assert.True(agent.Setup.SaveUplink(new UplinkSetup(broker.Url, null, null, "5")).Ok);
        await Until(() => agent.Uplink is { Connected: true }, stop.Token);
        await Until(() => agent.Metrics.Snapshot(0).Published > 0, stop.Token);

        Assert.Equal(["grid", "garage-wind"], agent.Current.Meters.Select(m => m.MeterId));
        Assert.Contains(agent.Store.ReadRange(1, agent.Store.Head.Sequence, 10_000), r => r.Reading!.MeterId == "garage-wind" && r.Reading!.Source == EnergySource.Wind);
        Assert.Contains(logs.Lines, l => l.Contains("Meters changed by setup: now polling 2 meters", StringComparison.Ordinal));
        await stop.CancelAsync();
        await run;
    }

    private static async Task Until(Func<bool> condition, CancellationToken ct)
    {
        while (!condition())
            await Task.Delay(20, ct);
    }
}
