using System.Diagnostics;
using EdgeMeter.Agent.Configuration;
using EdgeMeter.Crypto.Files;
using EdgeMeter.Agent.Hosting;
using EdgeMeter.Agent.Ledger;
using EdgeMeter.Agent.Sync;
using EdgeMeter.Crypto.Records;
using EdgeMeter.Economics;
using Microsoft.Extensions.Logging;

namespace EdgeMeter.Agent.Demo;

/// <summary>What <c>edgemeter demo</c> was asked to do.</summary>
internal sealed record DemoSettings
{
    public string? DataDirectory { get; init; }
    public string HttpUrl { get; init; } = "http://127.0.0.1:8080";
    public TimeSpan? ExitAfter { get; init; }
    public MqttOptions? ExternalBroker { get; init; }
    public bool NoLedger { get; init; }
    /// <summary>With <see cref="NoLedger"/>: the external ledger's address (<c>--ledger-address</c>).</summary>
    public string? LedgerAddress { get; init; }
    public int Backlog { get; init; }
    /// <summary>Meters polled: the grid and PV meter, then more of each on the same simulated units.</summary>
    public int MeterCount { get; init; } = 2;
    public ulong ChainId { get; init; } = 31337;
    public string? LcdTrace { get; init; }
    /// <summary>Stop as soon as the backlog is confirmed (for <c>edgemeter bench</c>).</summary>
    public bool StopWhenDrained { get; init; }
}

/// <summary>The demo's final line.</summary>
internal sealed record DemoResult(long Readings, long Signed, long Stored, long Published, long Confirmed, decimal Balance, double? DrainSeconds)
{
    /// <summary>Processor time the whole process used while the backlog drained (all threads, all cores).</summary>
    public double? DrainCpuSeconds { get; init; }

    /// <summary>Milliseconds from process start to the first signed live reading, and the poll that read it (-1: none).</summary>
    public long FirstSignedMs { get; init; } = -1;

    /// <summary>How long that first poll took (ms).</summary>
    public long FirstPollMs { get; init; } = -1;
}

/// <summary>
/// The walking skeleton in one process: simulated meters behind a real Modbus TCP socket, the agent (poll, sign,
/// store, publish), an MQTT broker and the development ledger, all on loopback, the same code paths as
/// <c>edgemeter run</c> and <c>edgemeter ledger</c>.
/// </summary>
internal sealed partial class DemoRunner(DemoSettings settings, ILoggerFactory loggers)
{
    private readonly ILogger<DemoRunner> _log = loggers.CreateLogger<DemoRunner>();

    public async Task<DemoResult> RunAsync(CancellationToken ct)
    {
        var dataDir = settings.DataDirectory ?? Path.Combine(Path.GetTempPath(), "edgemeter-demo-" + Guid.NewGuid().ToString("N")[..8]);
        AtomicFile.CreateDirectory(dataDir);
        dataDir = Path.GetFullPath(dataDir);

        await using var meters = new SimulatedMeters();
        meters.Start();
        await using var dlmsMeter = new DlmsDemoMeter();

        EmbeddedBroker? broker = null;
        var mqtt = settings.ExternalBroker;
        if (mqtt is null)
        {
            broker = await EmbeddedBroker.StartAsync().ConfigureAwait(false);
            mqtt = new MqttOptions { Broker = broker.Url };
        }

        DevLedger? ledger = null;
        Task? ledgerTask = null;
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        try
        {
            if (!settings.NoLedger)
            {
                ledger = new DevLedger(mqtt, Path.Combine(dataDir, "ledger"), settings.ChainId, loggers.CreateLogger<DevLedger>());
                await ledger.ConnectAsync(stop.Token).ConfigureAwait(false);
                ledgerTask = ledger.RunAsync(stop.Token);
            }

            var options = new AgentOptions
            {
                // The same layout as `run`: export, keys show and verify take --data DIR as the README writes them.
                DataDirectory = dataDir,
                ChainId = settings.ChainId,
                PollIntervalSeconds = 1,
                Meters = [.. DemoMeters(meters.Endpoint, settings.MeterCount), dlmsMeter.Options],
                Mqtt = mqtt,
                Http = new HttpOptions { Url = settings.HttpUrl },
                Display = new DisplayOptions { Trace = settings.LcdTrace },
                // The demo shows each reading on its way at once; a gateway on an SD card batches (storage.commitIntervalSeconds).
                Storage = new StorageOptions { CommitIntervalSeconds = 0 },
                // The demo's day lasts a minute: one-minute intervals, the interval in progress counted, and a
                // provisional claim every few seconds so the ledger's balance moves while you watch.
                Factors = new FactorsOptions { IntervalMinutes = 1, IncludeCurrentInterval = true, ClaimEverySeconds = 5 },
                // Receipts and balances count only when signed by this ledger: the in-process one, or --ledger-address.
                Ledger = new LedgerOptions { Address = ledger?.Address ?? settings.LedgerAddress },
            };
            // The local page's setup edits this file, as it edits /etc/edgemeter/edgemeter.json on a gateway.
            var configPath = Path.Combine(dataDir, "edgemeter.json");
            DemoConfigFile.Write(configPath, options);
            // The LCD mirror goes to stderr with the logs: stdout carries only the final JSON line.
            await using var agent = new AgentRuntime(options, loggers, displayMirror: Console.Error, configPath: configPath);
            LogDemo(agent.Key.Address, meters.Endpoint, mqtt.Broker, dataDir);

            ulong backlogThrough = 0;
            if (settings.Backlog > 0)
            {
                backlogThrough = BacklogFiller.Fill(agent, settings.Backlog);
                LogBacklog(settings.Backlog, backlogThrough);
            }

            if (settings.ExitAfter is { } after)
                stop.CancelAfter(after);
            var clock = Stopwatch.StartNew();
            var cpuAtStart = Process.GetCurrentProcess().TotalProcessorTime;
            double? drainSeconds = null, drainCpuSeconds = null;
            var runTask = agent.RunAsync(stop.Token);
            if (backlogThrough > 0)
            {
                while (!stop.IsCancellationRequested && agent.Store.Head.ConfirmedThrough < backlogThrough)
                    await Task.Delay(20, CancellationToken.None).ConfigureAwait(false);
                if (agent.Store.Head.ConfirmedThrough >= backlogThrough)
                {
                    drainSeconds = Math.Round(clock.Elapsed.TotalSeconds, 3);
                    drainCpuSeconds = Math.Round((Process.GetCurrentProcess().TotalProcessorTime - cpuAtStart).TotalSeconds, 3);
                    LogDrained(settings.Backlog, drainSeconds.Value);
                    if (settings.StopWhenDrained)
                        await stop.CancelAsync().ConfigureAwait(false);
                }
            }
            try
            {
                await runTask.ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
            }

            var counters = agent.Metrics.Snapshot(agent.Store.PendingCount);
            return new DemoResult(counters.Readings, counters.Signed, counters.Stored, counters.Published, counters.Confirmed,
                agent.Uplink?.ConfirmedBalance ?? 0m, drainSeconds)
            {
                DrainCpuSeconds = drainCpuSeconds,
                FirstSignedMs = agent.Metrics.FirstSignedSinceStartMs,
                FirstPollMs = agent.Metrics.FirstPollMs,
            };
        }
        finally
        {
            await stop.CancelAsync().ConfigureAwait(false);
            if (ledgerTask is not null)
                await ledgerTask.ConfigureAwait(false);
            if (ledger is not null)
                await ledger.DisposeAsync().ConfigureAwait(false);
            if (broker is not null)
                await broker.DisposeAsync().ConfigureAwait(false);
        }
    }

    private static List<MeterOptions> DemoMeters(string endpoint, int count) =>
        [.. Enumerable.Range(0, count).Select(i => i % 2 == 0
            ? new MeterOptions { Id = i < 2 ? "grid-sdm630" : $"grid-sdm630-{i + 1}", Endpoint = endpoint, Unit = SimulatedMeters.GridUnit, Map = SimulatedMeters.GridMap, Source = EnergySource.GridImport }
            : new MeterOptions { Id = i < 2 ? "pv-sdm120" : $"pv-sdm120-{i + 1}", Endpoint = endpoint, Unit = SimulatedMeters.PvUnit, Map = SimulatedMeters.PvMap, Source = EnergySource.Pv })];

    [LoggerMessage(Level = LogLevel.Information, Message = "Demo: device {Device}, meters at {Meters}, broker {Broker}, data in {Data}")]
    private partial void LogDemo(string device, string meters, string broker, string data);

    [LoggerMessage(Level = LogLevel.Information, Message = "Demo: outbox filled with a backlog of {Count} signed readings (through seq {Through})")]
    private partial void LogBacklog(int count, ulong through);

    [LoggerMessage(Level = LogLevel.Information, Message = "Demo: backlog of {Count} drained in {Seconds} s")]
    private partial void LogDrained(int count, double seconds);
}

/// <summary>Fills the outbox as if the uplink had been down: one signed energy reading per second of the past.</summary>
internal static class BacklogFiller
{
    public static ulong Fill(AgentRuntime agent, int count)
    {
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        const int batch = 3600;
        ulong through = agent.Store.Head.Sequence;
        for (var start = 0; start < count; start += batch)
        {
            var n = Math.Min(batch, count - start);
            var drafts = new ReadingRecord[n];
            for (var i = 0; i < n; i++)
            {
                var k = start + i;
                drafts[i] = new ReadingRecord
                {
                    Device = "",
                    Sequence = 0,
                    PrevHash = ReadOnlyMemory<byte>.Empty,
                    MeterId = "grid-sdm630",
                    Obis = "1-0:1.8.0*255",
                    Value = 1_000_000 + k,
                    Scaler = 0,
                    Unit = "Wh",
                    Source = EnergySource.GridImport,
                    Clean = false,
                    GatewayTimeMs = now - (long)(count - k) * 1000,
                    TimeStatus = TimeStatus.Synchronised,
                };
            }
            var signed = agent.Store.Append(drafts, agent.Signer);
            agent.Metrics.AddSigned(signed.Count);
            agent.Metrics.AddStored(signed.Count);
            through = signed[^1].Record.Sequence;
        }
        return through;
    }
}

/// <summary>Writes the demo's options as a configuration file, so that the local page's setup has one to edit.</summary>
internal static class DemoConfigFile
{
    public static void Write(string path, AgentOptions o)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>(2048);
        using (var w = new System.Text.Json.Utf8JsonWriter(buffer, new System.Text.Json.JsonWriterOptions { Indented = true }))
        {
            w.WriteStartObject();
            w.WriteString("dataDirectory", o.DataDirectory);
            w.WriteNumber("chainId", o.ChainId);
            w.WriteNumber("pollIntervalSeconds", o.PollIntervalSeconds);
            w.WriteStartArray("meters");
            foreach (var m in o.Meters)
            {
                w.WriteStartObject();
                w.WriteString("id", m.Id);
                w.WriteString("endpoint", m.Endpoint);
                w.WriteNumber("unit", m.Unit);
                w.WriteString("map", m.Map);
                w.WriteString("source", m.Source.ToString());
                if (DlmsMeterOptions.IsDlms(m))
                    WriteDlms(w, m);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteStartObject("mqtt");
            w.WriteString("broker", o.Mqtt.Broker);
            WriteIfSet(w, "username", o.Mqtt.Username);
            WriteIfSet(w, "password", o.Mqtt.Password);
            WriteIfSet(w, "caFile", o.Mqtt.CaFile);
            WriteIfSet(w, "certFile", o.Mqtt.CertFile);
            WriteIfSet(w, "keyFile", o.Mqtt.KeyFile);
            w.WriteString("protocol", o.Mqtt.Protocol);
            w.WriteEndObject();
            w.WriteStartObject("http");
            w.WriteString("url", o.Http.Url);
            w.WriteEndObject();
            w.WriteStartObject("storage");
            w.WriteNumber("commitIntervalSeconds", o.Storage.CommitIntervalSeconds);
            w.WriteEndObject();
            if (!string.IsNullOrEmpty(o.Ledger.Address))
            {
                w.WriteStartObject("ledger");
                w.WriteString("address", o.Ledger.Address);
                w.WriteEndObject();
            }
            w.WriteStartObject("factors");
            w.WriteNumber("intervalMinutes", o.Factors.IntervalMinutes);
            w.WriteBoolean("includeCurrentInterval", o.Factors.IncludeCurrentInterval);
            w.WriteNumber("claimEverySeconds", o.Factors.ClaimEverySeconds);
            w.WriteEndObject();
            w.WriteEndObject();
        }
        AtomicFile.Write(path, buffer.WrittenSpan);
    }

    /// <summary>The demo's DLMS meter as the file names it, so that a setup edit keeps it (and its keys) as they were.</summary>
    private static void WriteDlms(System.Text.Json.Utf8JsonWriter w, MeterOptions m)
    {
        w.WriteString("protocol", m.Protocol);
        w.WriteStartObject("dlms");
        WriteIfSet(w, "transport", m.Dlms.Transport);
        w.WriteNumber("client", m.Dlms.Client);
        w.WriteNumber("server", m.Dlms.Server);
        if (m.Dlms.PhysicalAddress is { } physical)
            w.WriteNumber("physicalAddress", physical);
        w.WriteString("authentication", m.Dlms.Authentication);
        WriteIfSet(w, "password", m.Dlms.Password);
        WriteIfSet(w, "blockCipherKey", m.Dlms.BlockCipherKey);
        WriteIfSet(w, "authenticationKey", m.Dlms.AuthenticationKey);
        WriteIfSet(w, "systemTitle", m.Dlms.SystemTitle);
        WriteIfSet(w, "loadProfile", m.Dlms.LoadProfile);
        if (m.Dlms.Obis.Count > 0)
        {
            w.WriteStartObject("obis");
            foreach (var (quantity, obis) in m.Dlms.Obis)
                w.WriteString(quantity, obis);
            w.WriteEndObject();
        }
        w.WriteEndObject();
    }

    private static void WriteIfSet(System.Text.Json.Utf8JsonWriter w, string name, string? value)
    {
        if (!string.IsNullOrEmpty(value))
            w.WriteString(name, value);
    }
}
