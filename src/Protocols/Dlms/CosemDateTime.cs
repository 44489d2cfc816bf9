using System.Buffers.Binary;
using System.Globalization;

namespace EdgeMeter.Protocols.Dlms;

/// <summary>
/// A COSEM date-time (IEC 62056-6-2, 12 bytes): year, month, day, day of week, hour, minute, second, hundredths,
/// deviation (minutes, 0x8000 = not specified) and clock status. Fields keep the "not specified" values (0xFF,
/// 0xFFFF) so nothing is invented.
/// </summary>
public readonly record struct CosemDateTime(
    ushort Year, byte Month, byte Day, byte DayOfWeek, byte Hour, byte Minute, byte Second, byte Hundredths, short Deviation, byte ClockStatus)
{
    /// <summary>The deviation value meaning "not specified".</summary>
    public const short DeviationNotSpecified = unchecked((short)0x8000);

    /// <summary>Whether the deviation is given.</summary>
    public bool HasDeviation => Deviation != DeviationNotSpecified;

    /// <summary>Decodes the 12 bytes.</summary>
    public static CosemDateTime Decode(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length != 12)
        {
            throw new DlmsException($"a date-time has 12 bytes, got {bytes.Length}");
        }

        return new CosemDateTime(
            BinaryPrimitives.ReadUInt16BigEndian(bytes), bytes[2], bytes[3], bytes[4], bytes[5], bytes[6], bytes[7], bytes[8],
            BinaryPrimitives.ReadInt16BigEndian(bytes[9..]), bytes[11]);
    }

    /// <summary>Decodes an octet-string(12) or date-time value.</summary>
    public static CosemDateTime From(DlmsValue value)
    {
        ArgumentNullException.ThrowIfNull(value);
        if (value.Type is not (DlmsDataType.OctetString or DlmsDataType.DateTime))
        {
            throw new DlmsException($"{DlmsValue.Name(value.Type)} is not a date-time");
        }

        return Decode(value.Bytes);
    }

    /// <summary>
    /// The date-time of a UTC instant as a meter would send it: day of week 1 (Monday) to 7, hundredths not
    /// specified (0xFF), deviation 0, status 0.
    /// </summary>
    public static CosemDateTime FromUtc(DateTimeOffset instant)
    {
        var utc = instant.UtcDateTime;
        byte dayOfWeek = utc.DayOfWeek == System.DayOfWeek.Sunday ? (byte)7 : (byte)utc.DayOfWeek;
        return new CosemDateTime((ushort)utc.Year, (byte)utc.Month, (byte)utc.Day, dayOfWeek, (byte)utc.Hour, (byte)utc.Minute, (byte)utc.Second, 0xFF, 0, 0);
    }

    /// <summary>Encodes the 12 bytes.</summary>
    public byte[] Encode()
    {
        var bytes = new byte[12];
        BinaryPrimitives.WriteUInt16BigEndian(bytes, Year);
        bytes[2] = Month;
        bytes[3] = Day;
        bytes[4] = DayOfWeek;
        bytes[5] = Hour;
        bytes[6] = Minute;
        bytes[7] = Second;
        bytes[8] = Hundredths;
        BinaryPrimitives.WriteInt16BigEndian(bytes.AsSpan(9), Deviation);
        bytes[11] = ClockStatus;
        return bytes;
    }

    /// <summary>
    /// The instant, when every field is specified. The Blue Book's deviation is "local time to UTC" in minutes, so
    /// UTC = local + deviation (UTC+01:00 has deviation −60). Without a deviation the time is read as UTC, which is
    /// what a meter's load profile keeps when it says nothing.
    /// </summary>
    public DateTimeOffset? ToDateTimeOffset()
    {
        if (Year == 0xFFFF || Month is 0 or > 12 || Day is 0 or > 31 || Hour > 23 || Minute > 59 || Second > 59)
        {
            return null;
        }

        if (Day > DateTime.DaysInMonth(Year, Month) || (HasDeviation && Math.Abs((int)Deviation) > 840))
        {
            return null;
        }

        int hundredths = Hundredths <= 99 ? Hundredths : 0;
        var offset = HasDeviation ? TimeSpan.FromMinutes(-Deviation) : TimeSpan.Zero;
        return new DateTimeOffset(Year, Month, Day, Hour, Minute, Second, hundredths * 10, offset);
    }

    /// <summary>ISO-8601 text, e.g. <c>2026-11-24T08:53:29Z</c>; fields not specified print as <c>?</c>.</summary>
    public override string ToString()
    {
        var instant = ToDateTimeOffset();
        if (instant is null)
        {
            return string.Create(CultureInfo.InvariantCulture, $"{Year:0000}-{Month:00}-{Day:00}T{Hour:00}:{Minute:00}:{Second:00} (not a complete date-time)");
        }

        string text = instant.Value.ToString(Hundredths <= 99 && Hundredths > 0 ? "yyyy-MM-dd'T'HH:mm:ss.ff" : "yyyy-MM-dd'T'HH:mm:ss", CultureInfo.InvariantCulture);
        return !HasDeviation ? text : instant.Value.Offset == TimeSpan.Zero ? text + "Z" : text + instant.Value.ToString("zzz", CultureInfo.InvariantCulture);
    }
}
