using System.Buffers;
using EdgeMeter.Protocols.Dlms;

namespace EdgeMeter.Protocols.Tests.Dlms;

public sealed class AxdrTests
{
    [Theory]
    [InlineData("0300", DlmsDataType.Boolean, "0")]
    [InlineData("0301", DlmsDataType.Boolean, "1")]
    [InlineData("05FFFFFFFE", DlmsDataType.DoubleLong, "-2")]
    [InlineData("06FFFFFFFF", DlmsDataType.DoubleLongUnsigned, "4294967295")]
    [InlineData("0D42", DlmsDataType.Bcd, "66")]
    [InlineData("0F80", DlmsDataType.Integer, "-128")]
    [InlineData("108000", DlmsDataType.Long, "-32768")]
    [InlineData("11FF", DlmsDataType.Unsigned, "255")]
    [InlineData("12FFFF", DlmsDataType.LongUnsigned, "65535")]
    [InlineData("148000000000000000", DlmsDataType.Long64, "-9223372036854775808")]
    [InlineData("15FFFFFFFFFFFFFFFF", DlmsDataType.Long64Unsigned, "18446744073709551615")]
    [InlineData("1603", DlmsDataType.Enum, "3")]
    [InlineData("173FC00000", DlmsDataType.Float32, "1.5")]
    [InlineData("18400C000000000000", DlmsDataType.Float64, "3.5")]
    [InlineData("0A03414243", DlmsDataType.VisibleString, "ABC")]
    [InlineData("0C02C3A9", DlmsDataType.Utf8String, "é")]
    [InlineData("0903010203", DlmsDataType.OctetString, "010203")]
    [InlineData("040AFFC0", DlmsDataType.BitString, "FFC0")]
    [InlineData("1907EA0B1802000000FF800000", DlmsDataType.DateTime, "07EA0B1802000000FF800000")]
    [InlineData("1A07EA0B1802", DlmsDataType.Date, "07EA0B1802")]
    [InlineData("1B08000000", DlmsDataType.Time, "08000000")]
    [InlineData("00", DlmsDataType.NullData, "null")]
    public void Every_data_type_decodes_and_encodes_back(string hex, DlmsDataType type, string text)
    {
        byte[] bytes = Convert.FromHexString(hex);
        var reader = new AxdrReader(bytes);
        var value = reader.ReadValue();
        Assert.Equal(type, value.Type);
        Assert.Equal(text, value.ToString());
        Assert.Equal(bytes.Length, reader.Position);
        var writer = new ArrayBufferWriter<byte>();
        writer.WriteValue(value);
        Assert.Equal(hex, Convert.ToHexString(writer.WrittenSpan));
    }

    [Fact]
    public void Long_lengths_use_the_0x81_and_0x82_forms()
    {
        var value = DlmsValue.OctetString(new byte[300]);
        var writer = new ArrayBufferWriter<byte>();
        writer.WriteValue(value);
        Assert.Equal("09" + "82012C", Convert.ToHexString(writer.WrittenSpan[..4]));
        var reader = new AxdrReader(writer.WrittenSpan);
        Assert.Equal(300, reader.ReadValue().Bytes.Length);
    }

    [Fact]
    public void An_array_count_larger_than_the_bytes_left_is_refused_before_allocating()
    {
        var error = Assert.Throws<DlmsException>(() => new AxdrReader(Convert.FromHexString("0184FFFFFFF00000")).ReadValue());
        Assert.Equal("length 4294967280 at offset 1 is too large", error.Message);
        error = Assert.Throws<DlmsException>(() => new AxdrReader(Convert.FromHexString("01820FFF1100")).ReadValue());
        Assert.Equal("count 4095 at offset 1 exceeds the 2 bytes left", error.Message);
    }

    [Theory]
    [InlineData(1234567, 1, "12345670")]
    [InlineData(30457, -1, "3045.7")]
    [InlineData(2301, -1, "230.1")]
    [InlineData(1, -28, "0.0000000000000000000000000001")]
    [InlineData(-5, 3, "-5000")]
    public void Scaler_is_applied_exactly_in_decimal(long raw, int scaler, string expected)
    {
        var q = new DlmsQuantity(DlmsValue.FromSigned(DlmsDataType.Long64, raw), (sbyte)scaler, DlmsUnit.Watt);
        Assert.Equal(decimal.Parse(expected, System.Globalization.CultureInfo.InvariantCulture), q.Value);
        Assert.Equal(expected + " W", q.ToString());
    }

    [Theory]
    [InlineData("1.0.1.8.0.255", "1.0.1.8.0.255")]
    [InlineData("1-0:1.8.0*255", "1.0.1.8.0.255")]
    [InlineData("1-0:32.7.0", "1.0.32.7.0.255")]
    [InlineData("1.8.0", "1.0.1.8.0.255")]
    public void Obis_codes_parse_in_the_common_spellings(string text, string canonical)
    {
        Assert.True(ObisCode.TryParse(text, out var code));
        Assert.Equal(canonical, code.ToString());
    }

    [Theory]
    [InlineData("1.0.1.8.0.256")]
    [InlineData("1.0.1.8")]
    [InlineData("a.b.c.d.e.f")]
    [InlineData("")]
    [InlineData("1.0.1.8.0.255.1")]
    public void Malformed_obis_codes_are_refused(string text) => Assert.False(ObisCode.TryParse(text, out _));

    [Fact]
    public void Date_time_with_deviation_gives_the_instant()
    {
        // 10:00 local with deviation -60 (local time is UTC+1): 09:00 UTC.
        var time = CosemDateTime.Decode(Convert.FromHexString("07EA0B18020A0000FFFFC480"));
        Assert.Equal(-60, time.Deviation);
        Assert.Equal(0x80, time.ClockStatus);
        Assert.Equal(new DateTimeOffset(2026, 11, 24, 9, 0, 0, TimeSpan.Zero), time.ToDateTimeOffset());
        Assert.Equal("2026-11-24T10:00:00+01:00", time.ToString());
    }
}
