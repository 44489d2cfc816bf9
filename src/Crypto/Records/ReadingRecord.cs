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

/// <summary>How a reading reached the gateway. Part of the signed encoding: never renumber.</summary>
public enum RecordOrigin : byte
{
    /// <summary>Polled from the meter live; <see cref="ChainRecord.GatewayTimeMs"/> is when it was read.</summary>
    Live = 0,
    /// <summary>
    /// Read back from the meter's memory (a load-profile row captured while the gateway was down): the value is the
    /// meter's, timed by the meter's own clock (<see cref="ReadingRecord.MeterTimeMs"/>); the gateway time is when it was read back.
    /// </summary>
    MeterMemory = 1,
}

/// <summary>Why a gap record declares sequence numbers that the chain skips. Part of the signed encoding.</summary>
public enum GapReason : byte
{
    /// <summary>
    /// The ledger held more of the chain than the gateway's store (a store restored from an older copy, a swapped card):
    /// the gateway continues after the ledger's head and skips the numbers a lost store may have used beyond it.
    /// </summary>
    LedgerAhead = 1,
    /// <summary>The gateway lost records it had signed and that never reached the ledger; they will never arrive.</summary>
    StoreLost = 2,
}

/// <summary>
/// What every link of a device's chain has: the device, a sequence number, the gateway time and its trust, and the
/// digest of the link before. A link is a <see cref="ReadingRecord"/> or a <see cref="GapRecord"/>, each its own
/// EIP-712 primary type, in one sequence numbering and one hash chain.
/// </summary>
public abstract record ChainRecord
{
    private protected ChainRecord()
    {
    }

    /// <summary>The signing device's address, 0x-prefixed lower-case hex (20 bytes).</summary>
    public required string Device { get; init; }

    /// <summary>Per-device sequence number, starting at 1, never reused, surviving restarts.</summary>
    public required ulong Sequence { get; init; }

    /// <summary>Gateway wall-clock time, Unix milliseconds UTC.</summary>
    public required long GatewayTimeMs { get; init; }

    /// <summary>Trust in <see cref="GatewayTimeMs"/>.</summary>
    public required TimeStatus TimeStatus { get; init; }

    /// <summary>
    /// Digest of the link before (32 bytes); all zero for seq 1. For a <see cref="GapRecord"/>, the link before the
    /// declared range.
    /// </summary>
    public required ReadOnlyMemory<byte> PrevHash { get; init; }

    /// <summary>The sequence number whose digest <see cref="PrevHash"/> must be (0: the all-zero hash).</summary>
    public virtual ulong PreviousSequence => Sequence - 1;
}

/// <summary>
/// One metered value as the gateway signs it. The value is an integer with a decimal exponent
/// (<c>Value · 10^Scaler</c> <c>Unit</c>), so that the same reading always encodes to the same bytes.
/// </summary>
public sealed record ReadingRecord : ChainRecord
{
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

    /// <summary>Meter clock, Unix milliseconds UTC; 0 when the meter has no clock.</summary>
    public long MeterTimeMs { get; init; }

    /// <summary>Polled live (the default) or read back from the meter's memory with the meter's own timestamp.</summary>
    public RecordOrigin Origin { get; init; }
}

/// <summary>
/// A signed declaration that the chain skips sequence numbers <see cref="FromSequence"/>..<see cref="ToSequence"/>:
/// no record with those numbers will be part of it. The declaration is itself the link that follows the range
/// (<see cref="ChainRecord.Sequence"/> = <see cref="ToSequence"/> + 1) and links to the record before it
/// (<see cref="ChainRecord.PrevHash"/> = digest of <see cref="FromSequence"/> − 1).
/// </summary>
public sealed record GapRecord : ChainRecord
{
    /// <summary>The first skipped sequence number (at least 1).</summary>
    public required ulong FromSequence { get; init; }

    /// <summary>The last skipped sequence number: the declaration's own sequence number minus one.</summary>
    public required ulong ToSequence { get; init; }

    /// <summary>Why the numbers are skipped.</summary>
    public required GapReason Reason { get; init; }

    /// <inheritdoc />
    public override ulong PreviousSequence => FromSequence - 1;

    /// <summary>Null when the declaration is well formed: 1 ≤ from ≤ to = seq − 1 and a known reason; else why not.</summary>
    public string? Malformation()
    {
        if (FromSequence == 0)
            return "a gap cannot start at seq 0";
        if (FromSequence > ToSequence)
            return $"the declared range {FromSequence}..{ToSequence} is empty";
        if (ToSequence == ulong.MaxValue || ToSequence + 1 != Sequence)
            return $"the gap declaration at seq {Sequence} must directly follow its range {FromSequence}..{ToSequence}";
        if (Reason is not (GapReason.LedgerAhead or GapReason.StoreLost))
            return $"unknown gap reason {(byte)Reason}";
        return null;
    }
}
