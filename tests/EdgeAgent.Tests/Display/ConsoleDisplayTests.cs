using EdgeMeter.Agent.Configuration;
using EdgeMeter.Agent.Display;
using EdgeMeter.Agent.Tests.Pairing;
using EdgeMeter.Agent.Tests.Support;
using Microsoft.Extensions.Logging.Abstractions;
using Xunit;

namespace EdgeMeter.Agent.Tests.Display;

public sealed class ConsoleDisplayTests
{
    private readonly StringWriter _out = new();
    private readonly ManualTimeProvider _time = new(new DateTimeOffset(2025, 6, 1, 0, 0, 0, TimeSpan.Zero));

    private string[] Lines => _out.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);

    [Fact]
    public void Prints_one_line_per_page_with_rows_as_the_lcd_shows_them()
    {
        var display = new ConsoleDisplay(_out, 16, 2, _time, TimeSpan.Zero);

        display.Show([$"{LcdCharset.Token}123 confirmed", "Month +12 prov."], "balance");

        Assert.Equal(["LCD balance | ¤123 confirmed   | Month +12 prov."], Lines);
    }

    [Fact]
    public void Rotating_back_to_an_unchanged_page_prints_nothing()
    {
        var display = new ConsoleDisplay(_out, 16, 2, _time, TimeSpan.Zero);

        display.Show(["Bal 123 tok", "confirmed chain"], "balance");
        display.Show(["Est +12 tok", "prov. 2025-06"], "estimate");
        display.Show(["Bal 123 tok", "confirmed chain"], "balance");
        display.Show(["Bal 123 tok", "confirmed chain"], "balance");

        Assert.Equal(2, Lines.Length);
    }

    [Fact]
    public void A_new_pairing_code_prints_at_once_even_seconds_after_the_last_one()
    {
        var display = new ConsoleDisplay(_out, 16, 2, _time, TimeSpan.FromMinutes(1));

        display.Show(["Pair code 111111", "valid 10 min"], "pairing");
        _time.Advance(TimeSpan.FromSeconds(10));
        display.Show(["Pair code 222222", "valid 10 min"], "pairing");

        Assert.Equal(["LCD pairing | Pair code 111111 | valid 10 min", "LCD pairing | Pair code 222222 | valid 10 min"], Lines);
    }

    [Fact]
    public void A_live_page_prints_at_most_once_per_interval_and_then_its_latest_text()
    {
        var display = new ConsoleDisplay(_out, 16, 2, _time, TimeSpan.FromMinutes(1));

        display.Show(["P 2.34kW"], "power", live: true);
        _time.Advance(TimeSpan.FromSeconds(30));
        display.Show(["P 2.35kW"], "power", live: true);
        _time.Advance(TimeSpan.FromSeconds(30));
        display.Show(["P 2.36kW"], "power", live: true);

        Assert.Equal(["LCD power | P 2.34kW", "LCD power | P 2.36kW"], Lines);
    }

    [Fact]
    public void Characters_the_lcd_cannot_show_print_as_question_marks_and_long_lines_are_cut()
    {
        var display = new ConsoleDisplay(_out, 8, 1, _time, TimeSpan.Zero);

        display.Show(["20°C €5 and more"]);

        Assert.Equal(["LCD | 20°C ?5"], Lines);
    }
}

public sealed class DisplayFactoryTests : IDisposable
{
    private readonly string _dev = Directory.CreateTempSubdirectory("edgemeter-dev-").FullName;
    private readonly ManualTimeProvider _time = new(DateTimeOffset.UnixEpoch);
    private readonly ListLogger<DisplayFactoryTests> _log = new();

    public void Dispose() => Directory.Delete(_dev, recursive: true);

    private ITextDisplay Create(DisplayOptions options, Func<int, int, System.Device.I2c.I2cDevice> open, TextWriter? console = null) =>
        DisplayFactory.Create(options, _log, console ?? TextWriter.Null, _time, open, _dev);

    [Fact]
    public void Missing_bus_device_falls_back_to_the_console_without_opening_i2c_and_says_so_once()
    {
        bool opened = false;

        using var display = Create(new DisplayOptions(), (_, _) => { opened = true; return new SimulatedLcdBackpack(); });

        Assert.IsType<ConsoleDisplay>(display);
        Assert.False(opened);
        Assert.Equal([$"Warning: No LCD: no I2C bus at {_dev}/i2c-1; mirroring the display on the console"], _log.Lines);
    }

    [Fact]
    public void No_ack_at_the_address_falls_back_to_the_console_and_releases_the_device()
    {
        File.WriteAllText(Path.Combine(_dev, "i2c-1"), "");
        var device = new SimulatedLcdBackpack { NoAck = true };

        using var display = Create(new DisplayOptions { Address = 0x3F, Columns = 20, Rows = 4 }, (_, _) => device);

        var console = Assert.IsType<ConsoleDisplay>(display);
        Assert.Equal((20, 4), (console.Columns, console.Rows));
        Assert.True(device.Disposed);
        Assert.Single(_log.Lines, l => l.StartsWith("Warning: No LCD: nothing answers on I2C bus 1 at address 0x3F", StringComparison.Ordinal));
    }

    [Fact]
    public void Answering_backpack_gives_an_initialised_lcd_on_the_configured_bus_and_address()
    {
        File.WriteAllText(Path.Combine(_dev, "i2c-3"), "");
        var device = new SimulatedLcdBackpack();
        (int Bus, int Address) asked = default;

        using var display = Create(new DisplayOptions { I2cBus = 3 }, (b, a) => { asked = (b, a); return device; });
        display.Show(["Hello"]);

        Assert.IsType<CharacterLcdDisplay>(display);
        Assert.Equal((3, 0x27), asked);
        Assert.Equal("Hello", device.Screen[0].TrimEnd());
    }

    [Fact]
    public void A_trace_without_a_bus_gets_the_bytes_an_lcd_would_and_the_console_still_mirrors()
    {
        var trace = Path.Combine(_dev, "lcd.trace");
        var console = new StringWriter();

        using (var display = Create(new DisplayOptions { Trace = trace }, (_, _) => throw new InvalidOperationException("no bus to open"), console))
        {
            display.Show(["Hi"], "hello");
        }

        // Replaying the trace into a simulated module shows the same screen.
        var replay = new SimulatedLcdBackpack();
        replay.Write(File.ReadAllLines(trace).Select(l => Convert.ToByte(l, 16)).ToArray());
        Assert.Equal(["Hi              ", "                "], replay.Screen);
        Assert.Equal("LCD hello | Hi", console.ToString().Trim());
        Assert.All(File.ReadAllLines(trace), l => Assert.Matches("^[0-9a-f]{2}$", l));
    }

    [Fact]
    public void A_trace_with_an_lcd_records_exactly_the_bytes_the_lcd_received()
    {
        File.WriteAllText(Path.Combine(_dev, "i2c-1"), "");
        var trace = Path.Combine(_dev, "lcd.trace");
        var device = new SimulatedLcdBackpack();

        using (var display = Create(new DisplayOptions { Trace = trace }, (_, _) => device))
        {
            display.Show(["Balance"]);
        }

        Assert.Equal(device.Bytes.Select(b => b.ToString("x2")), File.ReadAllLines(trace));
        Assert.True(device.Disposed);
    }

    [Theory]
    [InlineData(0x07, 16, 2)]
    [InlineData(0x78, 16, 2)]
    [InlineData(0x27, 7, 2)]
    [InlineData(0x27, 16, 3)]
    public void Impossible_settings_are_configuration_errors(int address, int columns, int rows)
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => DisplayFactory.Create(
            new DisplayOptions { Address = address, Columns = columns, Rows = rows }, NullLogger.Instance, TextWriter.Null, _time));
    }
}

public sealed class TracingI2cDeviceTests
{
    [Fact]
    public void Writes_each_byte_as_two_hex_digits_per_line_in_order_and_forwards_it()
    {
        var inner = new SimulatedLcdBackpack();
        var trace = new StringWriter();
        using var device = new TracingI2cDevice(inner, trace, new(1, 0x27));

        device.Write([0x0C, 0xF8]);
        device.WriteByte(0x00);

        Assert.Equal("0c\nf8\n00\n", trace.ToString());
        Assert.Equal([0x0C, 0xF8, 0x00], inner.Bytes);
    }

    [Fact]
    public void A_write_the_bus_refused_is_not_traced()
    {
        var trace = new StringWriter();
        using var device = new TracingI2cDevice(new SimulatedLcdBackpack { NoAck = true }, trace, new(1, 0x27));

        Assert.Throws<IOException>(() => device.Write([0x08]));

        Assert.Equal("", trace.ToString());
    }

    [Fact]
    public void The_stand_in_takes_every_write_and_reads_back_the_last_byte_like_a_pcf8574()
    {
        var trace = new StringWriter();
        using var device = new TracingI2cDevice(null, trace, new(1, 0x27));

        device.Write([0x3C, 0x38]);

        Assert.Equal(0x38, device.ReadByte());
        Assert.Equal("3c\n38\n", trace.ToString());
    }
}
