using System.Device.I2c;
using EdgeMeter.Agent.Configuration;
using Iot.Device.Rtc;
using Microsoft.Extensions.Logging;

namespace EdgeMeter.Agent.Time;

/// <summary>
/// The DS3231 real-time clock on I2C, through dotnet/iot's <see cref="Ds3231"/>. It keeps UTC. At start, without
/// network time, the agent takes its time from here; once NTP synchronises the system clock, the agent sets it.
/// </summary>
/// <remarks>
/// Only the date and time registers are used. (The binding's temperature property would pull in UnitsNet.)
/// </remarks>
internal sealed partial class RealTimeClock : IDisposable
{
    /// <summary>The DS3231's fixed I2C address (datasheet: 1101000b).</summary>
    public const int Address = 0x68;

    private readonly Ds3231 _rtc;
    private readonly ILogger _logger;

    private RealTimeClock(Ds3231 rtc, ILogger logger)
    {
        _rtc = rtc;
        _logger = logger;
    }

    /// <summary>
    /// Opens the RTC and reads it once, or returns null and logs once why not: none configured, no bus, nothing
    /// answers at 0x68, or a time that cannot be (an RTC that lost its battery). The caller owns the result.
    /// </summary>
    /// <param name="options">The validated RTC options.</param>
    /// <param name="logger">Says whether there is an RTC.</param>
    /// <param name="open">Opens a bus device (bus, address); the system's I2C by default. A seam for tests.</param>
    /// <param name="deviceDirectory">Where bus devices live: <c>/dev</c>.</param>
    /// <param name="time">The time read, UTC, when an RTC is there.</param>
    public static RealTimeClock? Open(RtcOptions options, ILogger logger, out DateTimeOffset time,
        Func<int, int, I2cDevice>? open = null, string deviceDirectory = "/dev")
    {
        ArgumentNullException.ThrowIfNull(options);
        time = default;
        if (options.I2cBus < 0)
        {
            LogNoRtc(logger, "none configured (rtc.i2cBus is -1)");
            return null;
        }

        var busPath = Path.Combine(deviceDirectory, $"i2c-{options.I2cBus}");
        if (!File.Exists(busPath))
        {
            LogNoRtc(logger, $"no I2C bus at {busPath}");
            return null;
        }

        I2cDevice? device = null;
        try
        {
            device = (open ?? (static (bus, address) => I2cDevice.Create(new I2cConnectionSettings(bus, address))))(options.I2cBus, Address);
            var rtc = new Ds3231(device);
            device = null;
            var clock = new RealTimeClock(rtc, logger);
            time = clock.Read();
            LogRtc(logger, options.I2cBus, time);
            return clock;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or PlatformNotSupportedException or ArgumentOutOfRangeException)
        {
            device?.Dispose();
            LogNoRtc(logger, e is ArgumentOutOfRangeException
                ? $"the DS3231 on I2C bus {options.I2cBus} holds no valid time (battery?)"
                : $"nothing answers on I2C bus {options.I2cBus} at address 0x{Address:X2} ({e.Message})");
            return null;
        }
    }

    /// <summary>Reads the clock, UTC.</summary>
    /// <exception cref="IOException">The RTC stopped answering.</exception>
    /// <exception cref="ArgumentOutOfRangeException">Its registers hold no valid date.</exception>
    public DateTimeOffset Read() => new(DateTime.SpecifyKind(_rtc.RtcDateTime, DateTimeKind.Utc));

    /// <summary>Sets the clock to <paramref name="utc"/>; a failure is logged, not thrown: the agent runs on without.</summary>
    /// <returns>Whether the clock was set.</returns>
    public bool TrySet(DateTimeOffset utc)
    {
        try
        {
            _rtc.RtcDateTime = utc.UtcDateTime;
            LogRtcSet(_logger, utc);
            return true;
        }
        catch (IOException e)
        {
            LogRtcSetFailed(_logger, e.Message);
            return false;
        }
    }

    /// <inheritdoc />
    public void Dispose() => _rtc.Dispose();

    [LoggerMessage(Level = LogLevel.Information, Message = "DS3231 real-time clock on I2C bus {Bus} reads {Time:o}")]
    private static partial void LogRtc(ILogger logger, int bus, DateTimeOffset time);

    [LoggerMessage(Level = LogLevel.Warning, Message = "No RTC: {Reason}; keeping the system clock")]
    private static partial void LogNoRtc(ILogger logger, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Real-time clock set from the NTP-synchronised system clock: {Time:o}")]
    private static partial void LogRtcSet(ILogger logger, DateTimeOffset time);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Setting the real-time clock failed ({Reason})")]
    private static partial void LogRtcSetFailed(ILogger logger, string reason);
}

/// <summary>
/// The system clocks, with the wall clock moved to the real-time clock's time until NTP synchronises the system
/// clock: an agent that runs unprivileged cannot set the system clock, but it can stamp its records right.
/// </summary>
internal sealed class RtcOffsetClockSource(IClockSource inner, long offsetMs) : IClockSource
{
    private volatile bool _synchronised;

    /// <summary>RTC time minus system time at start, applied until NTP synchronises; then zero for good.</summary>
    public long OffsetMs => _synchronised ? 0 : offsetMs;

    /// <inheritdoc />
    public long MonotonicMs => inner.MonotonicMs;

    /// <inheritdoc />
    public long UtcNowMs => inner.UtcNowMs + OffsetMs;

    /// <inheritdoc />
    public KernelClockState? ReadKernel()
    {
        var state = inner.ReadKernel();
        if (state?.Synchronised == true)
        {
            _synchronised = true;
        }

        return state;
    }
}

/// <summary>A <see cref="TimeProvider"/> whose wall clock follows <see cref="RtcOffsetClockSource"/>; timers and monotonic time are the inner one's.</summary>
internal sealed class RtcTimeProvider(TimeProvider inner, RtcOffsetClockSource source) : TimeProvider
{
    /// <inheritdoc />
    public override DateTimeOffset GetUtcNow() => inner.GetUtcNow().AddMilliseconds(source.OffsetMs);

    /// <inheritdoc />
    public override long GetTimestamp() => inner.GetTimestamp();

    /// <inheritdoc />
    public override long TimestampFrequency => inner.TimestampFrequency;

    /// <inheritdoc />
    public override TimeZoneInfo LocalTimeZone => inner.LocalTimeZone;

    /// <inheritdoc />
    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period) =>
        inner.CreateTimer(callback, state, dueTime, period);
}

/// <summary>The agent's clocks: the monitor every record's time status comes from, and the time records are stamped with.</summary>
/// <param name="Monitor">Watches NTP state and jumps.</param>
/// <param name="Time">The wall clock for records: the system's, or the RTC's until NTP synchronises.</param>
/// <param name="Rtc">The real-time clock, when one answered; the caller owns it.</param>
internal sealed record AgentClocks(ClockMonitor Monitor, TimeProvider Time, RealTimeClock? Rtc)
{
    /// <summary>Largest disagreement between wall and monotonic progress that is not a jump.</summary>
    public static readonly TimeSpan JumpThreshold = TimeSpan.FromSeconds(2);

    /// <summary>
    /// Opens the RTC (logging once when there is none). Without network time at start, the wall clock of records
    /// follows the RTC and their status is Informative instead of Unsynchronised, until NTP synchronises. Whenever NTP
    /// synchronises (again), the RTC is set from the system clock. Without an RTC: the system clock, as before.
    /// </summary>
    /// <param name="options">The validated RTC options.</param>
    /// <param name="source">The system clocks.</param>
    /// <param name="time">The system's time provider.</param>
    /// <param name="logger">For the RTC's messages.</param>
    /// <param name="open">Opens a bus device; a seam for tests.</param>
    /// <param name="deviceDirectory">Where bus devices live.</param>
    public static AgentClocks Start(RtcOptions options, IClockSource source, TimeProvider time, ILogger logger,
        Func<int, int, I2cDevice>? open = null, string deviceDirectory = "/dev")
    {
        var rtc = RealTimeClock.Open(options, logger, out var rtcTime, open, deviceDirectory);
        AgentClocks clocks;
        if (rtc is null || source.ReadKernel()?.Synchronised == true)
        {
            clocks = new AgentClocks(new ClockMonitor(source, JumpThreshold), time, rtc);
        }
        else
        {
            var offset = new RtcOffsetClockSource(source, rtcTime.ToUnixTimeMilliseconds() - source.UtcNowMs);
            var monitor = new ClockMonitor(offset, JumpThreshold);
            monitor.MarkSetFromRtc();
            clocks = new AgentClocks(monitor, new RtcTimeProvider(time, offset), rtc);
        }

        if (rtc is not null)
        {
            clocks.Monitor.StatusChanged += (_, status) =>
            {
                if (status == Crypto.Records.TimeStatus.Synchronised)
                {
                    rtc.TrySet(DateTimeOffset.FromUnixTimeMilliseconds(source.UtcNowMs));
                }
            };
        }

        return clocks;
    }
}
