using System.Globalization;
using System.Text.Json;
using EdgeMeter.Crypto.Keys;
using EdgeMeter.Crypto.Signing;

namespace EdgeMeter.Crypto.Records;

/// <summary>
/// JSON forms of records, written and read by hand (no reflection). The message form is the EIP-712 message
/// object (as ethers' <c>verifyTypedData</c> takes it); the export form adds domain, types, primaryType,
/// signature and signer.
/// </summary>
/// <remarks>
/// 64-bit and wider integers are decimal strings so that JavaScript reads them exactly; 8-bit ones are numbers.
/// The export's <c>types</c> includes <c>EIP712Domain</c> as <c>eth_signTypedData_v4</c> does; ethers wants
/// it removed before <c>verifyTypedData</c>.
/// </remarks>
public static class ReadingJson
{
    /// <summary>Writes the EIP-712 message object of a chain link: a reading or a gap declaration.</summary>
    public static void WriteMessage(Utf8JsonWriter writer, ChainRecord record)
    {
        ArgumentNullException.ThrowIfNull(writer);
        switch (record)
        {
            case ReadingRecord reading:
                WriteMessage(writer, reading);
                break;
            case GapRecord gap:
                WriteGapMessage(writer, gap);
                break;
            default:
                throw new ArgumentNullException(nameof(record));
        }
    }

    /// <summary>Writes the EIP-712 message object of a gap declaration.</summary>
    public static void WriteGapMessage(Utf8JsonWriter writer, GapRecord gap)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentNullException.ThrowIfNull(gap);
        writer.WriteStartObject();
        writer.WriteString("device", EthereumAddress.Normalize(gap.Device));
        writer.WriteString("seq", gap.Sequence.ToString(CultureInfo.InvariantCulture));
        writer.WriteString("fromSeq", gap.FromSequence.ToString(CultureInfo.InvariantCulture));
        writer.WriteString("toSeq", gap.ToSequence.ToString(CultureInfo.InvariantCulture));
        writer.WriteNumber("reason", (byte)gap.Reason);
        writer.WriteString("gatewayTime", gap.GatewayTimeMs.ToString(CultureInfo.InvariantCulture));
        writer.WriteNumber("timeStatus", (byte)gap.TimeStatus);
        writer.WriteString("prev", "0x" + Convert.ToHexStringLower(gap.PrevHash.Span));
        writer.WriteEndObject();
    }

    /// <summary>Writes the EIP-712 message object of a reading.</summary>
    public static void WriteMessage(Utf8JsonWriter writer, ReadingRecord record)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentNullException.ThrowIfNull(record);
        writer.WriteStartObject();
        writer.WriteString("device", EthereumAddress.Normalize(record.Device));
        writer.WriteString("seq", record.Sequence.ToString(CultureInfo.InvariantCulture));
        writer.WriteString("meterId", record.MeterId);
        writer.WriteString("obis", record.Obis);
        writer.WriteString("value", record.Value.ToString(CultureInfo.InvariantCulture));
        writer.WriteNumber("scaler", record.Scaler);
        writer.WriteString("unit", record.Unit);
        writer.WriteNumber("source", (byte)record.Source);
        writer.WriteBoolean("clean", record.Clean);
        writer.WriteString("gatewayTime", record.GatewayTimeMs.ToString(CultureInfo.InvariantCulture));
        writer.WriteString("meterTime", record.MeterTimeMs.ToString(CultureInfo.InvariantCulture));
        writer.WriteNumber("timeStatus", (byte)record.TimeStatus);
        writer.WriteNumber("origin", (byte)record.Origin);
        writer.WriteString("prev", "0x" + Convert.ToHexStringLower(record.PrevHash.Span));
        writer.WriteEndObject();
    }

    /// <summary>
    /// Reads the message object of a <paramref name="primaryType"/> (<c>Reading</c> or <c>Gap</c>); throws
    /// <see cref="FormatException"/> naming the field.
    /// </summary>
    public static ChainRecord ReadChainMessage(JsonElement message, string primaryType) => primaryType switch
    {
        ReadingTypedData.PrimaryType => ReadMessage(message),
        GapTypedData.PrimaryType => ReadGapMessage(message),
        _ => throw new FormatException($"primaryType: '{primaryType}' is neither {ReadingTypedData.PrimaryType} nor {GapTypedData.PrimaryType}."),
    };

    /// <summary>Reads a gap declaration's message object; throws <see cref="FormatException"/> naming the field.</summary>
    public static GapRecord ReadGapMessage(JsonElement message)
    {
        if (message.ValueKind != JsonValueKind.Object)
            throw new FormatException("message: not an object.");
        long gatewayTime = Int64(message, "gatewayTime");
        if (gatewayTime < 0)
            throw new FormatException("message.gatewayTime: must not be negative.");
        return new GapRecord
        {
            Device = Address(message, "device"),
            Sequence = UInt64(message, "seq"),
            FromSequence = UInt64(message, "fromSeq"),
            ToSequence = UInt64(message, "toSeq"),
            Reason = (GapReason)SmallInt(message, "reason", 0, 255),
            GatewayTimeMs = gatewayTime,
            TimeStatus = (TimeStatus)SmallInt(message, "timeStatus", 0, 255),
            PrevHash = Hex(message, "prev", 32),
        };
    }

    /// <summary>
    /// Reads a reading's message object written by <see cref="WriteMessage(Utf8JsonWriter, ReadingRecord)"/>; throws
    /// <see cref="FormatException"/> naming the field. A message without <c>origin</c> (written before the field
    /// existed) reads as <see cref="RecordOrigin.Live"/>; an export line must carry it (<see cref="ReadExport"/>).
    /// </summary>
    public static ReadingRecord ReadMessage(JsonElement message)
    {
        if (message.ValueKind != JsonValueKind.Object)
            throw new FormatException("message: not an object.");
        var prev = Hex(message, "prev", 32);
        long gatewayTime = Int64(message, "gatewayTime");
        if (gatewayTime < 0)
            throw new FormatException("message.gatewayTime: must not be negative.");
        return new ReadingRecord
        {
            Device = Address(message, "device"),
            Sequence = UInt64(message, "seq"),
            MeterId = Text(message, "meterId"),
            Obis = Text(message, "obis"),
            Value = Int64(message, "value"),
            Scaler = checked((sbyte)SmallInt(message, "scaler", sbyte.MinValue, sbyte.MaxValue)),
            Unit = Text(message, "unit"),
            Source = (EnergySource)SmallInt(message, "source", 0, 255),
            Clean = Bool(message, "clean"),
            GatewayTimeMs = gatewayTime,
            MeterTimeMs = Int64(message, "meterTime"),
            TimeStatus = (TimeStatus)SmallInt(message, "timeStatus", 0, 255),
            Origin = message.TryGetProperty("origin", out _) ? (RecordOrigin)SmallInt(message, "origin", 0, 255) : RecordOrigin.Live,
            PrevHash = prev,
        };
    }

    /// <summary>
    /// Writes one export line object: domain, types, primaryType (<c>Reading</c> or <c>Gap</c>), message, signature
    /// (0x hex), signer.
    /// </summary>
    public static void WriteExport(Utf8JsonWriter writer, SignedReading reading, Eip712Domain domain)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentNullException.ThrowIfNull(reading);
        ArgumentNullException.ThrowIfNull(domain);
        writer.WriteStartObject();
        writer.WritePropertyName("domain");
        WriteDomain(writer, domain);
        writer.WritePropertyName("types");
        writer.WriteStartObject();
        WriteFields(writer, "EIP712Domain", ReadingTypedData.DomainFields);
        string primaryType = ReadingTypedData.PrimaryTypeOf(reading.Record);
        WriteFields(writer, primaryType, ReadingTypedData.FieldsOf(reading.Record));
        writer.WriteEndObject();
        writer.WriteString("primaryType", primaryType);
        writer.WritePropertyName("message");
        WriteMessage(writer, reading.Record);
        writer.WriteString("signature", "0x" + Convert.ToHexStringLower(reading.Signature.Span));
        writer.WriteString("signer", EthereumAddress.Normalize(reading.Record.Device));
        writer.WriteEndObject();
    }

    /// <summary>Reads one export line object.</summary>
    /// <remarks>
    /// The returned <see cref="SignedReading.Digest"/> is recomputed from the message, never taken from the
    /// line, so a verifier checks the signature against what the line actually says.
    /// </remarks>
    /// <exception cref="FormatException">The line is not an export of a reading record; the message names the field.</exception>
    public static (SignedReading Reading, Eip712Domain Domain, string Signer) ReadExport(JsonElement line)
    {
        if (line.ValueKind != JsonValueKind.Object)
            throw new FormatException("line: not an object.");
        var domain = ReadDomain(Property(line, "domain", "line"));
        string primaryType = Text(line, "primaryType");
        var (fields, typeString) = primaryType switch
        {
            ReadingTypedData.PrimaryType => (ReadingTypedData.Fields, ReadingTypedData.TypeString),
            GapTypedData.PrimaryType => (GapTypedData.Fields, GapTypedData.TypeString),
            _ => throw new FormatException($"primaryType: '{primaryType}' is neither {ReadingTypedData.PrimaryType} nor {GapTypedData.PrimaryType}."),
        };
        // The types must be exactly ours: a verifier must not sign off on a line that declares something else.
        var types = Property(line, "types", "line");
        CheckFields(types, primaryType, fields, typeString);
        CheckFields(types, "EIP712Domain", ReadingTypedData.DomainFields, ReadingTypedData.DomainTypeString);
        foreach (var type in types.EnumerateObject())
        {
            if (type.Name != "EIP712Domain" && type.Name != primaryType)
                throw new FormatException($"types.{type.Name}: not part of a {primaryType} record.");
        }

        var message = Property(line, "message", "line");
        if (primaryType == ReadingTypedData.PrimaryType)
            Property(message, "origin", "message");
        var record = ReadChainMessage(message, primaryType);
        var signature = Hex(line, "signature", 65);
        string signer = Address(line, "signer");
        var digest = new byte[32];
        try
        {
            ReadingTypedData.Digest(domain, record, digest);
        }
        catch (ArgumentException e)
        {
            throw new FormatException($"message: {e.Message}", e);
        }
        return (new SignedReading(record, digest, signature), domain, signer);
    }

    /// <summary>Writes the domain object {"name","version","chainId"}; chainId is a number while JavaScript can hold it exactly.</summary>
    public static void WriteDomain(Utf8JsonWriter writer, Eip712Domain domain)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentNullException.ThrowIfNull(domain);
        writer.WriteStartObject();
        writer.WriteString("name", domain.Name);
        writer.WriteString("version", domain.Version);
        if (domain.ChainId <= (1UL << 53) - 1)
            writer.WriteNumber("chainId", domain.ChainId);
        else
            writer.WriteString("chainId", domain.ChainId.ToString(CultureInfo.InvariantCulture));
        writer.WriteEndObject();
    }

    /// <summary>Reads a domain object; only name, version and chainId are allowed.</summary>
    public static Eip712Domain ReadDomain(JsonElement domain)
    {
        if (domain.ValueKind != JsonValueKind.Object)
            throw new FormatException("domain: not an object.");
        foreach (var property in domain.EnumerateObject())
        {
            if (property.Name is not ("name" or "version" or "chainId"))
                throw new FormatException($"domain.{property.Name}: not part of EIP712Domain(string name,string version,uint256 chainId).");
        }
        return new Eip712Domain(Text(domain, "name"), Text(domain, "version"), UInt64(domain, "chainId"));
    }

    private static void WriteFields(Utf8JsonWriter writer, string typeName, IReadOnlyList<(string Name, string Type)> fields)
    {
        writer.WritePropertyName(typeName);
        writer.WriteStartArray();
        foreach (var (name, type) in fields)
        {
            writer.WriteStartObject();
            writer.WriteString("name", name);
            writer.WriteString("type", type);
            writer.WriteEndObject();
        }
        writer.WriteEndArray();
    }

    private static void CheckFields(JsonElement types, string typeName, IReadOnlyList<(string Name, string Type)> expected, string typeString)
    {
        var fields = Property(types, typeName, "types");
        bool same = fields.ValueKind == JsonValueKind.Array && fields.GetArrayLength() == expected.Count;
        if (same)
        {
            int i = 0;
            foreach (var field in fields.EnumerateArray())
            {
                same &= field.ValueKind == JsonValueKind.Object &&
                        field.TryGetProperty("name", out var name) && name.ValueKind == JsonValueKind.String && name.GetString() == expected[i].Name &&
                        field.TryGetProperty("type", out var type) && type.ValueKind == JsonValueKind.String && type.GetString() == expected[i].Type;
                i++;
            }
        }
        if (!same)
            throw new FormatException($"types.{typeName}: does not match {typeString}.");
    }

    private static JsonElement Property(JsonElement element, string name, string where) =>
        element.TryGetProperty(name, out var value) ? value : throw new FormatException($"{where}.{name}: missing.");

    private static string Text(JsonElement element, string name)
    {
        var value = Property(element, name, "message");
        return value.ValueKind == JsonValueKind.String ? value.GetString()! : throw new FormatException($"{name}: must be a string.");
    }

    private static bool Bool(JsonElement element, string name) => Property(element, name, "message").ValueKind switch
    {
        JsonValueKind.True => true,
        JsonValueKind.False => false,
        _ => throw new FormatException($"{name}: must be true or false."),
    };

    private static int SmallInt(JsonElement element, string name, int min, int max)
    {
        var value = Property(element, name, "message");
        if (value.ValueKind != JsonValueKind.Number || !value.TryGetInt32(out int number) || number < min || number > max)
            throw new FormatException($"{name}: must be an integer in [{min}, {max}].");
        return number;
    }

    // Wide integers are decimal strings; a plain JSON number is accepted too when it is an exact integer.
    private static long Int64(JsonElement element, string name)
    {
        var value = Property(element, name, "message");
        if (value.ValueKind == JsonValueKind.String &&
            long.TryParse(value.GetString(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long parsed))
            return parsed;
        if (value.ValueKind == JsonValueKind.Number && value.TryGetInt64(out parsed))
            return parsed;
        throw new FormatException($"{name}: must be a decimal 64-bit integer.");
    }

    private static ulong UInt64(JsonElement element, string name)
    {
        var value = Property(element, name, "message");
        if (value.ValueKind == JsonValueKind.String &&
            ulong.TryParse(value.GetString(), NumberStyles.None, CultureInfo.InvariantCulture, out ulong parsed))
            return parsed;
        if (value.ValueKind == JsonValueKind.Number && value.TryGetUInt64(out parsed))
            return parsed;
        throw new FormatException($"{name}: must be a decimal unsigned 64-bit integer.");
    }

    private static string Address(JsonElement element, string name)
    {
        string text = Text(element, name);
        Span<byte> bytes = stackalloc byte[20];
        if (!EthereumAddress.TryParse(text, bytes))
            throw new FormatException($"{name}: must be a 0x-prefixed 20-byte address.");
        return "0x" + Convert.ToHexStringLower(bytes);
    }

    private static byte[] Hex(JsonElement element, string name, int length)
    {
        string text = Text(element, name);
        var bytes = new byte[length];
        if (text.Length != 2 + 2 * length || !text.StartsWith("0x", StringComparison.OrdinalIgnoreCase) ||
            Convert.FromHexString(text.AsSpan(2), bytes, out _, out int written) != System.Buffers.OperationStatus.Done || written != length)
            throw new FormatException($"{name}: must be 0x followed by {2 * length} hex digits.");
        return bytes;
    }
}
