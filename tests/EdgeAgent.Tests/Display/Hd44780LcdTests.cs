using EdgeMeter.Agent.Display;
using Xunit;

namespace EdgeMeter.Agent.Tests.Display;

public sealed class Hd44780LcdTests
{
    // PCF8574 backpack bits: P0 RS, P2 E, P3 backlight, P4..P7 D4..D7.
    private const byte E = 0x04;
    private const byte Bl = 0x08;
    private const byte Rs = 0x01;

    private readonly RecordingI2cDevice _device = new();
    private readonly List<TimeSpan> _delays = [];

    private Hd44780Lcd Create(int columns = 16, int rows = 2) => new(_device, columns, rows, ownsDevice: true, _delays.Add);

    /// <summary>One byte sent as two nibbles, each latched by an enable pulse (E high, then E low).</summary>
    private static byte[] Byte(byte value, byte rs) =>
    [
        (byte)((value & 0xF0) | Bl | rs | E), (byte)((value & 0xF0) | Bl | rs),
        (byte)((value << 4 & 0xF0) | Bl | rs | E), (byte)((value << 4 & 0xF0) | Bl | rs),
    ];

    [Fact]
    public void Initialisation_sends_the_datasheet_sequence_with_backlight_on()
    {
        var lcd = Create();

        lcd.Initialize();

        byte[] expected =
        [
            0x08,                   // all outputs low, backlight on (presence probe)
            0x3C, 0x38,             // 0x3: 8-bit mode, first
            0x3C, 0x38,             // 0x3, second
            0x3C, 0x38,             // 0x3, third
            0x2C, 0x28,             // 0x2: switch to 4-bit
            0x2C, 0x28, 0x8C, 0x88, // function set 0x28: 4-bit, 2 lines, 5x8
            0x0C, 0x08, 0xCC, 0xC8, // display control 0x0C: display on, cursor off, blink off
            0x0C, 0x08, 0x1C, 0x18, // clear display 0x01
            0x0C, 0x08, 0x6C, 0x68, // entry mode 0x06: increment, no shift
        ];
        Assert.Equal(expected, _device.Bytes);
    }

    [Fact]
    public void Initialisation_waits_as_the_datasheet_requires()
    {
        Create().Initialize();

        Assert.Equal(
            [TimeSpan.FromMilliseconds(50), TimeSpan.FromMilliseconds(4.1), TimeSpan.FromMicroseconds(100), TimeSpan.FromMicroseconds(100), TimeSpan.FromMilliseconds(1.52)],
            _delays);
        // Each step whose wait matters is its own I2C transaction, so the delay falls between them.
        Assert.Equal([1, 2, 2, 2, 2, 12, 4], _device.Writes.Select(w => w.Length));
    }

    [Fact]
    public void Writing_Hi_on_the_second_row_sets_address_0x40_and_sends_two_characters()
    {
        var lcd = Create();
        lcd.Initialize();
        _device.Reset();

        lcd.Show(["", "Hi"]);

        byte[] expected =
        [
            0xCC, 0xC8, 0x0C, 0x08, // set DDRAM address 0x80 | 0x40
            0x4D, 0x49, 0x8D, 0x89, // 'H' 0x48 with RS
            0x6D, 0x69, 0x9D, 0x99, // 'i' 0x69 with RS
        ];
        Assert.Equal(expected, _device.Bytes);
        Assert.Single(_device.Writes);
    }

    [Fact]
    public void Unchanged_screen_sends_nothing()
    {
        var lcd = Create();
        lcd.Show(["Bal 123 tok", "confirmed chain"]);
        _device.Reset();

        lcd.Show(["Bal 123 tok", "confirmed chain"]);

        Assert.Empty(_device.Writes);
    }

    [Fact]
    public void Only_changed_characters_are_redrawn()
    {
        var lcd = Create();
        lcd.Show(["Bal 123 tok", "confirmed chain"]);
        _device.Reset();

        lcd.Show(["Bal 129 tok", "confirmed chain"]);

        // Column 6 of row 0 only: address 0x06, then '9'.
        Assert.Equal([.. Byte(0x86, 0), .. Byte((byte)'9', Rs)], _device.Bytes);
    }

    [Fact]
    public void Consecutive_changes_share_one_address_command()
    {
        var lcd = Create();
        lcd.Show(["P 1.20kW", ""]);
        _device.Reset();

        lcd.Show(["P 2.34kW", ""]);

        Assert.Equal([.. Byte(0x82, 0), .. Byte((byte)'2', Rs), .. Byte(0x84, 0), .. Byte((byte)'3', Rs), .. Byte((byte)'4', Rs)], _device.Bytes);
    }

    [Fact]
    public void Characters_outside_the_rom_become_question_marks_and_known_symbols_map_to_rom_codes()
    {
        var lcd = Create();
        lcd.Initialize();
        _device.Reset();

        lcd.Show(["€°\\"]);

        // The cursor is at address 0 after initialisation, so no address command.
        Assert.Equal([.. Byte((byte)'?', Rs), .. Byte(0xDF, Rs), .. Byte((byte)'?', Rs)], _device.Bytes);
    }

    [Fact]
    public void Lines_longer_than_the_display_are_cut()
    {
        var lcd = Create();
        lcd.Initialize();
        _device.Reset();

        lcd.Show(["ABCDEFGHIJKLMNOPQRS"]);

        // 16 characters from address 0 (where clear left the cursor), none for Q, R, S.
        Assert.Equal(16 * 4, _device.Bytes.Length);
        Assert.Equal(Byte((byte)'P', Rs), _device.Bytes[^4..]);
    }

    [Fact]
    public void Rows_three_and_four_of_a_20x4_module_start_at_0x14_and_0x54()
    {
        var lcd = Create(columns: 20, rows: 4);
        lcd.Initialize();
        _device.Reset();

        lcd.Show(["", "", "A", "B"]);

        Assert.Equal([.. Byte(0x80 | 0x14, 0), .. Byte((byte)'A', Rs), .. Byte(0x80 | 0x54, 0), .. Byte((byte)'B', Rs)], _device.Bytes);
    }

    [Fact]
    public void Backlight_off_clears_bit_3_in_every_byte()
    {
        var lcd = Create();
        lcd.Initialize();
        _device.Reset();

        lcd.Backlight = false;
        lcd.Show(["", "Hi"]);

        Assert.Equal([0x00, 0xC4, 0xC0, 0x04, 0x00, 0x45, 0x41, 0x85, 0x81, 0x65, 0x61, 0x95, 0x91], _device.Bytes);
    }

    [Fact]
    public void After_a_bus_error_the_next_show_initialises_again_and_redraws_everything()
    {
        var lcd = Create();
        lcd.Show(["Hi"]);
        _device.NoAck = true;
        Assert.Throws<IOException>(() => lcd.Show(["Ho"]));
        _device.NoAck = false;
        _device.Reset();

        lcd.Show(["Ho"]);

        byte[] bytes = _device.Bytes;
        Assert.Equal(0x08, bytes[0]);
        Assert.Equal([.. Byte((byte)'H', Rs), .. Byte((byte)'o', Rs)], bytes[^8..]);
        Assert.Equal(25 + 8, bytes.Length);
    }

    [Fact]
    public void Disposing_the_driver_disposes_an_owned_device()
    {
        Create().Dispose();

        Assert.True(_device.Disposed);
    }
}
