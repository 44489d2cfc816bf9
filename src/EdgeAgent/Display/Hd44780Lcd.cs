using System.Device.I2c;

namespace EdgeMeter.Agent.Display;

/// <summary>
/// HD44780 character LCD in 4-bit mode behind a PCF8574/PCF8574A I2C backpack (the usual "LCD1602 I2C" module).
/// Keeps a copy of what the display shows and sends only changed characters, because every character costs four
/// I2C bytes (two nibbles, each with an enable pulse).
/// </summary>
/// <remarks>
/// Backpack wiring (PCF8574 port bit → LCD pin), the same on nearly every module: P0=RS, P1=R/W (kept low: we never
/// read the busy flag), P2=E, P3=backlight transistor, P4..P7=D4..D7. Timing: the enable pulse needs 450 ns high and
/// a command 37 µs to execute; at the Raspberry Pi's default 100 kHz one I2C byte takes about 90 µs, so consecutive
/// bytes already meet both. Only clear/home (1.52 ms) and the power-on sequence get explicit delays.
/// </remarks>
internal sealed class Hd44780Lcd : ITextDisplay
{
    /// <summary>Register select: 1 for character data, 0 for an instruction.</summary>
    public const byte RegisterSelect = 0x01;

    /// <summary>Enable: the LCD latches the data lines on its falling edge.</summary>
    public const byte Enable = 0x04;

    /// <summary>Backlight on.</summary>
    public const byte BacklightBit = 0x08;

    private const byte ClearDisplay = 0x01;
    private const byte EntryModeIncrement = 0x06;
    private const byte DisplayOnCursorOff = 0x0C;
    private const byte FunctionSet4Bit2Line = 0x28;
    private const byte SetDdramAddress = 0x80;

    private readonly I2cDevice _device;
    private readonly bool _ownsDevice;
    private readonly Action<TimeSpan> _delay;
    private readonly byte[] _rowOffsets;
    private readonly byte[] _shown;
    private readonly byte[] _target;
    private readonly byte[] _buffer;
    private int _length;
    private bool _initialised;
    private bool _backlight = true;
    private int _cursor = -1;

    /// <summary>Creates the driver; nothing is sent until <see cref="Initialize"/> or the first <see cref="Show"/>.</summary>
    /// <param name="device">The backpack at its I2C address.</param>
    /// <param name="columns">Characters per row (8 to 40).</param>
    /// <param name="rows">Rows (1 to 4).</param>
    /// <param name="ownsDevice">Whether <see cref="Dispose"/> disposes <paramref name="device"/>.</param>
    /// <param name="delay">Waits at least the given time; tests pass a recorder instead of sleeping.</param>
    public Hd44780Lcd(I2cDevice device, int columns = 16, int rows = 2, bool ownsDevice = true, Action<TimeSpan>? delay = null)
    {
        ArgumentNullException.ThrowIfNull(device);
        ArgumentOutOfRangeException.ThrowIfLessThan(columns, 8);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(columns, 40);
        ArgumentOutOfRangeException.ThrowIfLessThan(rows, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(rows, 4);
        _device = device;
        _ownsDevice = ownsDevice;
        _delay = delay ?? SleepAtLeast;
        Columns = columns;
        Rows = rows;

        // Rows 3 and 4 continue rows 1 and 2 in DDRAM (0x00..0x27 and 0x40..0x67), after the visible columns.
        _rowOffsets = [0x00, 0x40, (byte)columns, (byte)(0x40 + columns)];
        _shown = new byte[rows * columns];
        _target = new byte[rows * columns];

        // Worst case: every cell changes and each needs its own address command, four bytes each.
        _buffer = new byte[rows * columns * 8 + 8];
    }

    /// <inheritdoc />
    public int Rows { get; }

    /// <inheritdoc />
    public int Columns { get; }

    /// <summary>Backlight state; setting it is sent at once.</summary>
    public bool Backlight
    {
        get => _backlight;
        set
        {
            _backlight = value;
            if (_initialised)
            {
                Send([BacklightByte]);
            }
        }
    }

    private byte BacklightByte => _backlight ? BacklightBit : (byte)0;

    /// <summary>Runs the HD44780 power-on initialisation into 4-bit, two-line mode and clears the display.</summary>
    /// <exception cref="IOException">No ACK from the backpack.</exception>
    public void Initialize()
    {
        _initialised = false;

        // The controller needs more than 40 ms after Vcc reaches 2.7 V before it accepts anything.
        _delay(TimeSpan.FromMilliseconds(50));

        // All outputs low except the backlight; this first write is also the presence probe.
        Send([BacklightByte]);

        // The controller may be in 8-bit mode or halfway through a 4-bit transfer: three 0x3 nibbles put it in
        // 8-bit mode from any state (datasheet figure 24), then 0x2 switches to 4-bit.
        SendNibbleOnly(0x3);
        _delay(TimeSpan.FromMilliseconds(4.1));
        SendNibbleOnly(0x3);
        _delay(TimeSpan.FromMicroseconds(100));
        SendNibbleOnly(0x3);
        _delay(TimeSpan.FromMicroseconds(100));
        SendNibbleOnly(0x2);

        Begin();
        AppendByte(FunctionSet4Bit2Line, isData: false);
        AppendByte(DisplayOnCursorOff, isData: false);
        AppendByte(ClearDisplay, isData: false);
        Flush();
        _delay(TimeSpan.FromMilliseconds(1.52));

        Begin();
        AppendByte(EntryModeIncrement, isData: false);
        Flush();

        Array.Fill(_shown, (byte)' ');
        _cursor = 0;
        _initialised = true;
    }

    /// <inheritdoc />
    public void Show(IReadOnlyList<string> lines, string page = "")
    {
        ArgumentNullException.ThrowIfNull(lines);
        if (!_initialised)
        {
            Initialize();
        }

        for (int row = 0; row < Rows; row++)
        {
            var text = row < lines.Count ? lines[row] ?? string.Empty : string.Empty;
            var cells = _target.AsSpan(row * Columns, Columns);
            for (int col = 0; col < Columns; col++)
            {
                cells[col] = col < text.Length ? Hd44780Rom.Map(text[col]) : (byte)' ';
            }
        }

        Begin();
        for (int row = 0; row < Rows; row++)
        {
            for (int col = 0; col < Columns; col++)
            {
                int i = row * Columns + col;
                if (_shown[i] == _target[i])
                {
                    continue;
                }

                int address = _rowOffsets[row] + col;
                if (_cursor != address)
                {
                    AppendByte((byte)(SetDdramAddress | address), isData: false);
                }

                AppendByte(_target[i], isData: true);
                _cursor = address + 1;
            }
        }

        if (_length > 0)
        {
            Flush();
            _target.CopyTo(_shown, 0);
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        if (_ownsDevice)
        {
            _device.Dispose();
        }
    }

    private void Begin() => _length = 0;

    private void AppendByte(byte value, bool isData)
    {
        byte rs = isData ? RegisterSelect : (byte)0;
        AppendNibble((byte)(value >> 4), rs);
        AppendNibble((byte)(value & 0x0F), rs);
    }

    private void AppendNibble(byte nibble, byte rs)
    {
        byte data = (byte)((nibble << 4) | BacklightByte | rs);
        _buffer[_length++] = (byte)(data | Enable);
        _buffer[_length++] = data;
    }

    private void SendNibbleOnly(byte nibble)
    {
        Begin();
        AppendNibble(nibble, 0);
        Flush();
    }

    private void Flush()
    {
        Send(_buffer.AsSpan(0, _length));
        _length = 0;
    }

    private void Send(ReadOnlySpan<byte> bytes)
    {
        try
        {
            _device.Write(bytes);
        }
        catch (IOException)
        {
            // The module may have lost power or been unplugged; what it shows is unknown, so start over next time.
            _initialised = false;
            _cursor = -1;
            throw;
        }
    }

    private static void SleepAtLeast(TimeSpan t) => Thread.Sleep(t < TimeSpan.FromMilliseconds(1) ? TimeSpan.FromMilliseconds(1) : t + TimeSpan.FromMilliseconds(1));
}
