using System.Device.I2c;

namespace EdgeMeter.Agent.Tests.Display;

/// <summary>
/// A simulated HD44780 behind a PCF8574 backpack, as an I2C device: every byte written sets the port pins; the
/// controller latches D4..D7 and RS on the falling edge of E, starts in 8-bit mode, switches to 4-bit on a function
/// set with DL=0, and keeps DDRAM, CGRAM and the address counter as the datasheet describes. Tests read back what
/// the glass would show instead of comparing bytes to a recording.
/// </summary>
internal sealed class SimulatedLcdBackpack(int columns = 16, int rows = 2, int rs = 0, int e = 2, int backlight = 3, int d4 = 4, int d5 = 5, int d6 = 6, int d7 = 7) : I2cDevice
{
    private readonly byte[] _ddram = Enumerable.Repeat((byte)'#', 0x80).ToArray();
    private byte _port;
    private bool _eightBit = true;
    private int? _highNibble;
    private int _address;
    private bool _cgram;

    public override I2cConnectionSettings ConnectionSettings { get; } = new(1, 0x27);

    /// <summary>All bytes written, in order.</summary>
    public List<byte> Bytes { get; } = [];

    /// <summary>Characters written to DDRAM since the last <see cref="ResetCounters"/>.</summary>
    public int CharactersWritten { get; private set; }

    /// <summary>Instructions executed since the last <see cref="ResetCounters"/>.</summary>
    public int Instructions { get; private set; }

    public byte[] Cgram { get; } = new byte[64];

    public bool BacklightOn => backlight >= 0 && (_port >> backlight & 1) == 1;

    /// <summary>When set, writes fail as the Linux driver does when nothing ACKs the address.</summary>
    public bool NoAck { get; set; }

    public bool Disposed { get; private set; }

    /// <summary>The visible rows, one char per display code: glyph codes 0..7 are the chars U+0000..U+0007.</summary>
    public string[] Screen => Enumerable.Range(0, rows).Select(r =>
        new string(Enumerable.Range(0, columns).Select(c => (char)_ddram[RowStart(r) + c]).ToArray())).ToArray();

    /// <summary>Power lost and back: 8-bit mode, DDRAM and CGRAM garbage.</summary>
    public void PowerCycle()
    {
        Array.Fill(_ddram, (byte)'#');
        Array.Fill(Cgram, (byte)0x1F);
        (_eightBit, _highNibble, _address, _cgram, _port) = (true, null, 0, false, 0);
    }

    public void ResetCounters()
    {
        Bytes.Clear();
        CharactersWritten = 0;
        Instructions = 0;
    }

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        if (NoAck)
        {
            throw new IOException("Error 6 performing I2C data transfer.");
        }

        foreach (var b in buffer)
        {
            Bytes.Add(b);
            bool fallingEdge = (_port >> e & 1) == 1 && (b >> e & 1) == 0;
            if (fallingEdge)
            {
                Latch(_port);
            }

            _port = b;
        }
    }

    public override void WriteByte(byte value) => Write([value]);

    public override byte ReadByte() => _port;

    public override void Read(Span<byte> buffer) => buffer.Fill(_port);

    public override void WriteRead(ReadOnlySpan<byte> writeBuffer, Span<byte> readBuffer) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        Disposed = true;
        base.Dispose(disposing);
    }

    private int RowStart(int row) => row switch { 0 => 0x00, 1 => 0x40, 2 => columns, _ => 0x40 + columns };

    private void Latch(byte pins)
    {
        int nibble = (pins >> d4 & 1) | (pins >> d5 & 1) << 1 | (pins >> d6 & 1) << 2 | (pins >> d7 & 1) << 3;
        bool data = (pins >> rs & 1) == 1;
        if (_eightBit)
        {
            Execute(data, nibble << 4);
            return;
        }

        if (_highNibble is not { } high)
        {
            _highNibble = nibble;
            return;
        }

        _highNibble = null;
        Execute(data, high << 4 | nibble);
    }

    private void Execute(bool data, int v)
    {
        if (data)
        {
            if (_cgram)
            {
                Cgram[_address] = (byte)(v & 0x1F);
                _address = (_address + 1) & 0x3F;
            }
            else
            {
                CharactersWritten++;
                _ddram[_address] = (byte)v;
                _address = _address == 0x27 ? 0x40 : _address == 0x67 ? 0 : _address + 1;
            }

            return;
        }

        Instructions++;
        if ((v & 0x80) != 0)
        {
            (_address, _cgram) = (v & 0x7F, false);
        }
        else if ((v & 0x40) != 0)
        {
            (_address, _cgram) = (v & 0x3F, true);
        }
        else if ((v & 0x20) != 0)
        {
            if ((v & 0x10) == 0 && _eightBit)
            {
                _eightBit = false;
                _highNibble = null;
            }
        }
        else if (v == 0x01)
        {
            Array.Fill(_ddram, (byte)' ');
            (_address, _cgram) = (0, false);
        }
    }
}
