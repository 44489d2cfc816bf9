using System.Globalization;
using System.Text;
using System.Text.Json;
using EdgeMeter.Crypto.Records;

namespace EdgeMeter.Crypto.Ocmf;

/// <summary>Who made a record, for the OCMF gateway and meter fields.</summary>
/// <param name="GatewayId">GI: gateway identification (the device address).</param>
/// <param name="GatewaySerial">GS: gateway serial number.</param>
/// <param name="GatewayVersion">GV: gateway software version.</param>
/// <param name="MeterVendor">MV: meter manufacturer, if known.</param>
/// <param name="MeterModel">MM: meter model, if known.</param>
public sealed record OcmfContext(string GatewayId, string GatewaySerial, string GatewayVersion, string? MeterVendor = null, string? MeterModel = null);

/// <summary>
/// Formats one reading as an OCMF record, <c>OCMF|{payload}|{"SA":"ECDSA-secp256r1-SHA256","SD":"hex"}</c>,
/// signed with a P-256 key so that tools verifying OCMF (e.g. the S.A.F.E. transparency software) can check it.
/// A reading outside a charging transaction is a fiscal reading: pagination <c>F</c> + sequence number.
/// </summary>
public static class OcmfWriter
{
    /// <summary>The OCMF signature algorithm identifier this writer uses.</summary>
    public const string SignatureAlgorithm = "ECDSA-secp256r1-SHA256";

    /// <summary>Builds the payload JSON of <paramref name="record"/>.</summary>
    public static string Payload(ReadingRecord record, OcmfContext context)
    {
        ArgumentNullException.ThrowIfNull(record);
        ArgumentNullException.ThrowIfNull(context);
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream))
        {
            w.WriteStartObject();
            w.WriteString("FV", "1.0");
            w.WriteString("GI", context.GatewayId);
            w.WriteString("GS", context.GatewaySerial);
            w.WriteString("GV", context.GatewayVersion);
            w.WriteString("PG", "F" + record.Sequence.ToString(CultureInfo.InvariantCulture));
            if (context.MeterVendor is not null)
                w.WriteString("MV", context.MeterVendor);
            if (context.MeterModel is not null)
                w.WriteString("MM", context.MeterModel);
            w.WriteString("MS", record.MeterId);
            w.WriteBoolean("IS", false);
            w.WriteString("IT", "NONE");
            w.WriteStartArray("RD");
            w.WriteStartObject();
            // A reading read back from the meter's memory was taken at the meter's time, which only the meter's clock
            // vouches for: informative ("I"). A live reading is timed by the gateway.
            w.WriteString("TM", record is { Origin: RecordOrigin.MeterMemory, MeterTimeMs: not 0 }
                ? Timestamp(record.MeterTimeMs, TimeStatus.Informative)
                : Timestamp(record.GatewayTimeMs, record.TimeStatus));
            WriteValue(w, record.Value, record.Scaler);
            w.WriteString("RI", ObisWithoutStorage(record.Obis));
            w.WriteString("RU", record.Unit);
            w.WriteString("RT", "AC");
            w.WriteString("EF", string.Empty);
            w.WriteString("ST", "G");
            w.WriteEndObject();
            w.WriteEndArray();
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(stream.ToArray());
    }

    /// <summary>One complete OCMF record for <paramref name="record"/>, signed with <paramref name="key"/>.</summary>
    public static string Format(ReadingRecord record, OcmfContext context, OcmfKey key)
    {
        ArgumentNullException.ThrowIfNull(key);
        string payload = Payload(record, context);
        var signature = key.Sign(Encoding.UTF8.GetBytes(payload));
        return $"OCMF|{payload}|{{\"SA\":\"{SignatureAlgorithm}\",\"SD\":\"{Convert.ToHexString(signature)}\"}}";
    }

    /// <summary>Splits an OCMF record and checks its signature with <paramref name="publicKey"/>.</summary>
    public static bool Verify(string ocmf, Org.BouncyCastle.Crypto.Parameters.ECPublicKeyParameters publicKey)
    {
        ArgumentNullException.ThrowIfNull(ocmf);
        if (!ocmf.StartsWith("OCMF|", StringComparison.Ordinal))
            return false;
        int split = ocmf.LastIndexOf("|{", StringComparison.Ordinal);
        if (split <= 5)
            return false;
        string payload = ocmf[5..split];
        try
        {
            using var signature = JsonDocument.Parse(ocmf[(split + 1)..]);
            if (signature.RootElement.GetProperty("SA").GetString() != SignatureAlgorithm)
                return false;
            var der = Convert.FromHexString(signature.RootElement.GetProperty("SD").GetString() ?? string.Empty);
            return OcmfKey.Verify(publicKey, Encoding.UTF8.GetBytes(payload), der);
        }
        catch (Exception e) when (e is JsonException or FormatException or KeyNotFoundException or InvalidOperationException)
        {
            return false;
        }
    }

    /// <summary>OCMF time: local ISO 8601 with comma milliseconds and offset, then the status letter (U, I, S, R).</summary>
    internal static string Timestamp(long unixMs, TimeStatus status)
    {
        var time = DateTimeOffset.FromUnixTimeMilliseconds(unixMs);
        char letter = status switch
        {
            TimeStatus.Informative => 'I',
            TimeStatus.Synchronised => 'S',
            TimeStatus.Relative => 'R',
            _ => 'U',
        };
        return time.ToString("yyyy-MM-dd'T'HH:mm:ss','fff", CultureInfo.InvariantCulture) + "+0000 " + letter;
    }

    private static void WriteValue(Utf8JsonWriter writer, long value, sbyte scaler)
    {
        // value · 10^scaler written exactly, without going through binary floating point.
        string digits = decimal.Abs(value).ToString(CultureInfo.InvariantCulture);
        string text;
        if (scaler >= 0)
        {
            text = digits + new string('0', scaler);
        }
        else
        {
            int places = -scaler;
            digits = digits.PadLeft(places + 1, '0');
            text = (digits[..^places] + "." + digits[^places..]).TrimEnd('0').TrimEnd('.');
        }
        writer.WritePropertyName("RV");
        writer.WriteRawValue((value < 0 ? "-" : string.Empty) + text, skipInputValidation: false);
    }

    // OCMF's RI is the OBIS id without the storage group ("1-0:1.8.0"), our records keep "*255".
    private static string ObisWithoutStorage(string obis)
    {
        int star = obis.IndexOf('*', StringComparison.Ordinal);
        return star < 0 ? obis : obis[..star];
    }
}
