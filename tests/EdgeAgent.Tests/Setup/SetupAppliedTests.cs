using EdgeMeter.Agent.Configuration;
using EdgeMeter.Agent.Hosting;
using EdgeMeter.Agent.Metering;
using EdgeMeter.Agent.Setup;
using EdgeMeter.Agent.Sync;
using EdgeMeter.Agent.Tests.Support;
using EdgeMeter.Crypto.Records;
using EdgeMeter.Protocols.Dlms;
using EdgeMeter.Protocols.Dlms.Simulator;
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

    [Fact]
    public async Task A_dlms_meter_saved_by_setup_is_polled_without_a_restart()
    {
        await using var grid = SimulatedMeter.Start(1, ("active_power", 500m));
        await using var dlms = DlmsSimulatorServer.Start(SimulatedDlmsMeter.Typical(
            new SimulatedMeterSecurity { AllowNoAuthentication = false, Password = "12345678"u8.ToArray() }, wattHoursPerHour: 4321), DlmsFraming.Wrapper);
        using var dir = new TempDir();
        var path = Path.Combine(dir.Path, "edgemeter.json");
        File.WriteAllText(path, $$"""
            { "dataDirectory": "{{dir.Path}}/data", "pollIntervalSeconds": 0.2, "http": { "url": "" }, "storage": { "commitIntervalSeconds": 0 },
              "meters": [ { "id": "grid", "endpoint": "{{grid.Endpoint}}", "unit": 1, "map": "eastron-sdm630", "source": "GridImport" } ] }
            """);
        using var loggers = LoggerFactory.Create(_ => { });
        var options = ConfigLoader.Load(ConfigLoader.Build(path), path, requireMeters: true, MeterEndpoints.Check, RegisterMaps.Check);
        await using var agent = new AgentRuntime(options, loggers, displayMirror: TextWriter.Null, configPath: path);
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var run = agent.RunAsync(stop.Token);
        await Until(() => agent.Current.Meters.Any(m => m.MeterId == "grid" && m.Online), stop.Token);

        var saved = agent.Setup!.SaveMeter(new MeterSetup
        {
            Id = "flat-dlms", Protocol = "dlms", Endpoint = $"tcp://127.0.0.1:{dlms.Port}", Source = EnergySource.Chp, TimeoutMs = 2000,
            Dlms = new DlmsSetup { Client = 17, Auth = "low", Password = "12345678", Obis = ["1.0.1.8.0.255", "1.0.1.7.0.255"] },
        });

        Assert.True(saved.Ok, string.Join("; ", saved.Errors));
        await Until(() => agent.Current.Meters.Any(m => m.MeterId == "flat-dlms" && m.ActivePowerW == 4321m && m.Online), stop.Token);
        var records = agent.Store.ReadRange(1, agent.Store.Head.Sequence, 10_000).Select(r => r.Reading).OfType<ReadingRecord>().Where(r => r.MeterId == "flat-dlms").ToList();
        Assert.Contains(records, r => r.Obis == "1-0:1.7.0*255" && r.Value == 43210 && r.Scaler == -1 && r.Unit == "W" && r.Source == EnergySource.Chp);
        await stop.CancelAsync();
        await run;
    }

    private static async Task Until(Func<bool> condition, CancellationToken ct)
    {
        while (!condition())
            await Task.Delay(20, ct);
    }
}
