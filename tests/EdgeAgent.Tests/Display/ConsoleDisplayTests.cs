using EdgeMeter.Agent.Display;
using EdgeMeter.Agent.Tests.Pairing;
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

        display.Show(["Bal 123 tok", "confirmed chain"], "balance");

        Assert.Equal(["LCD balance | Bal 123 tok      | confirmed chain"], Lines);
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
    public void A_changing_page_prints_at_most_once_per_interval_and_then_its_latest_text()
    {
        var display = new ConsoleDisplay(_out, 16, 2, _time, TimeSpan.FromMinutes(1));

        display.Show(["P 2.34kW"], "power");
        _time.Advance(TimeSpan.FromSeconds(30));
        display.Show(["P 2.35kW"], "power");
        _time.Advance(TimeSpan.FromSeconds(30));
        display.Show(["P 2.36kW"], "power");

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
    private readonly string _dev = Path.Combine(Path.GetTempPath(), "edgemeter-dev-" + Guid.NewGuid().ToString("N"));
    private readonly ManualTimeProvider _time = new(DateTimeOffset.UnixEpoch);

    public DisplayFactoryTests() => Directory.CreateDirectory(_dev);

    public void Dispose() => Directory.Delete(_dev, recursive: true);

    [Fact]
    public void Missing_bus_device_falls_back_to_the_console_without_opening_i2c()
    {
        bool opened = false;

        using var display = DisplayFactory.Create(1, 0x27, 16, 2, NullLogger.Instance, (_, _) => { opened = true; return new RecordingI2cDevice(); }, _dev, TextWriter.Null, _time);

        Assert.IsType<ConsoleDisplay>(display);
        Assert.False(opened);
    }

    [Fact]
    public void No_ack_at_the_address_falls_back_to_the_console_and_releases_the_device()
    {
        File.WriteAllText(Path.Combine(_dev, "i2c-1"), "");
        var device = new RecordingI2cDevice { NoAck = true };

        using var display = DisplayFactory.Create(1, 0x3F, 20, 4, NullLogger.Instance, (_, _) => device, _dev, TextWriter.Null, _time);

        var console = Assert.IsType<ConsoleDisplay>(display);
        Assert.Equal((20, 4), (console.Columns, console.Rows));
        Assert.True(device.Disposed);
    }

    [Fact]
    public void Answering_backpack_gives_an_initialised_lcd_on_the_configured_bus_and_address()
    {
        File.WriteAllText(Path.Combine(_dev, "i2c-3"), "");
        var device = new RecordingI2cDevice();
        (int Bus, int Address) asked = default;

        using var display = DisplayFactory.Create(3, 0x27, 16, 2, NullLogger.Instance, (b, a) => { asked = (b, a); return device; }, _dev, TextWriter.Null, _time, _ => { });

        Assert.IsType<Hd44780Lcd>(display);
        Assert.Equal((3, 0x27), asked);
        Assert.Equal(25, device.Bytes.Length);
    }

    [Theory]
    [InlineData(0x07, 16, 2)]
    [InlineData(0x78, 16, 2)]
    [InlineData(0x27, 7, 2)]
    [InlineData(0x27, 16, 5)]
    public void Impossible_settings_are_configuration_errors(int address, int columns, int rows)
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => DisplayFactory.Create(1, address, columns, rows, NullLogger.Instance));
    }
}
