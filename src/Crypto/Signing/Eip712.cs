using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using System.Text.Json;
using EdgeMeter.Crypto.Hashing;
using BigInt = System.Numerics.BigInteger;

namespace EdgeMeter.Crypto.Signing;

/// <summary>
/// A general EIP-712 encoder over the JSON form that <c>eth_signTypedData_v4</c> takes
/// (<c>{types, primaryType, domain, message}</c>). It lets a verifier check any export line without
/// knowing the record type in advance, and it is how the tests reproduce the EIP's own examples.
/// The signing path uses the hand-written <see cref="ReadingTypedData"/> instead.
/// </summary>
public static class Eip712
{
    /// <summary>keccak256(0x19 0x01 ‖ hashStruct(EIP712Domain, domain) ‖ hashStruct(primaryType, message)).</summary>
    /// <exception cref="FormatException">A type or value does not follow EIP-712.</exception>
    public static void HashTypedData(JsonElement typedData, Span<byte> digest32)
    {
        var types = Property(typedData, "types");
        string primaryType = Property(typedData, "primaryType").GetString() ?? throw new FormatException("primaryType is not a string.");
        Span<byte> buffer = stackalloc byte[66];
        buffer[0] = 0x19;
        buffer[1] = 0x01;
        HashStruct("EIP712Domain", types, Property(typedData, "domain"), buffer[2..34]);
        HashStruct(primaryType, types, Property(typedData, "message"), buffer[34..66]);
        Keccak256.Hash(buffer, digest32);
    }

    /// <summary>hashStruct(s) = keccak256(typeHash ‖ encodeData(s)).</summary>
    public static void HashStruct(string typeName, JsonElement types, JsonElement data, Span<byte> hash32)
    {
        var encoded = new List<byte>(32 * 16);
        encoded.AddRange(Keccak256.Hash(Encoding.UTF8.GetBytes(EncodeType(typeName, types))));
        Span<byte> word = stackalloc byte[32];
        foreach (var (name, type) in Fields(typeName, types))
        {
            if (!data.TryGetProperty(name, out var value))
                throw new FormatException($"{typeName}.{name} is missing.");
            EncodeValue(type, value, types, word, $"{typeName}.{name}");
            encoded.AddRange(word.ToArray());
        }
        Keccak256.Hash(encoded.ToArray(), hash32);
    }

    /// <summary>encodeType: the primary type's signature followed by its referenced struct types in name order.</summary>
    public static string EncodeType(string typeName, JsonElement types)
    {
        var referenced = new SortedSet<string>(StringComparer.Ordinal);
        CollectReferences(typeName, types, referenced);
        referenced.Remove(typeName);
        var builder = new StringBuilder();
        foreach (var name in (IEnumerable<string>)[typeName, .. referenced])
        {
            builder.Append(name).Append('(');
            bool first = true;
            foreach (var (field, type) in Fields(name, types))
            {
                if (!first)
                    builder.Append(',');
                builder.Append(type).Append(' ').Append(field);
                first = false;
            }
            builder.Append(')');
        }
        return builder.ToString();
    }

    private static void CollectReferences(string typeName, JsonElement types, SortedSet<string> found)
    {
        if (!found.Add(typeName))
            return;
        foreach (var (_, type) in Fields(typeName, types))
        {
            string baseType = StripArrays(type);
            if (types.TryGetProperty(baseType, out _))
                CollectReferences(baseType, types, found);
        }
    }

    private static IEnumerable<(string Name, string Type)> Fields(string typeName, JsonElement types)
    {
        if (!types.TryGetProperty(typeName, out var fields) || fields.ValueKind != JsonValueKind.Array)
            throw new FormatException($"type {typeName} is not defined.");
        foreach (var field in fields.EnumerateArray())
        {
            yield return (Property(field, "name").GetString() ?? throw new FormatException($"a field of {typeName} has no name."),
                          Property(field, "type").GetString() ?? throw new FormatException($"a field of {typeName} has no type."));
        }
    }

    private static string StripArrays(string type)
    {
        int bracket = type.IndexOf('[', StringComparison.Ordinal);
        return bracket < 0 ? type : type[..bracket];
    }

    private static void EncodeValue(string type, JsonElement value, JsonElement types, Span<byte> word, string where)
    {
        word.Clear();
        if (type.EndsWith(']'))
        {
            // Arrays: keccak of the concatenated encodings of the elements.
            string elementType = type[..type.LastIndexOf('[')];
            if (value.ValueKind != JsonValueKind.Array)
                throw new FormatException($"{where} must be an array.");
            var concatenated = new List<byte>();
            Span<byte> element = stackalloc byte[32];
            int index = 0;
            foreach (var item in value.EnumerateArray())
            {
                EncodeValue(elementType, item, types, element, $"{where}[{index++}]");
                concatenated.AddRange(element.ToArray());
            }
            Keccak256.Hash(concatenated.ToArray(), word);
            return;
        }

        if (types.TryGetProperty(type, out _))
        {
            HashStruct(type, types, value, word);
            return;
        }

        switch (type)
        {
            case "string":
                Keccak256.Hash(Encoding.UTF8.GetBytes(value.GetString() ?? throw new FormatException($"{where} must be a string.")), word);
                return;
            case "bytes":
                Keccak256.Hash(HexBytes(value, where), word);
                return;
            case "bool":
                word[31] = value.ValueKind switch
                {
                    JsonValueKind.True => 1,
                    JsonValueKind.False => 0,
                    _ => throw new FormatException($"{where} must be true or false."),
                };
                return;
            case "address":
            {
                var bytes = HexBytes(value, where);
                if (bytes.Length != 20)
                    throw new FormatException($"{where} must be a 20-byte address.");
                bytes.CopyTo(word[12..]);
                return;
            }
        }

        if (type.StartsWith("bytes", StringComparison.Ordinal) && int.TryParse(type.AsSpan(5), NumberStyles.None, CultureInfo.InvariantCulture, out int size) && size is >= 1 and <= 32)
        {
            var bytes = HexBytes(value, where);
            if (bytes.Length != size)
                throw new FormatException($"{where} must be {size} bytes.");
            bytes.CopyTo(word);
            return;
        }

        bool signed = type.StartsWith("int", StringComparison.Ordinal);
        if (signed || type.StartsWith("uint", StringComparison.Ordinal))
        {
            int bits = int.Parse(type.AsSpan(signed ? 3 : 4), NumberStyles.None, CultureInfo.InvariantCulture);
            var number = Integer(value, where);
            var min = signed ? -(BigInt.One << (bits - 1)) : BigInt.Zero;
            var max = signed ? (BigInt.One << (bits - 1)) - 1 : (BigInt.One << bits) - 1;
            if (number < min || number > max)
                throw new FormatException($"{where} is out of range for {type}.");
            WriteWord(number, word);
            return;
        }

        throw new FormatException($"{where}: unsupported type {type}.");
    }

    /// <summary>Writes a signed or unsigned integer as a 32-byte big-endian two's-complement word.</summary>
    internal static void WriteWord(BigInt number, Span<byte> word)
    {
        word.Fill(number.Sign < 0 ? (byte)0xFF : (byte)0x00);
        int count = number.GetByteCount(isUnsigned: number.Sign >= 0);
        number.TryWriteBytes(word[(32 - count)..], out _, isUnsigned: number.Sign >= 0, isBigEndian: true);
    }

    private static BigInt Integer(JsonElement value, string where)
    {
        string text = value.ValueKind switch
        {
            JsonValueKind.Number => value.GetRawText(),
            JsonValueKind.String => value.GetString()!,
            _ => throw new FormatException($"{where} must be a number or a numeric string."),
        };
        if (text.StartsWith("0x", StringComparison.OrdinalIgnoreCase))
            return BigInt.Parse("0" + text[2..], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture);
        if (!BigInt.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var number))
            throw new FormatException($"{where} is not an integer: '{text}'.");
        return number;
    }

    private static byte[] HexBytes(JsonElement value, string where)
    {
        string? text = value.ValueKind == JsonValueKind.String ? value.GetString() : null;
        if (text is null || !text.StartsWith("0x", StringComparison.OrdinalIgnoreCase) || text.Length % 2 != 0)
            throw new FormatException($"{where} must be 0x-prefixed hex.");
        try
        {
            return Convert.FromHexString(text.AsSpan(2));
        }
        catch (FormatException)
        {
            throw new FormatException($"{where} must be 0x-prefixed hex.");
        }
    }

    private static JsonElement Property(JsonElement element, string name) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var value)
            ? value
            : throw new FormatException($"'{name}' is missing.");

    internal static void WriteUInt64(ulong value, Span<byte> word)
    {
        word.Clear();
        BinaryPrimitives.WriteUInt64BigEndian(word[24..], value);
    }

    internal static void WriteInt64(long value, Span<byte> word)
    {
        word.Fill(value < 0 ? (byte)0xFF : (byte)0x00);
        BinaryPrimitives.WriteInt64BigEndian(word[24..], value);
    }
}
