using EdgeMeter.Agent.Status;
using EdgeMeter.Agent.Storage;
using EdgeMeter.Crypto.Records;
using EdgeMeter.Crypto.Signing;
using EdgeMeter.Protocols.Modbus;
using Microsoft.Extensions.Logging;

namespace EdgeMeter.Agent.Metering;

/// <summary>The last values read from one meter, for the page, the LCD and the factors.</summary>
internal sealed record MeterSnapshot(DateTimeOffset At, IReadOnlyList<QuantityReading> Values, bool Online);

/// <summary>
/// Polls every meter once per interval, turns the recorded quantities into records, and has the store number,
/// chain, sign and persist them in one transaction per cycle (one disk commit per cycle, not per value).
/// </summary>
internal sealed partial class MeterPoller
{
    private readonly IReadOnlyList<MeterChannel> _meters;
    private readonly IMeterSource _source;
    private readonly RecordStore _store;
    private readonly RecordSigner _signer;
    private readonly Func<TimeStatus> _timeStatus;
    private readonly PipelineMetrics _metrics;
    private readonly TimeProvider _time;
    private readonly ILogger<MeterPoller> _log;
    private readonly Dictionary<string, MeterSnapshot> _last = new(StringComparer.Ordinal);
    private readonly List<ReadingRecord> _pending = [];
    private readonly Dictionary<string, long> _failures = new(StringComparer.Ordinal);

    /// <summary>A meter that keeps failing is logged again after this many failed cycles.</summary>
    public const int RepeatFailureLogEvery = 300;
    /// <summary>When the last commit happened, on the monotonic clock; none yet means the next cycle commits at once.
    /// (Not 0: that clock counts from boot, so 0 is "a few seconds ago" on a gateway that just started.)</summary>
    private long? _lastCommitTicks;
    private readonly Lock _gate = new();

    public MeterPoller(
        IReadOnlyList<MeterChannel> meters,
        IMeterSource source,
        RecordStore store,
        RecordSigner signer,
        Func<TimeStatus> timeStatus,
        PipelineMetrics metrics,
        TimeProvider time,
        ILogger<MeterPoller> log)
    {
        _meters = meters;
        _source = source;
        _store = store;
        _signer = signer;
        _timeStatus = timeStatus;
        _metrics = metrics;
        _time = time;
        _log = log;
    }

    /// <summary>
    /// How long readings may wait in memory before they are signed and committed together (zero: every cycle).
    /// One LiteDB commit costs tens of kilobytes of page writes whatever it holds, so on an SD card a commit every
    /// few cycles is what keeps the bytes per reading small. A power cut loses at most this much of readings that
    /// were never signed or counted, never a signed one and never a sequence number; energy registers are
    /// cumulative, so no energy goes missing either.
    /// </summary>
    public TimeSpan CommitInterval { get; init; }

    /// <summary>Raised after each commit's records are on disk.</summary>
    public event Action<IReadOnlyList<SignedReading>>? Stored;

    public IReadOnlyList<MeterChannel> Meters => _meters;

    /// <summary>When a cycle last completed with its readings stored or buffered (monotonic ms), for the watchdog.</summary>
    public long LastProgressMs { get; private set; } = Environment.TickCount64;

    /// <summary>
    /// Unsigned readings kept in memory at most while the disk keeps failing; older ones are dropped and counted.
    /// Signed records are never dropped: a record is signed only in the commit that stores it.
    /// </summary>
    public int MaxUnsigned { get; init; } = 20_000;

    // How long the last poll's reads took (ms): the first poll's duration, when its readings are signed after it.
    private long _lastPollMs;

    /// <summary>Readings waiting to be signed and stored.</summary>
    public int UnsignedCount => _pending.Count;

    public MeterSnapshot? Last(string meterId)
    {
        lock (_gate)
            return _last.GetValueOrDefault(meterId);
    }

    public async Task RunAsync(TimeSpan interval, CancellationToken ct)
    {
        using var timer = new PeriodicTimer(interval, _time);
        try
        {
            await PollLoopAsync(timer, ct).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            // Stopping: the cycle in progress either committed or left nothing behind.
        }
        // An orderly stop commits what is buffered.
        try
        {
            Commit();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or LiteDB.LiteException)
        {
            LogStoreFailed(e.Message);
        }
    }

    private async Task PollLoopAsync(PeriodicTimer timer, CancellationToken ct)
    {
        do
        {
            try
            {
                await PollOnceAsync(ct).ConfigureAwait(false);
                LastProgressMs = Environment.TickCount64;
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                break;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or LiteDB.LiteException)
            {
                // The disk failed us: nothing was counted as taken. Say so loudly and try again next cycle.
                LogStoreFailed(e.Message);
            }
        }
        while (await NextTickAsync(timer, ct).ConfigureAwait(false));
    }

    // Waits for the next poll; when readings wait unsigned for the ledger's head and the head comes first, signs them
    // then: the first reading of a start is signed a round trip to the ledger after it was taken, not a poll later.
    private async ValueTask<bool> NextTickAsync(PeriodicTimer timer, CancellationToken ct)
    {
        if (_pending.Count == 0 || !_store.SigningHeld)
            return await timer.WaitForNextTickAsync(ct).ConfigureAwait(false);
        var tick = timer.WaitForNextTickAsync(ct).AsTask();
        var released = _store.SigningReleased;
        if (await Task.WhenAny(tick, released).ConfigureAwait(false) == released && !_store.SigningHeld)
        {
            try
            {
                CommitNoting(_lastPollMs);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or LiteDB.LiteException)
            {
                LogStoreFailed(e.Message);
            }
        }
        return await tick.ConfigureAwait(false);
    }

    // Commits what is buffered; the first records ever signed also record how long their poll took.
    private IReadOnlyList<SignedReading> CommitNoting(long pollMs)
    {
        var signed = Commit();
        if (signed.Count > 0 && _metrics.MarkFirstSigned(pollMs))
            LogFirstSigned(signed.Count, _metrics.FirstPollMs, _metrics.FirstSignedSinceStartMs);
        return signed;
    }

    /// <summary>Reads every meter once and stores the cycle's records. Returns them.</summary>
    public async Task<IReadOnlyList<SignedReading>> PollOnceAsync(CancellationToken ct)
    {
        var pollStarted = Environment.TickCount64;
        var results = await _source.ReadAllAsync(ct).ConfigureAwait(false);
        _lastPollMs = Environment.TickCount64 - pollStarted;
        var timeStatus = _timeStatus();
        var drafts = new List<ReadingRecord>();
        foreach (var read in results)
        {
            var meter = read.Meter;
            lock (_gate)
            {
                _last[meter.Id] = read.Values is not null
                    ? new MeterSnapshot(read.At, read.Values, Online: true)
                    : _last.TryGetValue(meter.Id, out var previous) ? previous with { Online = false } : new MeterSnapshot(read.At, [], Online: false);
            }
            if (read.Values is null)
            {
                // A failed read is never a value: no record, the meter shows offline, the log says why: on the
                // first failure and then every few minutes, not once a second into the journal.
                var failures = _failures[meter.Id] = _failures.GetValueOrDefault(meter.Id) + 1;
                if (failures == 1 || failures % RepeatFailureLogEvery == 0)
                    LogReadFailed(meter.Id, read.Error ?? "no answer", failures);
                continue;
            }
            if (_failures.Remove(meter.Id, out var failed))
                LogBackOnline(meter.Id, failed);
            _metrics.AddReadings(read.Values.Count + read.ReadBack.Count);
            // Rows read back from the meter's memory come first: they are older than this cycle's live values.
            foreach (var v in read.ReadBack)
            {
                drafts.Add(Draft(meter, read.At, timeStatus, v.Obis, v.Mantissa, v.Scaler, v.Unit) with
                {
                    MeterTimeMs = v.MeterTime.ToUnixTimeMilliseconds(),
                    Origin = RecordOrigin.MeterMemory,
                });
            }
            foreach (var v in read.Values)
            {
                if (meter.Recorded.Contains(v.Quantity))
                    drafts.Add(Draft(meter, read.At, timeStatus, v.Obis, v.Mantissa, v.Scaler, v.Unit));
            }
        }

        _pending.AddRange(drafts);
        if (_pending.Count > MaxUnsigned)
        {
            // Only while commits fail or signing waits (a commit empties the buffer): memory stays bounded, the oldest go first.
            var drop = _pending.Count - MaxUnsigned;
            _pending.RemoveRange(0, drop);
            _metrics.AddDroppedUnsigned(drop);
            LogDroppedUnsigned(drop, _metrics.DroppedUnsigned);
        }
        // Until the ledger's head is known (a store restored from an older copy would sign numbers the ledger holds)
        // readings wait unsigned; the wait is bounded by the store, and memory by MaxUnsigned.
        if (_store.SigningHeld)
            return [];
        var now = _time.GetTimestamp();
        if (_pending.Count > 0 && (_lastCommitTicks is not { } last || _time.GetElapsedTime(last, now) >= CommitInterval || _pending.Count >= MaxPending))
            return CommitNoting(Environment.TickCount64 - pollStarted);
        return [];
    }

    /// <summary>A reading as polled; the store fills in the device, the sequence number and the link.</summary>
    private static ReadingRecord Draft(MeterChannel meter, DateTimeOffset at, TimeStatus timeStatus, string obis, long mantissa, sbyte scaler, string unit) => new()
    {
        Device = "",
        Sequence = 0,
        PrevHash = ReadOnlyMemory<byte>.Empty,
        MeterId = meter.Id,
        Obis = obis,
        Value = mantissa,
        Scaler = scaler,
        Unit = unit,
        Source = meter.Source,
        Clean = meter.Clean,
        GatewayTimeMs = at.ToUnixTimeMilliseconds(),
        TimeStatus = timeStatus,
    };

    /// <summary>Readings buffered at most, whatever the interval (a large installation polls many quantities).</summary>
    public const int MaxPending = 2000;

    /// <summary>Signs and stores whatever is buffered.</summary>
    public IReadOnlyList<SignedReading> Commit()
    {
        if (_pending.Count == 0)
            return [];
        var signed = _store.Append(_pending, _signer);
        _pending.Clear();
        _lastCommitTicks = _time.GetTimestamp();
        _metrics.AddSigned(signed.Count);
        _metrics.AddStored(signed.Count);
        if (signed.Count > 0)
        {
            _source.Stored(signed);
            Stored?.Invoke(signed);
        }
        return signed;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "First {Count} readings signed and stored; the poll took {PollMs} ms, {SinceStartMs} ms since the process started")]
    private partial void LogFirstSigned(int count, long pollMs, long sinceStartMs);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Meter {Meter}: read failed ({Failures} in a row): {Reason}")]
    private partial void LogReadFailed(string meter, string reason, long failures);

    [LoggerMessage(Level = LogLevel.Information, Message = "Meter {Meter}: answering again after {Failures} failed reads")]
    private partial void LogBackOnline(string meter, long failures);

    [LoggerMessage(Level = LogLevel.Critical, Message = "STORAGE ALARM: the disk keeps failing; dropped {Dropped} unsigned readings ({Total} in all), signed records are kept")]
    private partial void LogDroppedUnsigned(int dropped, long total);

    [LoggerMessage(Level = LogLevel.Error, Message = "Storing readings failed, nothing of this cycle was taken: {Reason}")]
    private partial void LogStoreFailed(string reason);
}
