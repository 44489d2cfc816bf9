using EdgeMeter.Protocols.Modbus;

namespace EdgeMeter.Protocols.Tests.Modbus;

public sealed class CodecTests
{
    private static RegisterDefinition Def(RegisterDataType type, sbyte scaler, decimal scale = 1m,
        RegisterOrder words = RegisterOrder.Big, RegisterOrder bytes = RegisterOrder.Big) => new()
    {
        Quantity = "q", Address = 0, Function = ModbusFunction.ReadHoldingRegisters, Type = type, Scale = scale,
        WordOrder = words, ByteOrder = bytes, Unit = "W", Obis = "1-0:16.7.0*255", Scaler = scaler,
    };

    [Fact]
    public void Reads_float32_big_endian()
    {
        // 230.1f = 0x43661999
        Assert.Equal(2301, RegisterCodec.ToMantissa(Def(RegisterDataType.Float32, -1), [0x4366, 0x1999]));
    }

    [Fact]
    public void Reads_float32_with_swapped_words()
    {
        Assert.Equal(2301, RegisterCodec.ToMantissa(Def(RegisterDataType.Float32, -1, words: RegisterOrder.Little), [0x1999, 0x4366]));
    }

    [Fact]
    public void Reads_float32_with_swapped_bytes_in_each_register()
    {
        Assert.Equal(2301, RegisterCodec.ToMantissa(Def(RegisterDataType.Float32, -1, bytes: RegisterOrder.Little), [0x6643, 0x9919]));
    }

    [Fact]
    public void Reads_int32_with_swapped_words_negative()
    {
        // -123456 = 0xFFFE1DC0, low word first
        Assert.Equal(-123456, RegisterCodec.ToMantissa(Def(RegisterDataType.Int32, 0, words: RegisterOrder.Little), [0x1DC0, 0xFFFE]));
    }

    [Fact]
    public void Reads_scaled_int16_as_tenths()
    {
        // raw -2345 with scale 0.1 -> -234.5 recorded at scaler -1 -> -2345
        Assert.Equal(-2345, RegisterCodec.ToMantissa(Def(RegisterDataType.Int16, -1, 0.1m), [unchecked((ushort)-2345)]));
    }

    [Fact]
    public void Reads_uint64_energy_counter_in_hundredths_of_kwh_as_wh()
    {
        // 0.01 kWh units: 123456789 -> 1234567.89 kWh = 1234567890 Wh
        Assert.Equal(1234567890, RegisterCodec.ToMantissa(Def(RegisterDataType.UInt64, 0, 10m), [0, 0, 0x075B, 0xCD15]));
    }

    [Fact]
    public void Applies_sunspec_scale_factor()
    {
        // W = 12345, W_SF = -1 -> 1234.5 W, recorded at scaler 0 -> 1235 (half away from zero)
        Assert.Equal(1235, RegisterCodec.ToMantissa(Def(RegisterDataType.Int16, 0), [12345], scaleFactor: -1));
        Assert.Equal(-1235, RegisterCodec.ToMantissa(Def(RegisterDataType.Int16, 0), [unchecked((ushort)-12345)], scaleFactor: -1));
    }

    [Theory]
    [InlineData(2.25, 23)]
    [InlineData(-2.25, -23)]
    [InlineData(2.35, 24)]
    [InlineData(2.24, 22)]
    public void Rounds_half_away_from_zero_at_the_recorded_scaler(double value, long mantissa)
    {
        var def = Def(RegisterDataType.Float64, -1);
        ulong bits = (ulong)BitConverter.DoubleToInt64Bits(value);
        ushort[] regs = [(ushort)(bits >> 48), (ushort)(bits >> 32), (ushort)(bits >> 16), (ushort)bits];
        Assert.Equal(mantissa, RegisterCodec.ToMantissa(def, regs));
    }

    [Theory]
    [InlineData((ushort)0x7FC0, (ushort)0x0000)]
    [InlineData((ushort)0x7F80, (ushort)0x0000)]
    [InlineData((ushort)0xFF80, (ushort)0x0000)]
    public void Nan_and_infinity_are_errors_not_values(ushort hi, ushort lo)
    {
        var e = Assert.Throws<RegisterValueException>(() => RegisterCodec.ToMantissa(Def(RegisterDataType.Float32, -1), [hi, lo]));
        Assert.Equal("q", e.Quantity);
    }

    [Fact]
    public void Encode_then_decode_round_trips_every_type_and_order()
    {
        foreach (var type in Enum.GetValues<RegisterDataType>())
        {
            foreach (var words in Enum.GetValues<RegisterOrder>())
            {
                foreach (var bytes in Enum.GetValues<RegisterOrder>())
                {
                    bool signed = type is not (RegisterDataType.UInt16 or RegisterDataType.UInt32 or RegisterDataType.UInt64);
                    decimal value = signed ? -1234.5m : 1234.5m;
                    var def = Def(type, -1, type is RegisterDataType.Float32 or RegisterDataType.Float64 ? 1m : 0.1m, words, bytes);
                    var regs = new ushort[4];
                    RegisterCodec.Encode(def, value, regs);
                    Assert.Equal(signed ? -12345 : 12345, RegisterCodec.ToMantissa(def, regs));
                }
            }
        }
    }

    [Fact]
    public void Quantity_reading_keeps_exactly_the_recorded_decimal_places()
    {
        Assert.Equal("230.0", new QuantityReading("voltage_l1", "1-0:32.7.0*255", 2300, -1, "V").FormatValue());
        Assert.Equal("-0.050", new QuantityReading("power_factor", "1-0:13.7.0*255", -50, -3, "").FormatValue());
        Assert.Equal("12000", new QuantityReading("import_active_energy", "1-0:1.8.0*255", 12, 3, "Wh").FormatValue());
    }
}
