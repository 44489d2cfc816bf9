using EdgeMeter.Protocols.Modbus;

namespace EdgeMeter.Protocols.Tests.Modbus;

/// <summary>Known-good frames from the Modbus Application Protocol and Serial Line specifications.</summary>
public sealed class FrameTests
{
    [Fact]
    public void Crc_of_read_ten_holding_registers_from_unit_1_is_C5_CD()
    {
        byte[] frame = new byte[8];
        byte[] pdu = [0x03, 0x00, 0x00, 0x00, 0x0A];
        int n = ModbusRtuFraming.WriteFrame(frame, 0x01, pdu);
        Assert.Equal(8, n);
        Assert.Equal(Convert.FromHexString("01030000000AC5CD"), frame);
        Assert.True(ModbusCrc.IsValid(frame));
    }

    [Fact]
    public void Crc_of_serial_line_spec_example_02_07_is_0x1241_sent_low_byte_first()
    {
        Assert.Equal(0x1241, ModbusCrc.Compute([0x02, 0x07]));
        Assert.True(ModbusCrc.IsValid([0x02, 0x07, 0x41, 0x12]));
        Assert.False(ModbusCrc.IsValid([0x02, 0x07, 0x12, 0x41]));
    }

    [Fact]
    public void Builds_read_holding_registers_request_from_spec_example()
    {
        var pdu = new byte[5];
        ModbusPdu.WriteReadRequest(pdu, ModbusFunction.ReadHoldingRegisters, 107, 3);
        Assert.Equal(Convert.FromHexString("03006B0003"), pdu);
    }

    [Fact]
    public void Parses_read_holding_registers_response_from_spec_example()
    {
        var values = new ushort[3];
        ModbusPdu.ParseRegisters(Convert.FromHexString("0306022B00000064"), 0x03, 1, values);
        Assert.Equal(new ushort[] { 555, 0, 100 }, values);
    }

    [Fact]
    public void Parses_read_coils_response_from_spec_example()
    {
        // Coils 20..38: CD 6B 05, LSB first.
        var bits = new bool[19];
        ModbusPdu.ParseBits(Convert.FromHexString("0103CD6B05"), 0x01, 1, bits);
        string text = string.Concat(bits.Select(b => b ? '1' : '0'));
        Assert.Equal("1011001111010110101", text);
    }

    [Fact]
    public void Builds_write_multiple_registers_request_from_spec_example()
    {
        var pdu = new byte[10];
        int n = ModbusPdu.WriteMultipleRegistersRequest(pdu, 1, new ushort[] { 0x000A, 0x0102 });
        Assert.Equal(Convert.FromHexString("100001000204000A0102"), pdu[..n]);
    }

    [Fact]
    public void Builds_write_multiple_coils_request_from_spec_example()
    {
        // Coils 20..29 = 1100 1101 01 -> CD 01
        bool[] coils = [true, false, true, true, false, false, true, true, true, false];
        var pdu = new byte[8];
        int n = ModbusPdu.WriteMultipleCoilsRequest(pdu, 19, coils);
        Assert.Equal(Convert.FromHexString("0F0013000A02CD01"), pdu[..n]);
    }

    [Fact]
    public void Exception_response_becomes_typed_error_with_code_function_and_unit()
    {
        var e = Assert.Throws<ModbusException>(() => ModbusPdu.ParseRegisters([0x84, 0x02], 0x04, 9, new ushort[1]));
        Assert.Equal(ModbusExceptionCode.IllegalDataAddress, e.Code);
        Assert.Equal(0x04, e.Function);
        Assert.Equal(9, e.Unit);
        Assert.False(e.IsRetryable);
    }

    [Fact]
    public void Response_with_wrong_byte_count_is_rejected_not_parsed()
    {
        var values = new ushort[3];
        var e = Assert.Throws<ModbusFrameException>(() => ModbusPdu.ParseRegisters(Convert.FromHexString("0304022B0000"), 0x03, 1, values));
        Assert.Equal(ModbusFrameError.Mismatch, e.Error);
        Assert.Equal(new ushort[3], values);
    }

    [Fact]
    public void Response_for_another_function_is_rejected()
    {
        var e = Assert.Throws<ModbusFrameException>(() => ModbusPdu.ParseRegisters(Convert.FromHexString("0402002A"), 0x03, 1, new ushort[1]));
        Assert.Equal(ModbusFrameError.Mismatch, e.Error);
    }

    [Theory]
    [InlineData("01", FrameStatus.Incomplete, 0)]
    [InlineData("0103", FrameStatus.Incomplete, 0)]
    [InlineData("010306022B00000064", FrameStatus.Incomplete, 0)]
    [InlineData("010306022B00000064AABB", FrameStatus.Complete, 11)]
    [InlineData("0183", FrameStatus.Incomplete, 0)]
    [InlineData("01830200C0F1", FrameStatus.Complete, 5)]
    [InlineData("0106000100", FrameStatus.Incomplete, 0)]
    [InlineData("01060001000398", FrameStatus.Incomplete, 0)]
    [InlineData("0165", FrameStatus.Invalid, 0)]
    [InlineData("010300", FrameStatus.Invalid, 0)]
    public void Rtu_response_length_follows_the_function_code(string hex, FrameStatus status, int length)
    {
        var s = ModbusRtuFraming.TryGetResponseLength(Convert.FromHexString(hex), out int n);
        Assert.Equal(status, s);
        if (status == FrameStatus.Complete)
        {
            Assert.Equal(length, n);
        }
    }

    [Theory]
    [InlineData(9600, 40105)]
    [InlineData(19200, 20053)]
    [InlineData(38400, 17500)]
    [InlineData(115200, 17500)]
    public void Inter_frame_silence_is_3_5_characters_of_11_bits_and_fixed_above_19200_baud(int baud, long ticks)
    {
        Assert.Equal(ticks, ModbusRtuFraming.InterFrameDelay(baud).Ticks);
    }

    [Fact]
    public void Mbap_header_round_trips_and_rejects_nonzero_protocol_id()
    {
        var frame = new byte[12];
        int n = MbapHeader.WriteFrame(frame, 0x1234, 0x11, Convert.FromHexString("03006B0003"));
        Assert.Equal(12, n);
        Assert.Equal(Convert.FromHexString("12340000000611" + "03006B0003"), frame);
        Assert.True(MbapHeader.TryParse(frame, out var h));
        Assert.Equal(new MbapHeader(0x1234, 0, 6, 0x11), h);
        frame[3] = 1;
        Assert.False(MbapHeader.TryParse(frame, out _));
    }
}
