namespace EdgeMeter.Crypto.Records;

/// <summary>A record with its 65-byte signature r‖s‖v (v = 27 or 28) and its EIP-712 digest.</summary>
/// <param name="Record">The signed record.</param>
/// <param name="Digest">The EIP-712 digest that was signed; the next record's <see cref="ReadingRecord.PrevHash"/>.</param>
/// <param name="Signature">r‖s‖v, 65 bytes, low-S.</param>
public sealed record SignedReading(ReadingRecord Record, ReadOnlyMemory<byte> Digest, ReadOnlyMemory<byte> Signature);
