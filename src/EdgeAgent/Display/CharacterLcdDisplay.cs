using System.Device.Gpio;
using System.Device.I2c;
using System.Drawing;
using EdgeMeter.Agent.Configuration;
using Iot.Device.CharacterLcd;
using Iot.Device.Pcx857x;

namespace EdgeMeter.Agent.Display;

/// <summary>
/// An HD44780 16x2 or 20x4 character LCD behind a PCF8574/PCF8574A backpack, driven by dotnet/iot's
/// <see cref="Hd44780"/>. Defines the four glyphs of <see cref="LcdCharset"/>, keeps a copy of what the display
/// shows and sends only the characters that changed: each costs several I2C bytes.
/// </summary>
/// <remarks>
/// With the usual backpack wiring the binding's integrated 4-bit I2C interface is used; any other wiring goes through
/// the binding's <see cref="Pcf8574"/> GPIO expander driver with the configured port bits. After a bus error the
/// display's state is unknown, so the next <see cref="Show"/> initialises it again and redraws everything.
/// </remarks>
internal sealed class CharacterLcdDisplay : ITextDisplay
{
    private readonly I2cDevice _device;
    private readonly BackpackPinOptions _pins;
    private readonly byte[] _shown;
    private readonly byte[] _target;
    private readonly char[] _run;
    private Hd44780? _lcd;
    private bool _backlight = true;

    /// <summary>Initialises the display (clears it, defines the glyphs); owns (disposes) <paramref name="device"/>.</summary>
    /// <param name="device">The backpack at its I2C address.</param>
    /// <param name="columns">Characters per row: 16 or 20 (8 to 40).</param>
    /// <param name="rows">Rows: 1, 2, or 4 with 20 columns.</param>
    /// <param name="pins">Which port bit drives which LCD signal.</param>
    /// <exception cref="IOException">No ACK from the backpack.</exception>
    public CharacterLcdDisplay(I2cDevice device, int columns, int rows, BackpackPinOptions pins)
    {
        ArgumentNullException.ThrowIfNull(device);
        ArgumentNullException.ThrowIfNull(pins);
        ArgumentOutOfRangeException.ThrowIfLessThan(columns, 8);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(columns, 40);
        if (rows is not (1 or 2 or 4) || (rows == 4 && columns != 20))
        {
            throw new ArgumentOutOfRangeException(nameof(rows), rows, "an HD44780 module here has 1 or 2 rows, or 4 rows of 20");
        }

        _device = device;
        _pins = pins;
        Columns = columns;
        Rows = rows;
        _shown = new byte[rows * columns];
        _target = new byte[rows * columns];
        _run = new char[columns];
        Open();
    }

    /// <inheritdoc />
    public int Rows { get; }

    /// <inheritdoc />
    public int Columns { get; }

    /// <inheritdoc />
    public bool Backlight
    {
        get => _backlight;
        set
        {
            if (value == _backlight)
            {
                return;
            }

            _backlight = value;
            Guarded(lcd => lcd.BacklightOn = value);
        }
    }

    /// <inheritdoc />
    public void Show(IReadOnlyList<string> lines, string page = "", bool live = false)
    {
        ArgumentNullException.ThrowIfNull(lines);
        var lcd = _lcd ?? Open();
        for (int row = 0; row < Rows; row++)
        {
            var text = row < lines.Count ? lines[row] ?? string.Empty : string.Empty;
            var cells = _target.AsSpan(row * Columns, Columns);
            for (int col = 0; col < Columns; col++)
            {
                cells[col] = col < text.Length ? LcdCharset.Map(text[col]) : (byte)' ';
            }
        }

        Guarded(_ =>
        {
            for (int row = 0; row < Rows; row++)
            {
                int col = 0;
                while (col < Columns)
                {
                    int i = row * Columns + col;
                    if (_shown[i] == _target[i])
                    {
                        col++;
                        continue;
                    }

                    // A run of changed cells: one address command, then the characters (the address auto-increments).
                    int start = col;
                    int n = 0;
                    while (col < Columns && _shown[row * Columns + col] != _target[row * Columns + col])
                    {
                        _run[n++] = (char)_target[row * Columns + col];
                        col++;
                    }

                    lcd.SetCursorPosition(start, row);

                    // The binding sends each char's low byte, so the chars carry display codes, not text.
                    lcd.Write(_run.AsSpan(0, n));
                    _target.AsSpan(row * Columns + start, n).CopyTo(_shown.AsSpan(row * Columns + start));
                }
            }
        });
    }

    /// <inheritdoc />
    public void Dispose()
    {
        // The binding's interface objects hold nothing but the device, which is ours to dispose.
        _lcd = null;
        _device.Dispose();
    }

    private Hd44780 Open()
    {
        _lcd = null;
        var lcdInterface = _pins.IsStandard
            ? LcdInterface.CreateI2c(_device, uses8Bit: false)
            : LcdInterface.CreateGpio(_pins.RegisterSelect, _pins.Enable, [_pins.D4, _pins.D5, _pins.D6, _pins.D7], _pins.Backlight,
                backlightBrightness: 1f, readWritePin: -1, new GpioController(new Pcf8574(_device)), shouldDispose: false);

        // Hd44780's constructor runs the power-on sequence and clears the display.
        var lcd = new Hd44780(new Size(Columns, Rows), lcdInterface);
        for (int slot = 0; slot < LcdCharset.GlyphCount; slot++)
        {
            lcd.CreateCustomCharacter(slot, LcdCharset.Glyphs.Slice(slot * 8, 8));
        }

        if (!_backlight)
        {
            lcd.BacklightOn = false;
        }

        Array.Fill(_shown, (byte)' ');
        _lcd = lcd;
        return lcd;
    }

    private void Guarded(Action<Hd44780> action)
    {
        if (_lcd is not { } lcd)
        {
            return;
        }

        try
        {
            action(lcd);
        }
        catch (IOException)
        {
            // The module may have lost power or been unplugged: start over at the next Show.
            _lcd = null;
            throw;
        }
    }
}
