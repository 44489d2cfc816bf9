using EdgeMeter.Crypto.Records;

namespace EdgeMeter.Crypto.Signing;

/// <summary>EIP-712 encoding of <see cref="ReadingRecord"/>.</summary>
public static class ReadingTypedData
{
    /// <summary>keccak256(0x19 0x01 ‖ domainSeparator ‖ hashStruct(record)).</summary>
    public static void Digest(Eip712Domain domain, ReadingRecord record, Span<byte> digest32) =>
        throw new NotImplementedException("contract stub: crypto helper");
}
