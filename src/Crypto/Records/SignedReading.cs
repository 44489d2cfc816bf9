namespace EdgeMeter.Crypto.Records;

/// <summary>
/// A signed link of a device's chain (a <see cref="ReadingRecord"/> or a <see cref="GapRecord"/>) with its 65-byte
/// signature r‖s‖v (v = 27 or 28) and its EIP-712 digest.
/// </summary>
/// <param name="Record">The signed record.</param>
/// <param name="Digest">The EIP-712 digest that was signed; the next record's <see cref="ChainRecord.PrevHash"/>.</param>
/// <param name="Signature">r‖s‖v, 65 bytes, low-S.</param>
public sealed record SignedReading(ChainRecord Record, ReadOnlyMemory<byte> Digest, ReadOnlyMemory<byte> Signature)
{
    /// <summary>The reading, or null when this link is a gap declaration.</summary>
    public ReadingRecord? Reading => Record as ReadingRecord;

    /// <summary>The gap declaration, or null when this link is a reading.</summary>
    public GapRecord? Gap => Record as GapRecord;
}
