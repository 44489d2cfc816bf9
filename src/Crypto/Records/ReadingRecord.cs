namespace EdgeMeter.Crypto.Records;

/// <summary>Where the energy of a channel comes from. Values are part of the signed encoding: never renumber.</summary>
public enum EnergySource : byte
{
    /// <summary>Energy drawn from the grid.</summary>
    GridImport = 0,
    /// <summary>Energy fed into the grid.</summary>
    GridExport = 1,
    /// <summary>Photovoltaic generation (clean).</summary>
    Pv = 2,
    /// <summary>Battery storage charge or discharge.</summary>
    Battery = 3,
    /// <summary>Wind generation (clean).</summary>
    Wind = 4,
    /// <summary>Combined heat and power.</summary>
    Chp = 5,
    /// <summary>A heat meter (counts as heat, not electricity).</summary>
    Heat = 6,
    /// <summary>Anything else.</summary>
    Other = 7,
}

/// <summary>How far the gateway timestamp can be trusted, in the manner of OCMF. Part of the signed encoding.</summary>
public enum TimeStatus : byte
{
    /// <summary>The clock was never synchronised since boot (OCMF "U").</summary>
    Unsynchronised = 0,
    /// <summary>Set by hand or from an unverified source (OCMF "I").</summary>
    Informative = 1,
    /// <summary>The kernel reports NTP synchronisation (OCMF "S").</summary>
    Synchronised = 2,
    /// <summary>Only relative to the previous record; the wall clock jumped (OCMF "R").</summary>
    Relative = 3,
}

/// <summary>
/// One metered value as the gateway signs it. The value is an integer with a decimal exponent
/// (<c>Value · 10^Scaler</c> <c>Unit</c>), so that the same reading always encodes to the same bytes.
/// </summary>
public sealed record ReadingRecord
{
    /// <summary>The signing device's address, 0x-prefixed lower-case hex (20 bytes).</summary>
    public required string Device { get; init; }

    /// <summary>Per-device sequence number, starting at 1, never reused, surviving restarts.</summary>
    public required ulong Sequence { get; init; }

    /// <summary>The meter's identity as configured (serial number or installer label).</summary>
    public required string MeterId { get; init; }

    /// <summary>The quantity as an OBIS code in its reduced-ID text form, e.g. <c>1-0:1.8.0*255</c>.</summary>
    public required string Obis { get; init; }

    /// <summary>Integer mantissa of the value.</summary>
    public required long Value { get; init; }

    /// <summary>Decimal exponent: the value is <see cref="Value"/> · 10^<see cref="Scaler"/>.</summary>
    public required sbyte Scaler { get; init; }

    /// <summary>Unit symbol: Wh, W, V, A, Hz, var, VAh, 1 (dimensionless).</summary>
    public required string Unit { get; init; }

    /// <summary>The channel's energy source.</summary>
    public required EnergySource Source { get; init; }

    /// <summary>Whether the channel counts as clean energy for the token economy.</summary>
    public required bool Clean { get; init; }

    /// <summary>Gateway wall-clock time, Unix milliseconds UTC.</summary>
    public required long GatewayTimeMs { get; init; }

    /// <summary>Meter clock, Unix milliseconds UTC; 0 when the meter has no clock.</summary>
    public long MeterTimeMs { get; init; }

    /// <summary>Trust in <see cref="GatewayTimeMs"/>.</summary>
    public required TimeStatus TimeStatus { get; init; }

    /// <summary>Digest of the previous record of this device (32 bytes); all zero for the first.</summary>
    public required ReadOnlyMemory<byte> PrevHash { get; init; }
}
