using System.Text.Json;
using EdgeMeter.Crypto.Signing;

namespace EdgeMeter.Crypto.Records;

/// <summary>
/// JSON forms of records, written and read by hand (no reflection). The message form is the EIP-712 message
/// object (as ethers' <c>verifyTypedData</c> takes it); the export form adds domain, types, primaryType,
/// signature and signer.
/// </summary>
public static class ReadingJson
{
    /// <summary>Writes the EIP-712 message object of a record.</summary>
    public static void WriteMessage(Utf8JsonWriter writer, ReadingRecord record) =>
        throw new NotImplementedException("contract stub: crypto helper");

    /// <summary>Reads a message object written by <see cref="WriteMessage"/>; throws <see cref="FormatException"/> naming the field.</summary>
    public static ReadingRecord ReadMessage(JsonElement message) =>
        throw new NotImplementedException("contract stub: crypto helper");

    /// <summary>Writes one export line object: domain, types, primaryType, message, signature (0x hex), signer.</summary>
    public static void WriteExport(Utf8JsonWriter writer, SignedReading reading, Eip712Domain domain) =>
        throw new NotImplementedException("contract stub: crypto helper");

    /// <summary>Reads one export line object.</summary>
    public static (SignedReading Reading, Eip712Domain Domain, string Signer) ReadExport(JsonElement line) =>
        throw new NotImplementedException("contract stub: crypto helper");
}
