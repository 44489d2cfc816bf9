namespace EdgeMeter.Protocols.Modbus;

/// <summary>State of a device's circuit breaker.</summary>
public enum CircuitState
{
    /// <summary>Healthy: every cycle reads the device.</summary>
    Closed,
    /// <summary>Failed repeatedly: the device is skipped until the open period ends.</summary>
    Open,
    /// <summary>The open period ended: the next read is a single trial that closes or re-opens the breaker.</summary>
    HalfOpen,
}

/// <summary>
/// Closed / open / half-open breaker: after <c>threshold</c> consecutive failures the device is skipped for
/// <c>openDuration</c>, so a dead or slow meter stops costing the bus a timeout every cycle.
/// Not thread-safe; the bus scheduler uses it from one loop.
/// </summary>
public sealed class CircuitBreaker
{
    private readonly int _threshold;
    private readonly TimeSpan _openDuration;
    private readonly TimeProvider _time;
    private int _failures;
    private DateTimeOffset _openedAt;
    private bool _open;
    private bool _trialInFlight;

    /// <summary>Creates a closed breaker.</summary>
    public CircuitBreaker(int threshold, TimeSpan openDuration, TimeProvider timeProvider)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(threshold);
        ArgumentOutOfRangeException.ThrowIfLessThan(openDuration, TimeSpan.Zero);
        ArgumentNullException.ThrowIfNull(timeProvider);
        _threshold = threshold;
        _openDuration = openDuration;
        _time = timeProvider;
    }

    /// <summary>The state now.</summary>
    public CircuitState State => !_open ? CircuitState.Closed
        : _trialInFlight || _time.GetUtcNow() - _openedAt >= _openDuration ? CircuitState.HalfOpen
        : CircuitState.Open;

    /// <summary>Consecutive failures counted while closed.</summary>
    public int ConsecutiveFailures => _failures;

    /// <summary>Times the breaker has opened.</summary>
    public long OpenCount { get; private set; }

    /// <summary>Whether the device may be asked now; in half-open state only one trial is allowed.</summary>
    public bool TryAcquire()
    {
        switch (State)
        {
            case CircuitState.Closed:
                return true;
            case CircuitState.HalfOpen when !_trialInFlight:
                _trialInFlight = true;
                return true;
            default:
                return false;
        }
    }

    /// <summary>The device answered: close.</summary>
    public void RecordSuccess()
    {
        _failures = 0;
        _open = false;
        _trialInFlight = false;
    }

    /// <summary>The device failed: count, and open at the threshold or when a half-open trial fails.</summary>
    public void RecordFailure()
    {
        if (_open)
        {
            _trialInFlight = false;
            _openedAt = _time.GetUtcNow();
            OpenCount++;
            return;
        }

        if (++_failures >= _threshold)
        {
            _open = true;
            _openedAt = _time.GetUtcNow();
            OpenCount++;
        }
    }
}
