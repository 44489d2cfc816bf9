using System.Text;
using EdgeMeter.Protocols.Dlms;

namespace EdgeMeter.Protocols.Tests.Dlms;

public sealed class ModeCReadoutTests
{
    /// <summary>Builds a telegram the way IEC 62056-21 lays it out, with the block check character computed here.</summary>
    internal static byte[] Telegram(string identification, params string[] lines)
    {
        var data = new StringBuilder();
        foreach (string line in lines)
        {
            data.Append(line).Append("\r\n");
        }

        data.Append("!\r\n");
        byte[] block = [.. Encoding.ASCII.GetBytes(data.ToString()), 0x03];
        byte bcc = 0;
        foreach (byte b in block)
        {
            bcc ^= b;
        }

        return [.. Encoding.ASCII.GetBytes("/" + identification + "\r\n"), 0x02, .. block, bcc];
    }

    [Fact]
    public void Readout_of_a_typical_meter_gives_obis_values_with_exact_decimals_and_units()
    {
        var telegram = Telegram("ISK5MT174-0001",
            "0.0.0(00339188)",
            "0.9.1(142503)",
            "1.8.0(0012345.678*kWh)",
            "1.8.1(0010000.120*kWh)",
            "2.8.0(0000001.005*kWh)",
            "1-0:32.7.0*255(230.1*V)",
            "1.6.0(0002.345*kW)(2511241415)",
            "C.1.0(12345678)",
            "F.F(00000000)");

        var readout = ModeCReadout.Parse(telegram);

        Assert.Equal("ISK", readout.Manufacturer);
        Assert.Equal('5', readout.BaudRateCharacter);
        Assert.Equal("MT174-0001", readout.Identification);
        Assert.Equal(10, readout.Values.Count);
        var energy = readout.Values.Single(v => v.Obis == ObisCode.Parse("1.0.1.8.0.255"));
        Assert.Equal(12345.678m, energy.Number);
        Assert.Equal("kWh", energy.Unit);
        Assert.Equal(1.005m, readout.Values.Single(v => v.Obis == ObisCode.Parse("1.0.2.8.0.255")).Number);
        Assert.Equal(230.1m, readout.Values.Single(v => v.Obis == ObisCode.Parse("1.0.32.7.0.255")).Number);
        var demand = readout.Values.Where(v => v.Obis == ObisCode.Parse("1.0.1.6.0.255")).ToArray();
        Assert.Equal([2.345m, 2511241415m], demand.Select(d => d.Number!.Value));
        Assert.Equal("kW", demand[0].Unit);
        Assert.Equal("12345678", readout.Values.Single(v => v.Obis == ObisCode.Parse("0.0.96.1.0.255")).Text);
        Assert.Equal(ObisCode.Parse("0.0.97.97.0.255"), readout.Values[^1].Obis);
        Assert.Equal(ObisCode.Parse("0.0.0.9.1.255"), readout.Values[1].Obis);
    }

    [Fact]
    public void A_wrong_block_check_character_is_refused()
    {
        var telegram = Telegram("ABC5X", "1.8.0(1*kWh)");
        telegram[^1] ^= 0x20;
        var error = Assert.Throws<DlmsException>(() => ModeCReadout.Parse(telegram));
        Assert.StartsWith("mode C block check character", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("1.8.0 1*kWh", "is not ADDRESS(VALUE)")]
    [InlineData("X.Y.Z(1)", "is not an OBIS code")]
    [InlineData("1.8.0(1)x(2)", "has text between value groups")]
    public void Malformed_lines_are_refused_with_a_reason(string line, string reason)
    {
        var error = Assert.Throws<DlmsException>(() => ModeCReadout.Parse(Telegram("ABC5X", line)));
        Assert.Contains(reason, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Non_numeric_values_keep_their_text_and_no_number()
    {
        var readout = ModeCReadout.Parse(Telegram("ABC5X", "0.0.0(ABC-123)"));
        Assert.Null(readout.Values[0].Number);
        Assert.Equal("ABC-123", readout.Values[0].Text);
    }
}
