using System.Buffers;
using System.Globalization;
using System.Text.Json;

namespace EdgeMeter.Economics;

/// <summary>The ledger's balance message: <c>{"device","balance":"123","block":N}</c>; the balance is a decimal string.</summary>
public static class BalanceCodec
{
    /// <summary>Encodes a balance message.</summary>
    public static byte[] Encode(string device, decimal balance, long block)
    {
        var buffer = new ArrayBufferWriter<byte>(128);
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteString("device", device);
            w.WriteString("balance", balance.ToString(CultureInfo.InvariantCulture));
            w.WriteNumber("block", block);
            w.WriteEndObject();
        }
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>Decodes a balance message.</summary>
    /// <exception cref="FormatException">Not a balance message.</exception>
    public static (string Device, decimal Balance, long Block) Decode(ReadOnlySpan<byte> json)
    {
        try
        {
            var reader = new Utf8JsonReader(json);
            using var doc = JsonDocument.ParseValue(ref reader);
            var root = doc.RootElement;
            return (root.GetProperty("device").GetString() ?? "",
                decimal.Parse(root.GetProperty("balance").GetString() ?? "", NumberStyles.AllowLeadingSign | NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture),
                root.GetProperty("block").GetInt64());
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or FormatException or OverflowException)
        {
            throw new FormatException($"malformed balance: {e.Message}", e);
        }
    }
}
