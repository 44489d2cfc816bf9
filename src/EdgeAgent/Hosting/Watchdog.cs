using System.Globalization;
using Microsoft.Extensions.Logging;

namespace EdgeMeter.Agent.Hosting;

/// <summary>
/// systemd's watchdog (<c>WatchdogSec=</c> in the unit): <c>WATCHDOG=1</c> is sent every half interval, but only
/// while the pipeline makes progress (polling cycles complete with their readings stored, the uplink loop turns).
/// A hung pipeline stops the pings and systemd restarts the service; a process that merely lives does not count.
/// </summary>
internal sealed partial class Watchdog
{
    private readonly TimeSpan _interval;
    private readonly Func<TimeSpan, string?> _stalledStage;
    private readonly Action _ping;
    private readonly ILogger<Watchdog> _log;
    private string? _reported;

    /// <param name="interval">systemd's watchdog interval (WATCHDOG_USEC).</param>
    /// <param name="stalledStage">Given the interval, the name of a stage that made no progress within it, or null.</param>
    /// <param name="ping">Sends WATCHDOG=1.</param>
    /// <param name="log">Log sink.</param>
    public Watchdog(TimeSpan interval, Func<TimeSpan, string?> stalledStage, Action ping, ILogger<Watchdog> log)
    {
        _interval = interval;
        _stalledStage = stalledStage;
        _ping = ping;
        _log = log;
    }

    /// <summary>Pings sent so far.</summary>
    public long Pings { get; private set; }

    /// <summary>
    /// The watchdog interval systemd asked for: WATCHDOG_USEC, if WATCHDOG_PID is unset or names this process.
    /// Null without a watchdog.
    /// </summary>
    public static TimeSpan? IntervalFromEnvironment(Func<string, string?>? environment = null)
    {
        environment ??= Environment.GetEnvironmentVariable;
        if (!ulong.TryParse(environment("WATCHDOG_USEC"), NumberStyles.None, CultureInfo.InvariantCulture, out var usec) || usec == 0)
            return null;
        if (environment("WATCHDOG_PID") is { Length: > 0 } pid && pid != Environment.ProcessId.ToString(CultureInfo.InvariantCulture))
            return null;
        return TimeSpan.FromMicroseconds(usec);
    }

    /// <summary>One check: pings when every stage made progress within the interval. Returns whether it pinged.</summary>
    public bool Check()
    {
        var stalled = _stalledStage(_interval);
        if (stalled is null)
        {
            if (_reported is not null)
                LogResumed(_reported);
            _reported = null;
            _ping();
            Pings++;
            return true;
        }
        if (_reported != stalled)
            LogStalled(stalled, _interval.TotalSeconds);
        _reported = stalled;
        return false;
    }

    /// <summary>Checks every half interval until cancelled.</summary>
    public async Task RunAsync(CancellationToken ct)
    {
        using var timer = new PeriodicTimer(_interval / 2);
        do
        {
            Check();
        }
        while (await timer.WaitForNextTickAsync(ct).ConfigureAwait(false));
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Watchdog: no progress in the {Stage} for {Seconds} s; not telling systemd we are alive")]
    private partial void LogStalled(string stage, double seconds);

    [LoggerMessage(Level = LogLevel.Information, Message = "Watchdog: the {Stage} makes progress again")]
    private partial void LogResumed(string stage);
}
