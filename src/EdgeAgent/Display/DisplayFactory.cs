using System.Device.I2c;
using Microsoft.Extensions.Logging;

namespace EdgeMeter.Agent.Display;

/// <summary>Opens the HD44780 LCD when one answers on the I2C bus, or falls back to the console mirror.</summary>
internal static partial class DisplayFactory
{
    /// <summary>How often the console mirror may repeat a page whose values keep changing.</summary>
    public static readonly TimeSpan ConsoleReprintInterval = TimeSpan.FromMinutes(1);

    /// <summary>
    /// Returns an initialised <see cref="Hd44780Lcd"/> on <c>/dev/i2c-<paramref name="i2cBus"/></c> at
    /// <paramref name="address"/>, or a <see cref="ConsoleDisplay"/> on stdout when the bus device is missing or
    /// nothing acknowledges the address. Configuration errors (sizes, address range) throw. The caller owns (disposes)
    /// the returned display.
    /// </summary>
    /// <param name="i2cBus">Bus number: 1 on a Raspberry Pi header (pins 3/5).</param>
    /// <param name="address">7-bit backpack address: 0x27 (PCF8574) or 0x3F (PCF8574A) usually.</param>
    /// <param name="columns">Characters per row: 16 or 20.</param>
    /// <param name="rows">Rows: 2 or 4.</param>
    /// <param name="logger">Says which display was chosen and why.</param>
    /// <exception cref="ArgumentOutOfRangeException">A setting is outside what an HD44780 module can be.</exception>
    /// <param name="mirror">Where the console mirror writes; stdout when null.</param>
    public static ITextDisplay Create(int i2cBus, int address, int columns, int rows, ILogger logger, TextWriter? mirror = null) =>
        Create(i2cBus, address, columns, rows, logger, static (bus, addr) => I2cDevice.Create(new I2cConnectionSettings(bus, addr)), "/dev", mirror ?? Console.Out, TimeProvider.System);

    /// <summary>The seam for tests: how to open the device, where bus devices live, where the mirror writes.</summary>
    internal static ITextDisplay Create(
        int i2cBus, int address, int columns, int rows, ILogger logger,
        Func<int, int, I2cDevice> open, string deviceDirectory, TextWriter console, TimeProvider time, Action<TimeSpan>? delay = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(i2cBus);
        // 0x00-0x07 and 0x78-0x7F are reserved I2C addresses.
        ArgumentOutOfRangeException.ThrowIfLessThan(address, 0x08);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(address, 0x77);
        ArgumentOutOfRangeException.ThrowIfLessThan(columns, 8);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(columns, 40);
        ArgumentOutOfRangeException.ThrowIfLessThan(rows, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(rows, 4);

        var busPath = Path.Combine(deviceDirectory, $"i2c-{i2cBus}");
        if (!File.Exists(busPath))
        {
            LogNoBus(logger, busPath);
            return new ConsoleDisplay(console, columns, rows, time, ConsoleReprintInterval);
        }

        I2cDevice? device = null;
        try
        {
            device = open(i2cBus, address);
            var lcd = new Hd44780Lcd(device, columns, rows, ownsDevice: true, delay);
            lcd.Initialize();
            LogLcd(logger, columns, rows, i2cBus, address);
            return lcd;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or PlatformNotSupportedException)
        {
            device?.Dispose();
            LogNoAck(logger, i2cBus, address, e.Message);
            return new ConsoleDisplay(console, columns, rows, time, ConsoleReprintInterval);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "No I2C bus at {BusPath}: mirroring the display on the console")]
    private static partial void LogNoBus(ILogger logger, string busPath);

    [LoggerMessage(Level = LogLevel.Information, Message = "HD44780 {Columns}x{Rows} LCD on I2C bus {Bus} address 0x{Address:X2}")]
    private static partial void LogLcd(ILogger logger, int columns, int rows, int bus, int address);

    [LoggerMessage(Level = LogLevel.Warning, Message = "No LCD answers on I2C bus {Bus} address 0x{Address:X2} ({Reason}): mirroring the display on the console")]
    private static partial void LogNoAck(ILogger logger, int bus, int address, string reason);
}
