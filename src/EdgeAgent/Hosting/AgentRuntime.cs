using EdgeMeter.Agent.Configuration;
using EdgeMeter.Agent.Display;
using EdgeMeter.Agent.Factors;
using EdgeMeter.Agent.Metering;
using EdgeMeter.Agent.Pairing;
using EdgeMeter.Agent.Status;
using EdgeMeter.Agent.Storage;
using EdgeMeter.Agent.Sync;
using EdgeMeter.Agent.Time;
using EdgeMeter.Agent.Web;
using EdgeMeter.Crypto.Keys;
using EdgeMeter.Crypto.Records;
using EdgeMeter.Crypto.Signing;
using EdgeMeter.Protocols.Modbus;
using Microsoft.Extensions.Logging;

namespace EdgeMeter.Agent.Hosting;

/// <summary>
/// The agent itself, composed from validated options: key, record store, meters, poller, uplink, retention.
/// Used by <c>edgemeter run</c> (under the generic host) and by <c>edgemeter demo</c>. Owns everything it opens.
/// </summary>
internal sealed partial class AgentRuntime : IAgentStatusSource, IAsyncDisposable
{
    public const string KeyFileName = "device.key";

    private readonly AgentOptions _options;
    private readonly ILoggerFactory _loggers;
    private readonly ILogger<AgentRuntime> _log;
    private readonly TimeProvider _time;
    private readonly MeterSources _buses;

    private readonly TextWriter _displayMirror;

    /// <param name="options">Validated options.</param>
    /// <param name="loggers">Log sink.</param>
    /// <param name="time">Clock; the system clock by default.</param>
    /// <param name="displayMirror">Where the LCD is mirrored when no display answers on I2C (stdout by default).</param>
    public AgentRuntime(AgentOptions options, ILoggerFactory loggers, TimeProvider? time = null, TextWriter? displayMirror = null)
    {
        _displayMirror = displayMirror ?? Console.Out;
        _options = options;
        _loggers = loggers;
        _log = loggers.CreateLogger<AgentRuntime>();
        _time = time ?? TimeProvider.System;

        // The key lives here: owner only, whoever created the folder (systemd's StateDirectoryMode says the same).
        Directory.CreateDirectory(options.DataDirectory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        Key = FileDeviceKey.LoadOrCreate(Path.Combine(options.DataDirectory, KeyFileName));
        Signer = new RecordSigner(Key, Eip712Domain.ForReadings(options.ChainId));
        Store = new RecordStore(options.DataDirectory);
        Boot = BootCounter.Increment(options.DataDirectory);
        Pairing = new FilePairingService(options.DataDirectory, _time, loggers.CreateLogger<FilePairingService>());
        Factors = new FactorService(options.DataDirectory, options.Factors.IntervalMinutes, options.Factors.IncludeCurrentInterval,
            () => Pairing.GetState().OperatorAddress, loggers.CreateLogger<FactorService>());
        Clock = new ClockMonitor(new SystemClockSource(), TimeSpan.FromSeconds(2));
        Clock.ClockJumped += (_, jump) => LogClockJump(jump.JumpMs, jump.BeforeMs, jump.AfterMs);
        Clock.StatusChanged += (_, status) => LogTimeStatus(status);
        TimeStatusNow = () => Clock.Sample().Status;
        Meters = options.Meters.Select(m => new MeterChannel(m, DlmsMeterOptions.IsDlms(m) ? DlmsQuantities.MapFor(m) : RegisterMaps.Resolve(m.Map))).ToList();
        _buses = new MeterSources(Meters, options.DataDirectory, _time);
        Poller = new MeterPoller(Meters, _buses, Store, Signer, () => TimeStatusNow(), Metrics, _time, loggers.CreateLogger<MeterPoller>())
        {
            CommitInterval = TimeSpan.FromSeconds(options.Storage.CommitIntervalSeconds),
        };
        if (!string.IsNullOrEmpty(options.Mqtt.Broker))
        {
            Uplink = new MqttUplink(options.Mqtt, Store, Key.Address, options.ChainId, Metrics, Boot, loggers.CreateLogger<MqttUplink>());
            Poller.Stored += _ => Uplink.Notify();
            Uplink.Downlink += (topic, payload) => Factors.HandleOperatorMessage(topic[(topic.LastIndexOf('/') + 1)..], payload.Span);
        }
        Poller.Stored += Factors.Add;
        // The saved month plus what was stored after it: a restart (or a crash) forgets nothing of the month.
        const int replayPage = 5000;
        for (var next = Factors.Accumulator.ThroughSequence + 1; next <= Store.Head.Sequence;)
        {
            var page = Store.ReadRange(next, Store.Head.Sequence, replayPage);
            if (page.Count == 0)
                break;
            Factors.Add(page);
            next = page[^1].Record.Sequence + 1;
        }
    }

    public IDeviceKey Key { get; }

    public RecordSigner Signer { get; }

    public RecordStore Store { get; }

    public BootCounter Boot { get; }

    public IReadOnlyList<MeterChannel> Meters { get; }

    public MeterPoller Poller { get; }

    public MqttUplink? Uplink { get; }

    public PipelineMetrics Metrics { get; } = new();

    public FilePairingService Pairing { get; }

    public FactorService Factors { get; }

    /// <summary>The local page, once started; null when <c>http.url</c> is empty.</summary>
    public WebServer? Web { get; private set; }

    /// <summary>Watches NTP state and clock jumps; every record carries its verdict.</summary>
    public ClockMonitor Clock { get; }

    /// <summary>The time status for new records: sampled once per poll cycle from <see cref="Clock"/>.</summary>
    public Func<TimeStatus> TimeStatusNow { get; set; }

    public async Task RunAsync(CancellationToken ct)
    {
        LogStarting(Key.Address, Meters.Count, Store.Head.Sequence, Store.PendingCount);
        if (!string.IsNullOrEmpty(_options.Http.Url))
        {
            Web = new WebServer(new Uri(_options.Http.Url), this, Pairing, _loggers.CreateLogger<WebServer>());
            await Web.StartAsync(ct).ConfigureAwait(false);
            LogWeb(Web.BoundUrl.ToString());
        }
        var d = _options.Display;
        using var display = DisplayFactory.Create(d.I2cBus, d.Address, d.Columns, d.Rows, _log, _displayMirror);
        var presenter = new DisplayPresenter(display, this, Pairing, _time, _loggers.CreateLogger<DisplayPresenter>());
        var displayTask = presenter.RunAsync(TimeSpan.FromSeconds(1), ct);

        using var uplinkStop = new CancellationTokenSource();
        var uplink = Uplink?.RunAsync(uplinkStop.Token) ?? Task.CompletedTask;
        await Task.WhenAll(Poller.RunAsync(TimeSpan.FromSeconds(_options.PollIntervalSeconds), ct), RetentionLoopAsync(ct), ClaimLoopAsync(ct)).ConfigureAwait(false);

        // Stopping (SIGTERM, end of demo): no new readings; give the uplink a moment to hand the outbox to the
        // ledger. What it cannot send stays on disk for the next start.
        if (Uplink is not null)
        {
            Uplink.Flush();
            var deadline = _time.GetUtcNow() + ShutdownDrain;
            while (Store.PendingCount > 0 && Uplink.Connected && _time.GetUtcNow() < deadline)
                await Task.Delay(50, CancellationToken.None).ConfigureAwait(false);
        }
        await uplinkStop.CancelAsync().ConfigureAwait(false);
        await uplink.ConfigureAwait(false);
        Factors.SaveState();
        try
        {
            await displayTask.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }
    }

    private static readonly TimeSpan ShutdownDrain = TimeSpan.FromSeconds(5);

    public AgentStatus Current => new()
    {
        DeviceAddress = Key.Address,
        Version = AgentVersion.Text,
        Timestamp = _time.GetUtcNow(),
        TimeStatus = Clock.Status,
        Meters = Meters.Select(MeterStatusOf).ToList(),
        Counters = Metrics.Snapshot(Store.PendingCount),
        UplinkConnected = Uplink?.Connected ?? false,
        ConfirmedBalance = Uplink?.ConfirmedBalance,
        Provisional = Factors.Provisional(),
        Pairing = Pairing.Status,
    };

    private MeterStatus MeterStatusOf(MeterChannel m)
    {
        var last = Poller.Last(m.Id);
        var traffic = _buses.Status.GetValueOrDefault(m.Id);
        return new MeterStatus
        {
            Requests = traffic?.Traffic.Requests ?? 0,
            Timeouts = traffic?.Traffic.Timeouts ?? 0,
            Errors = (traffic?.Traffic.CrcErrors ?? 0) + (traffic?.Traffic.FrameErrors ?? 0) + (traffic?.Traffic.Exceptions ?? 0),
            CrcErrors = traffic?.Traffic.CrcErrors ?? 0,
            Exceptions = traffic?.Traffic.Exceptions ?? 0,
            MeanLatencyMs = traffic?.Traffic.MeanLatency.TotalMilliseconds ?? 0,
            Breaker = traffic?.Breaker switch
            {
                EdgeMeter.Protocols.Modbus.CircuitState.Open => "open",
                EdgeMeter.Protocols.Modbus.CircuitState.HalfOpen => "half-open",
                _ => "closed",
            },
            MeterId = m.Id,
            Source = m.Source,
            Clean = m.Clean,
            Online = last?.Online ?? false,
            LastReadingAt = last?.At,
            ActivePowerW = ValueOf(last, "active_power"),
            EnergyKwh = ValueOf(last, m.Source == EnergySource.GridExport ? "export_active_energy" : "import_active_energy") / 1000m,
        };
    }

    private static decimal? ValueOf(MeterSnapshot? snapshot, string quantity)
    {
        if (snapshot is null)
            return null;
        foreach (var v in snapshot.Values)
        {
            if (v.Quantity == quantity)
                return Decimals.FromScaled(v.Mantissa, v.Scaler);
        }
        return null;
    }

    /// <summary>
    /// Sends the month's claim when the month (in the parameters' zone) turns, for the month that ended, and every
    /// <see cref="FactorsOptions.ClaimEverySeconds"/> for the month so far. The ledger keeps the latest per month.
    /// </summary>
    private async Task ClaimLoopAsync(CancellationToken ct)
    {
        if (Uplink is null)
            return;
        var every = _options.Factors.ClaimEverySeconds > 0 ? TimeSpan.FromSeconds(_options.Factors.ClaimEverySeconds) : TimeSpan.FromMinutes(1);
        using var timer = new PeriodicTimer(every < TimeSpan.FromMinutes(1) ? every : TimeSpan.FromMinutes(1), _time);
        FactorMonth? month = null;
        var lastSent = _time.GetUtcNow();
        try
        {
            while (await timer.WaitForNextTickAsync(ct).ConfigureAwait(false))
            {
                if (Factors.Accumulator.LatestReadingTime is not { } latest)
                    continue;
                var now = FactorMonth.Of(latest, Factors.Params.TimeZone);
                if (month is { } previous && previous != now)
                    await SendClaimAsync(previous.StartIn(Factors.Params.TimeZone), ct).ConfigureAwait(false);
                month = now;
                if (_options.Factors.ClaimEverySeconds > 0 && _time.GetUtcNow() - lastSent >= every)
                {
                    lastSent = _time.GetUtcNow();
                    await SendClaimAsync(latest, ct).ConfigureAwait(false);
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>Builds, signs and publishes the claim for the month of <paramref name="at"/>; false when there is nothing to claim or no uplink.</summary>
    public async Task<bool> SendClaimAsync(DateTimeOffset? at, CancellationToken ct)
    {
        if (Uplink is null || Factors.BuildClaim(Key.Address, at) is not { } claim)
            return false;
        var envelope = SignedEnvelope.Create(claim.ToCanonicalJson(), Key);
        try
        {
            await Uplink.PublishClaimAsync(envelope, ct).ConfigureAwait(false);
            LogClaimSent(claim.Result.Month.ToString(), claim.Result.TotalTokens);
            return true;
        }
        catch (Exception e) when (e is IOException or InvalidOperationException or MQTTnet.Exceptions.MqttCommunicationException)
        {
            LogClaimFailed(e.Message);
            return false;
        }
    }

    /// <summary>
    /// Every 15 minutes: save the month's factor state; prune confirmed records past retention, and when the disk runs low, confirmed records
    /// oldest first. Unconfirmed records are never pruned; a full disk with only unconfirmed records raises an alarm.
    /// </summary>
    private async Task RetentionLoopAsync(CancellationToken ct)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromMinutes(15), _time);
        try
        {
            while (await timer.WaitForNextTickAsync(ct).ConfigureAwait(false))
            {
                Factors.SaveState();
                var now = _time.GetUtcNow().ToUnixTimeMilliseconds();
                var cutoff = now - (long)TimeSpan.FromDays(_options.Storage.RetainConfirmedDays).TotalMilliseconds;
                var pruned = Store.PruneConfirmed(cutoff, 100_000);
                var free = new DriveInfo(_options.DataDirectory).AvailableFreeSpace / (1024 * 1024);
                if (free < _options.Storage.MinFreeMegabytes)
                {
                    pruned += Store.PruneConfirmed(long.MaxValue, 100_000);
                    free = new DriveInfo(_options.DataDirectory).AvailableFreeSpace / (1024 * 1024);
                    if (free < _options.Storage.MinFreeMegabytes)
                        LogDiskAlarm(free, Store.PendingCount);
                }
                if (pruned > 0)
                    LogPruned(pruned);
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (Web is not null)
            await Web.DisposeAsync().ConfigureAwait(false);
        if (Uplink is not null)
            await Uplink.DisposeAsync().ConfigureAwait(false);
        await _buses.DisposeAsync().ConfigureAwait(false);
        Store.Dispose();
        Key.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "EdgeMeter {Device} starting: {Meters} meters, chain at seq {Seq}, {Pending} records pending")]
    private partial void LogStarting(string device, int meters, ulong seq, long pending);

    [LoggerMessage(Level = LogLevel.Information, Message = "Sent token claim for {Month}: {Tokens} tokens")]
    private partial void LogClaimSent(string month, long tokens);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Token claim not sent, will be sent again: {Reason}")]
    private partial void LogClaimFailed(string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Clock jumped by {JumpMs} ms (wall clock {BeforeMs} -> {AfterMs}); records are marked Relative until NTP synchronises")]
    private partial void LogClockJump(long jumpMs, long beforeMs, long afterMs);

    [LoggerMessage(Level = LogLevel.Information, Message = "Time status is now {Status}")]
    private partial void LogTimeStatus(TimeStatus status);

    [LoggerMessage(Level = LogLevel.Information, Message = "Local page at {Url}")]
    private partial void LogWeb(string url);

    [LoggerMessage(Level = LogLevel.Information, Message = "Pruned {Count} confirmed records")]
    private partial void LogPruned(int count);

    [LoggerMessage(Level = LogLevel.Critical, Message = "DISK ALARM: {FreeMb} MB free and {Pending} unconfirmed records that will not be deleted")]
    private partial void LogDiskAlarm(long freeMb, long pending);
}

/// <summary>Decimal helpers for scaled integers.</summary>
internal static class Decimals
{
    /// <summary>mantissa · 10^scaler, exactly.</summary>
    public static decimal FromScaled(long mantissa, sbyte scaler)
    {
        var power = 1m;
        for (var i = 0; i < Math.Abs(scaler); i++)
            power *= 10m;
        return scaler >= 0 ? mantissa * power : mantissa / power;
    }
}

/// <summary>The agent's version string.</summary>
internal static class AgentVersion
{
    public static string Text { get; } =
        typeof(AgentVersion).Assembly.GetCustomAttributes(typeof(System.Reflection.AssemblyInformationalVersionAttribute), false) is [System.Reflection.AssemblyInformationalVersionAttribute a, ..]
            ? a.InformationalVersion
            : "0.0.0";
}

/// <summary>Finds a register map by shipped name or file path.</summary>
internal static class RegisterMaps
{
    public static RegisterMap Resolve(string nameOrPath) => RegisterMapCatalog.Resolve(nameOrPath);

    /// <summary>For config validation: null when the map resolves, else why not.</summary>
    public static string? Check(string nameOrPath)
    {
        try
        {
            Resolve(nameOrPath);
            return null;
        }
        catch (Exception e) when (e is RegisterMapException or FileNotFoundException or KeyNotFoundException or ArgumentException or IOException)
        {
            return e.Message;
        }
    }
}
