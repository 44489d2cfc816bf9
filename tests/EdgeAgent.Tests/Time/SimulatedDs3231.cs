using System.Device.I2c;

namespace EdgeMeter.Agent.Tests.Time;

/// <summary>
/// A simulated DS3231 on I2C: the datasheet's register file (0x00-0x12), a register pointer that a write's first
/// byte sets and that every byte read or written advances (wrapping after 0x12), and the timekeeping registers in
/// BCD: 0x00 seconds, 0x01 minutes, 0x02 hours (bit 6 clear: 24-hour mode), 0x03 day of week 1-7, 0x04 date,
/// 0x05 month with the century in bit 7, 0x06 year 00-99. The time does not run: tests set and read registers.
/// </summary>
internal sealed class SimulatedDs3231 : I2cDevice
{
    private const int RegisterCount = 0x13;

    private int _pointer;

    public byte[] Registers { get; } = new byte[RegisterCount];

    public bool NoAck { get; set; }

    public override I2cConnectionSettings ConnectionSettings { get; } = new(1, 0x68);

    /// <summary>Loads a time as a battery-backed DS3231 would hold it after having been set.</summary>
    public void Load(DateTime utc)
    {
        Registers[0] = Bcd(utc.Second);
        Registers[1] = Bcd(utc.Minute);
        Registers[2] = Bcd(utc.Hour);
        Registers[3] = (byte)((int)utc.DayOfWeek == 0 ? 7 : (int)utc.DayOfWeek);
        Registers[4] = Bcd(utc.Day);
        Registers[5] = (byte)(Bcd(utc.Month) | (utc.Year >= 2000 ? 0x80 : 0));
        Registers[6] = Bcd(utc.Year % 100);
    }

    public static byte Bcd(int value) => (byte)((value / 10) << 4 | value % 10);

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        Check();
        if (buffer.IsEmpty)
        {
            return;
        }

        _pointer = buffer[0] % RegisterCount;
        foreach (var b in buffer[1..])
        {
            Registers[_pointer] = b;
            _pointer = (_pointer + 1) % RegisterCount;
        }
    }

    public override void WriteByte(byte value) => Write([value]);

    public override void Read(Span<byte> buffer)
    {
        Check();
        for (int i = 0; i < buffer.Length; i++)
        {
            buffer[i] = Registers[_pointer];
            _pointer = (_pointer + 1) % RegisterCount;
        }
    }

    public override byte ReadByte()
    {
        Span<byte> one = stackalloc byte[1];
        Read(one);
        return one[0];
    }

    public override void WriteRead(ReadOnlySpan<byte> writeBuffer, Span<byte> readBuffer)
    {
        Write(writeBuffer);
        Read(readBuffer);
    }

    private void Check()
    {
        if (NoAck)
        {
            throw new IOException("Error 121 performing I2C data transfer.");
        }
    }
}
