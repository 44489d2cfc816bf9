using EdgeMeter.Agent.Configuration;
using EdgeMeter.Agent.Display;
using EdgeMeter.Agent.Factors;
using EdgeMeter.Agent.Metering;
using EdgeMeter.Agent.Pairing;
using EdgeMeter.Agent.Setup;
using EdgeMeter.Agent.Status;
using EdgeMeter.Agent.Storage;
using EdgeMeter.Agent.Sync;
using EdgeMeter.Agent.Time;
using EdgeMeter.Agent.Web;
using EdgeMeter.Crypto.Files;
using EdgeMeter.Crypto.Keys;
using EdgeMeter.Crypto.Records;
using EdgeMeter.Crypto.Signing;
using EdgeMeter.Economics;
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

    private AgentOptions _options;
    private readonly ILoggerFactory _loggers;
    private readonly ILogger<AgentRuntime> _log;
    private readonly TimeProvider _time;
    private MeterSources _buses;
    /// <summary>HLS-GMAC counters, one instance per meter for the poller and the page's test read alike.</summary>
    private readonly DlmsCounterFiles _dlmsCounters = new();
    private CancellationTokenSource? _meteringCycle;
    private CancellationTokenSource? _uplinkCycle;
    private MqttOptions _uplinkOptions;

    private readonly TextWriter _displayMirror;

    /// <param name="options">Validated options.</param>
    /// <param name="loggers">Log sink.</param>
    /// <param name="time">Clock; the system clock by default.</param>
    /// <param name="displayMirror">Where the LCD is mirrored when no display answers on I2C (stdout by default).</param>
    /// <param name="configPath">The configuration file the local page's setup writes to; no setup when null.</param>
    public AgentRuntime(AgentOptions options, ILoggerFactory loggers, TimeProvider? time = null, TextWriter? displayMirror = null, string? configPath = null)
    {
        _displayMirror = displayMirror ?? Console.Out;
        _options = options;
        _loggers = loggers;
        _log = loggers.CreateLogger<AgentRuntime>();
        var clocks = AgentClocks.Start(options.Rtc, new SystemClockSource(), time ?? TimeProvider.System, loggers.CreateLogger<RealTimeClock>());
        _time = clocks.Time;
        Rtc = clocks.Rtc;

        // The key lives here: owner only, whoever created the folder (systemd's StateDirectoryMode says the same). A
        // folder made here is synced into its parent: a cut must not take it away with the key and the records in it.
        AtomicFile.CreateDirectory(options.DataDirectory, AtomicFile.OwnerOnlyDirectory);
        Key = FileDeviceKey.LoadOrCreate(Path.Combine(options.DataDirectory, KeyFileName));
        Signer = new RecordSigner(Key, Eip712Domain.ForReadings(options.ChainId));
        Store = new RecordStore(options.DataDirectory);
        Boot = BootCounter.Increment(options.DataDirectory);
        Pairing = new FilePairingService(options.DataDirectory, _time, loggers.CreateLogger<FilePairingService>());
        Factors = new FactorService(options.DataDirectory, options.Factors.IntervalMinutes, options.Factors.IncludeCurrentInterval,
            () => Pairing.GetState().OperatorAddress, loggers.CreateLogger<FactorService>())
        {
            Device = Key.Address,
            ChainId = options.ChainId,
            Time = _time,
        };
        ClaimOutbox = new ClaimOutbox(options.DataDirectory);
        // The month's claims go through whichever uplink runs now (the page's setup may replace it).
        Claims = new MonthlyClaims(Factors, ClaimOutbox, Key,
            (claim, ct) => Uplink?.PublishClaimAsync(claim, ct) ?? throw new InvalidOperationException("no uplink is configured"),
            _time, loggers.CreateLogger<MonthlyClaims>());
        Clock = clocks.Monitor;
        Clock.ClockJumped += (_, jump) => LogClockJump(jump.JumpMs, jump.BeforeMs, jump.AfterMs);
        Clock.StatusChanged += (_, status) => LogTimeStatus(status);
        TimeStatusNow = () => Clock.Sample().Status;
        (Meters, _buses, Poller) = BuildMetering(options.Meters);
        _uplinkOptions = options.Mqtt;
        Uplink = BuildUplink(options.Mqtt);
        if (configPath is not null)
        {
            Setup = new SetupService(configPath, options, requireMeters: true, MeterEndpoints.Check, loggers.CreateLogger<SetupService>(), _dlmsCounters, _time);
            Setup.Changed += Apply;
        }
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

    public IReadOnlyList<MeterChannel> Meters { get; private set; }

    public MeterPoller Poller { get; private set; }

    public MqttUplink? Uplink { get; private set; }

    /// <summary>The local page's setup (meters, uplink, time zone); null when the agent has no configuration file.</summary>
    public SetupService? Setup { get; }

    public PipelineMetrics Metrics { get; } = new();

    public FilePairingService Pairing { get; }

    public FactorService Factors { get; }

    /// <summary>The closed months' final claims, kept until the ledger's receipt.</summary>
    public ClaimOutbox ClaimOutbox { get; }

    /// <summary>Builds and sends the final claims; null without an uplink.</summary>
    public MonthlyClaims Claims { get; }

    /// <summary>The local page, once started; null when <c>http.url</c> is empty.</summary>
    public WebServer? Web { get; private set; }

    /// <summary>Watches NTP state and clock jumps; every record carries its verdict.</summary>
    public ClockMonitor Clock { get; }

    /// <summary>The DS3231 real-time clock, when one answered at start.</summary>
    public RealTimeClock? Rtc { get; }

    /// <summary>The time status for new records: sampled once per poll cycle from <see cref="Clock"/>.</summary>
    public Func<TimeStatus> TimeStatusNow { get; set; }

    public async Task RunAsync(CancellationToken ct)
    {
        LogStarting(Key.Address, Meters.Count, Store.Head.Sequence, Store.PendingCount);
        var d = _options.Display;
        using var display = DisplayFactory.Create(d, _log, _displayMirror, _time);
        // Without an LCD the pairing code goes to the log, the only place the person at the gateway can read it.
        Pairing.LogCodes = display is ConsoleDisplay;
        DisplayPresenter? presenter = null;
        if (!string.IsNullOrEmpty(_options.Http.Url))
        {
            Web = new WebServer(new Uri(_options.Http.Url), this, Pairing, _loggers.CreateLogger<WebServer>(), _time, new WebServerOptions
            {
                AllowedHosts = () => _options.Http.AllowedHosts,
                PublicSummary = () => _options.Http.PublicSummary,
                Setup = Setup,
                // What the LCD shows, minus the pairing code, which no web response may carry.
                LcdMirror = () => presenter?.MirrorPages() ?? [],
            });
            await Web.StartAsync(ct).ConfigureAwait(false);
            LogWeb(Web.BoundUrl.ToString());
        }
        presenter = new DisplayPresenter(display, this, Pairing, _time, _loggers.CreateLogger<DisplayPresenter>(),
            backlightTimeout: TimeSpan.FromSeconds(d.BacklightSeconds), ipAddress: NetworkAddress.Find,
            webUrl: () => Web is null ? null : NetworkAddress.WebUrl(Web.BoundUrl, NetworkAddress.Find()));
        using var button = GatewayButton.Open(_options.Button, presenter.ShortPress, presenter.LongPress, _log);
        // The display runs on through the shutdown drain, so that its last screen has the last balance.
        using var displayStop = new CancellationTokenSource();
        var displayTask = presenter.RunAsync(TimeSpan.FromSeconds(1), displayStop.Token);
        try
        {
            await RunPipelineAsync(displayTask, ct).ConfigureAwait(false);
        }
        finally
        {
            // No press may draw over the last screen.
            button?.Dispose();
            await displayStop.CancelAsync().ConfigureAwait(false);
            try
            {
                await displayTask.ConfigureAwait(false);
                presenter.ShowStopped();
            }
            catch (Exception e) when (e is IOException or OperationCanceledException)
            {
                // A display that failed was already reported by the supervisor; the stop goes on without it.
            }
        }
    }

    private async Task RunPipelineAsync(Task displayTask, CancellationToken ct)
    {
        using var uplinkStop = new CancellationTokenSource();
        var uplink = UplinkLoopAsync(uplinkStop.Token);
        try
        {
            await Supervision.RunAsync(
            [
                new("poller", MeteringLoopAsync),
                new("retention", RetentionLoopAsync),
                new("claims", ClaimLoopAsync),
                Supervision.Watch("uplink", uplink),
                Supervision.Watch("display", displayTask),
                new("watchdog", WatchdogLoopAsync),
            ], ct).ConfigureAwait(false);
        }
        catch (LoopFailedException e)
        {
            // One line naming the loop and the error; the caller exits non-zero and systemd restarts us.
            LogLoopFailed(e.Loop, e.InnerException!.GetType().Name, e.InnerException.Message);
            await uplinkStop.CancelAsync().ConfigureAwait(false);
            await Task.WhenAny(uplink, Task.Delay(ShutdownDrain, CancellationToken.None)).ConfigureAwait(false);
            throw;
        }

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
    }

    private static readonly TimeSpan ShutdownDrain = TimeSpan.FromSeconds(5);

    /// <summary>Sends systemd's WATCHDOG=1 (set by <c>edgemeter run</c> under systemd; null elsewhere).</summary>
    public Action? WatchdogPing { get; set; }

    private Task WatchdogLoopAsync(CancellationToken ct) =>
        WatchdogPing is { } ping && Watchdog.IntervalFromEnvironment() is { } interval
            ? new Watchdog(interval, StalledStage, ping, _loggers.CreateLogger<Watchdog>()).RunAsync(ct)
            : Task.CompletedTask;

    /// <summary>The stage that made no progress within <paramref name="window"/>, or null when all did.</summary>
    internal string? StalledStage(TimeSpan window)
    {
        var now = Environment.TickCount64;
        var limit = (long)window.TotalMilliseconds;
        // A slow poll interval is not a stall: a cycle may legitimately take that long to come round.
        var pollLimit = limit < 0 ? limit : Math.Max(limit, 2L * _options.PollIntervalSeconds * 1000 + 30_000);
        if (now - Poller.LastProgressMs > pollLimit)
            return "poller";
        if (Uplink is not null && now - Uplink.LastAliveMs > limit)
            return "uplink";
        return null;
    }

    private (IReadOnlyList<MeterChannel>, MeterSources, MeterPoller) BuildMetering(IReadOnlyList<MeterOptions> meters)
    {
        var channels = meters.Select(m => new MeterChannel(m, DlmsMeterOptions.IsDlms(m) ? DlmsQuantities.MapFor(m) : RegisterMaps.Resolve(m.Map))).ToList();
        var buses = new MeterSources(channels, _options.DataDirectory, _time, _dlmsCounters, id => Store.NewestInLastCommit(id, RecordOrigin.MeterMemory));
        var poller = new MeterPoller(channels, buses, Store, Signer, () => TimeStatusNow(), Metrics, _time, _loggers.CreateLogger<MeterPoller>())
        {
            CommitInterval = TimeSpan.FromSeconds(_options.Storage.CommitIntervalSeconds),
        };
        poller.Stored += _ => Uplink?.Notify();
        poller.Stored += Factors.Add;
        return (channels, buses, poller);
    }

    /// <summary>How long signing waits for the ledger's head when an uplink starts; then the gateway signs anyway.</summary>
    internal static readonly TimeSpan LedgerHeadWait = TimeSpan.FromSeconds(30);

    private MqttUplink? BuildUplink(MqttOptions mqtt)
    {
        if (string.IsNullOrEmpty(mqtt.Broker))
            return null;
        var uplink = new MqttUplink(mqtt, Store, Key.Address, _options.ChainId, Metrics, Boot, _loggers.CreateLogger<MqttUplink>())
        {
            // Never learnt from the broker: only the configured (or the in-process) ledger's signature counts.
            LedgerAddress = string.IsNullOrEmpty(_options.Ledger.Address) ? null : _options.Ledger.Address,
            Signer = Signer,
            TimeStatus = () => TimeStatusNow(),
        };
        // A store restored from an older copy must not sign numbers the ledger holds: signing waits (briefly) for its head.
        if (uplink.LedgerAddress is not null)
            Store.HoldSigningForLedgerHead(LedgerHeadWait);
        uplink.Downlink += (topic, payload) => Factors.HandleOperatorMessage(topic[(topic.LastIndexOf('/') + 1)..], payload.Span);
        uplink.ClaimReceiptReceived += Claims.OnReceipt;
        return uplink;
    }

    /// <summary>A change saved by the local page: meters and uplink restart with the new settings, the rest is read where used.</summary>
    private void Apply(AgentOptions updated)
    {
        _options = updated;
        Cancel(_meteringCycle);
        Cancel(_uplinkCycle);

        static void Cancel(CancellationTokenSource? cycle)
        {
            try
            {
                cycle?.Cancel();
            }
            catch (ObjectDisposedException)
            {
                // That cycle already ended; the loop checks the settings before its next one.
            }
        }
    }

    /// <summary>Polls until stopped; when the meters change, finishes the cycle, commits, and starts over with the new ones.</summary>
    private async Task MeteringLoopAsync(CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            var wanted = _options.Meters;
            if (!SameMeters(Meters, wanted))
            {
                await _buses.DisposeAsync().ConfigureAwait(false);
                (Meters, _buses, Poller) = BuildMetering(wanted);
                LogMetersApplied(Meters.Count);
            }
            using var cycle = CancellationTokenSource.CreateLinkedTokenSource(ct);
            _meteringCycle = cycle;
            if (!ReferenceEquals(wanted, _options.Meters) && !SameMeters(Meters, _options.Meters))
                continue;
            await Poller.RunAsync(TimeSpan.FromSeconds(_options.PollIntervalSeconds), cycle.Token).ConfigureAwait(false);
        }
    }

    /// <summary>Runs the uplink until stopped; when its settings change, disconnects and connects with the new ones.</summary>
    private async Task UplinkLoopAsync(CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            var wanted = _options.Mqtt;
            if (!SameMqtt(_uplinkOptions, wanted))
            {
                if (Uplink is { } old)
                    await old.DisposeAsync().ConfigureAwait(false);
                _uplinkOptions = wanted;
                Uplink = BuildUplink(wanted);
                LogUplinkApplied(string.IsNullOrEmpty(wanted.Broker) ? "(none)" : wanted.Broker);
            }
            using var cycle = CancellationTokenSource.CreateLinkedTokenSource(ct);
            _uplinkCycle = cycle;
            if (!SameMqtt(_uplinkOptions, _options.Mqtt))
                continue;
            try
            {
                if (Uplink is { } uplink)
                    await uplink.RunAsync(cycle.Token).ConfigureAwait(false);
                else
                    await Task.Delay(Timeout.Infinite, cycle.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
            }
        }
    }

    private static bool SameMeters(IReadOnlyList<MeterChannel> running, IReadOnlyList<MeterOptions> wanted) =>
        running.Count == wanted.Count && running.Zip(wanted).All(p => SameMeter(p.First.Options, p.Second));

    private static bool SameMeter(MeterOptions a, MeterOptions b) =>
        a.Id == b.Id && a.Endpoint == b.Endpoint && a.Unit == b.Unit && a.Map == b.Map && a.Source == b.Source
        && a.Clean == b.Clean && a.TimeoutMs == b.TimeoutMs && a.Record.SequenceEqual(b.Record)
        && string.Equals(a.Protocol, b.Protocol, StringComparison.OrdinalIgnoreCase) && SameDlms(a.Dlms, b.Dlms);

    private static bool SameDlms(DlmsMeterOptions a, DlmsMeterOptions b) =>
        a.Transport == b.Transport && a.Client == b.Client && a.Server == b.Server && a.PhysicalAddress == b.PhysicalAddress
        && a.Authentication == b.Authentication && a.Password == b.Password && a.BlockCipherKey == b.BlockCipherKey
        && a.AuthenticationKey == b.AuthenticationKey && a.SystemTitle == b.SystemTitle && a.LoadProfile == b.LoadProfile
        && a.Obis.Count == b.Obis.Count && a.Obis.All(o => b.Obis.TryGetValue(o.Key, out var v) && v == o.Value);

    private static bool SameMqtt(MqttOptions a, MqttOptions b) =>
        a.Broker == b.Broker && a.Username == b.Username && a.Password == b.Password && a.CaFile == b.CaFile
        && a.CertFile == b.CertFile && a.KeyFile == b.KeyFile && a.Protocol == b.Protocol
        && a.BatchMaxRecords == b.BatchMaxRecords && a.BatchMaxDelayMs == b.BatchMaxDelayMs && a.MaxInFlight == b.MaxInFlight;

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
        TimeFromRtc = Clock.TimeFromRtc,
        Health = HealthStatus.Read(_options.DataDirectory, _options.Storage.MinFreeMegabytes),
        LastReceiptAt = Uplink?.LastReceiptAt,
        TimeZone = string.IsNullOrEmpty(_options.TimeZone) ? null : _options.TimeZone,
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
    /// Every minute (and at start): stores the final claims of months that closed and sends what the ledger has not
    /// receipted yet (<see cref="MonthlyClaims"/>); every <see cref="FactorsOptions.ClaimEverySeconds"/>, also a
    /// claim for the running month, which the ledger shows as provisional, once the outbox holds no backlog.
    /// </summary>
    private async Task ClaimLoopAsync(CancellationToken ct)
    {
        // Runs without an uplink too: a month that closes is claimed and stored now, and sent once one is set up.
        var every = _options.Factors.ClaimEverySeconds > 0 ? TimeSpan.FromSeconds(_options.Factors.ClaimEverySeconds) : TimeSpan.FromMinutes(1);
        using var timer = new PeriodicTimer(every < TimeSpan.FromMinutes(1) ? every : TimeSpan.FromMinutes(1), _time);
        var lastSent = _time.GetUtcNow();
        try
        {
            do
            {
                Claims.BuildDue();
                if (Uplink is { Connected: true })
                    await Claims.SendPendingAsync(ct).ConfigureAwait(false);
                // Not while a backlog drains: a claim naming readings still in the outbox only waits at the ledger,
                // which judges it again after each burst of transactions and recomputes it in the path of the rest.
                if (_options.Factors.ClaimEverySeconds > 0 && _time.GetUtcNow() - lastSent >= every && Factors.Accumulator.LatestReadingTime is { } latest
                    && Store.PendingCount <= _options.Mqtt.BatchMaxRecords)
                {
                    lastSent = _time.GetUtcNow();
                    await SendClaimAsync(latest, ct).ConfigureAwait(false);
                }
            }
            while (await timer.WaitForNextTickAsync(ct).ConfigureAwait(false));
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
        ClaimOutbox.Dispose();
        Key.Dispose();
        Rtc?.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "EdgeMeter {Device} starting: {Meters} meters, chain at seq {Seq}, {Pending} records pending")]
    private partial void LogStarting(string device, int meters, ulong seq, long pending);

    [LoggerMessage(Level = LogLevel.Critical, Message = "The {Loop} loop failed, stopping the agent: {Error}: {Reason}")]
    private partial void LogLoopFailed(string loop, string error, string reason);

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

    [LoggerMessage(Level = LogLevel.Information, Message = "Meters changed by setup: now polling {Count} meters")]
    private partial void LogMetersApplied(int count);

    [LoggerMessage(Level = LogLevel.Information, Message = "Uplink changed by setup: now {Broker}")]
    private partial void LogUplinkApplied(string broker);

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
