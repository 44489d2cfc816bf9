using System.Device.I2c;

namespace EdgeMeter.Agent.Tests.Display;

/// <summary>An I2C device that records every write (one entry per bus transaction) and can play an absent device.</summary>
internal sealed class RecordingI2cDevice(int bus = 1, int address = 0x27) : I2cDevice
{
    public List<byte[]> Writes { get; } = [];

    /// <summary>When set, writes fail as the Linux driver does when nothing ACKs the address.</summary>
    public bool NoAck { get; set; }

    public bool Disposed { get; private set; }

    public override I2cConnectionSettings ConnectionSettings { get; } = new(bus, address);

    /// <summary>All bytes sent, in order, across transactions.</summary>
    public byte[] Bytes => Writes.SelectMany(w => w).ToArray();

    public void Reset() => Writes.Clear();

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        if (NoAck)
        {
            throw new IOException("Error 6 performing I2C data transfer.");
        }

        Writes.Add(buffer.ToArray());
    }

    public override void WriteByte(byte value) => Write([value]);

    public override byte ReadByte() => throw new NotSupportedException("the LCD backpack is write-only here");

    public override void Read(Span<byte> buffer) => throw new NotSupportedException("the LCD backpack is write-only here");

    public override void WriteRead(ReadOnlySpan<byte> writeBuffer, Span<byte> readBuffer) => throw new NotSupportedException("the LCD backpack is write-only here");

    protected override void Dispose(bool disposing)
    {
        Disposed = true;
        base.Dispose(disposing);
    }
}
