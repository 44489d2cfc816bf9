namespace EdgeMeter.Protocols.Modbus;

/// <summary>Immutable client settings, validated once when the client is created.</summary>
public sealed record ModbusClientOptions
{
    /// <summary>Defaults: 1 s response timeout, 2 retries, 100 ms busy back-off, 5 s connect timeout.</summary>
    public static ModbusClientOptions Default { get; } = new();

    /// <summary>How long to wait for a complete response to one request.</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Extra attempts after a timeout, a rejected frame, or a Busy/Acknowledge exception. Other exception responses
    /// are final: asking again gets the same answer.
    /// </summary>
    public int MaxRetries { get; init; } = 2;

    /// <summary>Pause before retrying after Busy (0x06) or Acknowledge (0x05).</summary>
    public TimeSpan BusyRetryDelay { get; init; } = TimeSpan.FromMilliseconds(100);

    /// <summary>Bound on establishing a TCP connection.</summary>
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Clock for timeouts, delays and latency; a fake one in tests.</summary>
    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;

    /// <summary>Throws <see cref="ArgumentException"/> naming the first bad setting.</summary>
    public void Validate()
    {
        if (Timeout <= TimeSpan.Zero || Timeout > TimeSpan.FromMinutes(5))
        {
            throw new ArgumentException($"Timeout must be in (0, 5 min], got {Timeout}", nameof(Timeout));
        }

        if (MaxRetries is < 0 or > 10)
        {
            throw new ArgumentException($"MaxRetries must be 0..10, got {MaxRetries}", nameof(MaxRetries));
        }

        if (BusyRetryDelay < TimeSpan.Zero)
        {
            throw new ArgumentException("BusyRetryDelay must not be negative", nameof(BusyRetryDelay));
        }

        if (ConnectTimeout <= TimeSpan.Zero)
        {
            throw new ArgumentException("ConnectTimeout must be positive", nameof(ConnectTimeout));
        }

        ArgumentNullException.ThrowIfNull(TimeProvider);
    }
}
