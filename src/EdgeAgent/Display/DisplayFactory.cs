using System.Device.I2c;
using EdgeMeter.Agent.Configuration;
using Microsoft.Extensions.Logging;

namespace EdgeMeter.Agent.Display;

/// <summary>Opens the LCD when one answers on the I2C bus, or falls back to the console mirror.</summary>
internal static partial class DisplayFactory
{
    /// <summary>How often the console mirror may repeat a live page whose values keep changing.</summary>
    public static readonly TimeSpan ConsoleReprintInterval = TimeSpan.FromMinutes(1);

    /// <summary>
    /// Returns the LCD on <c>/dev/i2c-N</c> at the configured address, or the console mirror when the bus device is
    /// missing or nothing acknowledges the address (logged once, here). With <see cref="DisplayOptions.Trace"/> set,
    /// every byte sent to the LCD also goes to that file, and without an LCD a stand-in device takes the bytes, so
    /// that the trace shows what an LCD would have received, while the console mirror runs as well. Configuration
    /// errors (sizes, address range) throw. The caller owns (disposes) the returned display.
    /// </summary>
    /// <param name="options">Validated display options.</param>
    /// <param name="logger">Says which display was chosen and why.</param>
    /// <param name="console">Where the console mirror writes.</param>
    /// <param name="time">Clock of the console mirror.</param>
    /// <param name="open">Opens a bus device (bus, address); the system's I2C by default. A seam for tests.</param>
    /// <param name="deviceDirectory">Where bus devices live: <c>/dev</c>.</param>
    /// <exception cref="ArgumentOutOfRangeException">A setting is outside what an HD44780 module can be.</exception>
    public static ITextDisplay Create(DisplayOptions options, ILogger logger, TextWriter console, TimeProvider time,
        Func<int, int, I2cDevice>? open = null, string deviceDirectory = "/dev")
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentOutOfRangeException.ThrowIfNegative(options.I2cBus);
        // 0x00-0x07 and 0x78-0x7F are reserved I2C addresses.
        ArgumentOutOfRangeException.ThrowIfLessThan(options.Address, 0x08);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(options.Address, 0x77);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.Columns, 8);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(options.Columns, 40);
        if (options.Rows is not (1 or 2 or 4))
        {
            throw new ArgumentOutOfRangeException(nameof(options), options.Rows, "rows must be 1, 2 or 4");
        }

        open ??= static (bus, address) => I2cDevice.Create(new I2cConnectionSettings(bus, address));
        var settings = new I2cConnectionSettings(options.I2cBus, options.Address);
        var busPath = Path.Combine(deviceDirectory, $"i2c-{options.I2cBus}");
        string? absent = null;
        I2cDevice? device = null;
        if (!File.Exists(busPath))
        {
            absent = $"no I2C bus at {busPath}";
        }
        else
        {
            try
            {
                device = Traced(open(options.I2cBus, options.Address), options.Trace, settings);
                var lcd = new CharacterLcdDisplay(device, options.Columns, options.Rows, options.Pins);
                LogLcd(logger, options.Columns, options.Rows, options.I2cBus, options.Address);
                return lcd;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or PlatformNotSupportedException)
            {
                device?.Dispose();
                absent = $"nothing answers on I2C bus {options.I2cBus} at address 0x{options.Address:X2} ({e.Message})";
            }
        }

        LogNoLcd(logger, absent);
        var mirror = new ConsoleDisplay(console, options.Columns, options.Rows, time, ConsoleReprintInterval);
        if (string.IsNullOrEmpty(options.Trace))
        {
            return mirror;
        }

        LogTraceStandIn(logger, options.Trace);
        var standIn = new CharacterLcdDisplay(Traced(null, options.Trace, settings), options.Columns, options.Rows, options.Pins);
        return new MirroredDisplay(standIn, mirror);
    }

    private static I2cDevice Traced(I2cDevice? device, string? trace, I2cConnectionSettings settings) =>
        string.IsNullOrEmpty(trace) ? device! : new TracingI2cDevice(device, TracingI2cDevice.OpenTrace(trace), settings);

    [LoggerMessage(Level = LogLevel.Information, Message = "HD44780 {Columns}x{Rows} LCD on I2C bus {Bus} address 0x{Address:X2}")]
    private static partial void LogLcd(ILogger logger, int columns, int rows, int bus, int address);

    [LoggerMessage(Level = LogLevel.Warning, Message = "No LCD: {Reason}; mirroring the display on the console")]
    private static partial void LogNoLcd(ILogger logger, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "LCD bytes go to the trace {Path} through a stand-in device")]
    private static partial void LogTraceStandIn(ILogger logger, string path);
}

/// <summary>Shows every screen on two displays: the trace's stand-in LCD and the console mirror.</summary>
internal sealed class MirroredDisplay(ITextDisplay primary, ITextDisplay mirror) : ITextDisplay
{
    /// <inheritdoc />
    public int Rows => primary.Rows;

    /// <inheritdoc />
    public int Columns => primary.Columns;

    /// <inheritdoc />
    public bool Backlight
    {
        get => primary.Backlight;
        set
        {
            mirror.Backlight = value;
            primary.Backlight = value;
        }
    }

    /// <inheritdoc />
    public void Show(IReadOnlyList<string> lines, string page = "", bool live = false)
    {
        mirror.Show(lines, page, live);
        primary.Show(lines, page, live);
    }

    /// <inheritdoc />
    public void Dispose()
    {
        primary.Dispose();
        mirror.Dispose();
    }
}
