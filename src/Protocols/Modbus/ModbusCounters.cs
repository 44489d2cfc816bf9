namespace EdgeMeter.Protocols.Modbus;

/// <summary>A point-in-time copy of the traffic counters for one unit.</summary>
/// <param name="Requests">Request frames sent (each retry counts).</param>
/// <param name="Responses">Valid responses received, exception responses included.</param>
/// <param name="Timeouts">Requests that got no complete answer in time.</param>
/// <param name="CrcErrors">Responses rejected for a bad CRC.</param>
/// <param name="FrameErrors">Responses rejected as garbage or not matching the request.</param>
/// <param name="Exceptions">Exception responses.</param>
/// <param name="Discarded">Well-formed frames skipped because they answered another unit or an earlier transaction.</param>
/// <param name="TotalLatency">Sum of round-trip times of valid responses.</param>
/// <param name="MaxLatency">Longest round-trip time of a valid response.</param>
public readonly record struct ModbusUnitStatistics(
    long Requests, long Responses, long Timeouts, long CrcErrors, long FrameErrors, long Exceptions, long Discarded,
    TimeSpan TotalLatency, TimeSpan MaxLatency)
{
    /// <summary>Mean round-trip time of valid responses, zero before the first.</summary>
    public TimeSpan MeanLatency => Responses == 0 ? TimeSpan.Zero : TimeSpan.FromTicks(TotalLatency.Ticks / Responses);
}

/// <summary>Thread-safe live counters for one unit.</summary>
internal sealed class ModbusUnitCounters
{
    private long _requests, _responses, _timeouts, _crc, _frame, _exceptions, _discarded, _latencyTicks, _maxLatencyTicks;

    public void AddRequest() => Interlocked.Increment(ref _requests);

    public void AddTimeout() => Interlocked.Increment(ref _timeouts);

    public void AddCrcError() => Interlocked.Increment(ref _crc);

    public void AddFrameError() => Interlocked.Increment(ref _frame);

    public void AddException() => Interlocked.Increment(ref _exceptions);

    public void AddDiscarded() => Interlocked.Increment(ref _discarded);

    public void AddResponse(TimeSpan latency)
    {
        Interlocked.Increment(ref _responses);
        Interlocked.Add(ref _latencyTicks, latency.Ticks);
        long seen = Volatile.Read(ref _maxLatencyTicks);
        while (latency.Ticks > seen)
        {
            long prior = Interlocked.CompareExchange(ref _maxLatencyTicks, latency.Ticks, seen);
            if (prior == seen)
            {
                break;
            }

            seen = prior;
        }
    }

    public ModbusUnitStatistics Snapshot() => new(
        Volatile.Read(ref _requests), Volatile.Read(ref _responses), Volatile.Read(ref _timeouts), Volatile.Read(ref _crc),
        Volatile.Read(ref _frame), Volatile.Read(ref _exceptions), Volatile.Read(ref _discarded),
        TimeSpan.FromTicks(Volatile.Read(ref _latencyTicks)), TimeSpan.FromTicks(Volatile.Read(ref _maxLatencyTicks)));
}
