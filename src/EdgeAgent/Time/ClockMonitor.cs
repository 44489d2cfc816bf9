using System.Diagnostics;
using EdgeMeter.Crypto.Records;

namespace EdgeMeter.Agent.Time;

/// <summary>Where the monitor reads time from; the system in production, a fake in tests.</summary>
internal interface IClockSource
{
    /// <summary>Monotonic time in milliseconds since an arbitrary start (never jumps).</summary>
    long MonotonicMs { get; }

    /// <summary>Wall-clock time, Unix milliseconds UTC.</summary>
    long UtcNowMs { get; }

    /// <summary>The kernel's synchronisation state, or null when it cannot be read.</summary>
    KernelClockState? ReadKernel();
}

/// <summary>The system clocks: Stopwatch for monotonic time, the wall clock, adjtimex.</summary>
internal sealed class SystemClockSource : IClockSource
{
    public long MonotonicMs => (long)(Stopwatch.GetTimestamp() * 1000.0 / Stopwatch.Frequency);

    public long UtcNowMs => DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();

    public KernelClockState? ReadKernel() => KernelClock.TryRead(out var state) ? state : null;
}

/// <summary>A wall-clock jump: the wall clock moved by a different amount than monotonic time did.</summary>
/// <param name="JumpMs">Wall-clock change minus monotonic change; positive when the clock jumped forward.</param>
/// <param name="BeforeMs">Wall time at the previous sample.</param>
/// <param name="AfterMs">Wall time at this sample.</param>
internal sealed record ClockJump(long JumpMs, long BeforeMs, long AfterMs);

/// <summary>A gateway timestamp with the trust it deserves.</summary>
/// <param name="GatewayTimeMs">Wall-clock time, Unix milliseconds UTC, as read: never corrected after the fact.</param>
/// <param name="Status">How far the time can be trusted.</param>
internal readonly record struct GatewayTimestamp(long GatewayTimeMs, TimeStatus Status);

/// <summary>
/// Watches the gateway clock: asks the kernel whether NTP keeps it synchronised, and compares wall-clock
/// progress with monotonic progress between samples to catch jumps (a manual date, an RTC-less boot being
/// corrected, a misbehaving time source). Readings are stamped with what the clock said and how far to
/// trust it; they are never re-stamped later.
/// </summary>
/// <remarks>
/// Status, in the manner of OCMF: Synchronised while the kernel reports NTP sync; Relative after a jump
/// until sync returns (only differences to earlier readings mean something); Informative when the clock
/// was synchronised earlier in this run and now runs free, or was taken from the real-time clock at start;
/// Unsynchronised when it never was since start.
/// Thread-safe.
/// </remarks>
internal sealed class ClockMonitor
{
    private readonly IClockSource _source;
    private readonly long _jumpThresholdMs;
    private readonly Lock _gate = new();
    private long? _lastMonotonicMs;
    private long _lastWallMs;
    private bool _everSynchronised;
    private bool _jumpedSinceSync;
    private bool _setFromRtc;
    private TimeStatus? _status;

    /// <param name="source">The clocks to read.</param>
    /// <param name="jumpThreshold">Smallest disagreement between wall and monotonic progress that counts as a jump (NTP slews far less).</param>
    public ClockMonitor(IClockSource source, TimeSpan jumpThreshold)
    {
        ArgumentNullException.ThrowIfNull(source);
        if (jumpThreshold <= TimeSpan.Zero)
            throw new ArgumentOutOfRangeException(nameof(jumpThreshold), "The jump threshold must be positive.");
        _source = source;
        _jumpThresholdMs = (long)jumpThreshold.TotalMilliseconds;
    }

    /// <summary>Raised (on the sampling thread) when the wall clock jumped between two samples.</summary>
    public event EventHandler<ClockJump>? ClockJumped;

    /// <summary>Raised when the time status changes, with the new status.</summary>
    public event EventHandler<TimeStatus>? StatusChanged;

    /// <summary>The status at the last sample; Unsynchronised before the first.</summary>
    public TimeStatus Status
    {
        get
        {
            lock (_gate)
                return _status ?? TimeStatus.Unsynchronised;
        }
    }

    /// <summary>
    /// The wall clock was taken from a real-time clock at start: until NTP synchronises, readings are Informative
    /// (set from a source we cannot verify), not Unsynchronised.
    /// </summary>
    public void MarkSetFromRtc()
    {
        lock (_gate)
            _setFromRtc = true;
    }

    /// <summary>Whether the time comes from the real-time clock: it was set from it and NTP never synchronised since.</summary>
    public bool TimeFromRtc
    {
        get
        {
            lock (_gate)
                return _setFromRtc && !_everSynchronised;
        }
    }

    /// <summary>The last kernel state read, if any.</summary>
    public KernelClockState? LastKernelState { get; private set; }

    /// <summary>Reads the clocks now: detects a jump since the previous sample and returns the timestamp with its status.</summary>
    public GatewayTimestamp Sample()
    {
        ClockJump? jump = null;
        TimeStatus status;
        bool changed;
        lock (_gate)
        {
            long monotonic = _source.MonotonicMs;
            long wall = _source.UtcNowMs;
            var kernel = _source.ReadKernel();
            LastKernelState = kernel;

            if (_lastMonotonicMs is long lastMonotonic)
            {
                long drift = (wall - _lastWallMs) - (monotonic - lastMonotonic);
                if (Math.Abs(drift) >= _jumpThresholdMs)
                    jump = new ClockJump(drift, _lastWallMs, wall);
            }
            _lastMonotonicMs = monotonic;
            _lastWallMs = wall;

            bool synchronised = kernel?.Synchronised == true;
            if (synchronised)
            {
                _everSynchronised = true;
                _jumpedSinceSync = false;
            }
            else if (jump is not null)
            {
                _jumpedSinceSync = true;
            }

            status = synchronised ? TimeStatus.Synchronised
                : _jumpedSinceSync ? TimeStatus.Relative
                : _everSynchronised || _setFromRtc ? TimeStatus.Informative
                : TimeStatus.Unsynchronised;
            changed = _status != status;
            _status = status;

            if (jump is not null)
                ClockJumped?.Invoke(this, jump);
            if (changed)
                StatusChanged?.Invoke(this, status);
            return new GatewayTimestamp(wall, status);
        }
    }

    /// <summary>Meter clock minus gateway clock, in milliseconds; null when the meter has no clock (meter time 0).</summary>
    public static long? MeterClockOffsetMs(long meterTimeMs, long gatewayTimeMs) =>
        meterTimeMs == 0 ? null : meterTimeMs - gatewayTimeMs;
}
