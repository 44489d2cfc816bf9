using EdgeMeter.Crypto.Records;
using EdgeMeter.Economics;

namespace EdgeMeter.Agent.Status;

/// <summary>A consistent snapshot of what the agent is doing, for the web page, the LCD and <c>status</c> messages.</summary>
internal sealed record AgentStatus
{
    public required string DeviceAddress { get; init; }
    public required string Version { get; init; }
    public required DateTimeOffset Timestamp { get; init; }
    public required TimeStatus TimeStatus { get; init; }
    public required IReadOnlyList<MeterStatus> Meters { get; init; }
    public required PipelineCounters Counters { get; init; }
    public required bool UplinkConnected { get; init; }

    /// <summary>The chain's confirmed token balance, from the last balance message; null before the first.</summary>
    public decimal? ConfirmedBalance { get; init; }

    /// <summary>This month's locally computed factors and provisional tokens; null before enough data.</summary>
    public ProvisionalTokens? Provisional { get; init; }

    public required PairingStatus Pairing { get; init; }

    /// <summary>Whether the clock was taken from the real-time clock at start and NTP has not synchronised it since.</summary>
    public bool TimeFromRtc { get; init; }

    /// <summary>Disk and memory, for the alarms on the LCD; null when not measured.</summary>
    public HealthStatus? Health { get; init; }

    /// <summary>When the ledger's last receipt arrived; null before the first.</summary>
    public DateTimeOffset? LastReceiptAt { get; init; }

    /// <summary>The IANA time zone the page shows local times in (<c>timeZone</c>); null: the gateway's own.</summary>
    public string? TimeZone { get; init; }
}

/// <summary>One configured meter channel.</summary>
internal sealed record MeterStatus
{
    public required string MeterId { get; init; }
    public required EnergySource Source { get; init; }
    public required bool Clean { get; init; }
    public required bool Online { get; init; }
    public DateTimeOffset? LastReadingAt { get; init; }
    /// <summary>Total active power in watts, from the last reading; null when the map has none.</summary>
    public decimal? ActivePowerW { get; init; }
    /// <summary>Import (or generation) energy register in kWh; null when the map has none.</summary>
    public decimal? EnergyKwh { get; init; }
    public long Requests { get; init; }
    public long Timeouts { get; init; }
    /// <summary>CRC errors, garbled frames and exception responses together.</summary>
    public long Errors { get; init; }
    public long CrcErrors { get; init; }
    public long Exceptions { get; init; }
    /// <summary>Mean round-trip time of valid responses, milliseconds.</summary>
    public double MeanLatencyMs { get; init; }
    /// <summary>The meter's circuit breaker: closed (polled), open (skipped), half-open (one trial).</summary>
    public string Breaker { get; init; } = "closed";
}

/// <summary>Counts along the pipeline since start: read, signed, durably stored, published, confirmed by the ledger.</summary>
internal sealed record PipelineCounters(long Readings, long Signed, long Stored, long Published, long Confirmed, long OutboxPending)
{
    /// <summary>Unsigned readings dropped while the disk kept failing; non-zero is an alarm.</summary>
    public long DroppedUnsigned { get; init; }
}

/// <summary>Whether the gateway is paired with an operator (customer account).</summary>
internal sealed record PairingStatus(bool Paired, string? OperatorAddress, string? AccountLabel, DateTimeOffset? PairedAt);

/// <summary>Gives the current status snapshot; cheap to call.</summary>
internal interface IAgentStatusSource
{
    AgentStatus Current { get; }
}
