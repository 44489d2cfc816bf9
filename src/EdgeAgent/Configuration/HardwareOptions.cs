namespace EdgeMeter.Agent.Configuration;

/// <summary>
/// Which PCF8574 port bit (P0..P7) drives which LCD signal (<c>display.pins</c>). The default is the wiring of nearly
/// every "LCD1602 I2C" backpack: P0 RS, P1 R/W, P2 E, P3 backlight, P4..P7 D4..D7. R/W is not listed: the agent never
/// reads the LCD, and every port bit not named here is held low.
/// </summary>
internal sealed class BackpackPinOptions
{
    public int RegisterSelect { get; set; } = 0;

    public int Enable { get; set; } = 2;

    /// <summary>The backlight transistor's bit; -1 when the backpack has no switchable backlight.</summary>
    public int Backlight { get; set; } = 3;

    public int D4 { get; set; } = 4;

    public int D5 { get; set; } = 5;

    public int D6 { get; set; } = 6;

    public int D7 { get; set; } = 7;

    /// <summary>Whether this is the usual backpack wiring, which the binding drives with one I2C byte per signal change.</summary>
    public bool IsStandard => RegisterSelect == 0 && Enable == 2 && Backlight == 3 && D4 == 4 && D5 == 5 && D6 == 6 && D7 == 7;

    /// <summary>The bits named, for validation: each must be 0..7 (the backlight may be -1) and used once.</summary>
    public IEnumerable<(string Key, int Bit)> Named() =>
    [
        ("registerSelect", RegisterSelect), ("enable", Enable), ("backlight", Backlight),
        ("d4", D4), ("d5", D5), ("d6", D6), ("d7", D7),
    ];
}

/// <summary>The gateway's push button (<c>button</c>): one GPIO input, pressed connects it to ground.</summary>
internal sealed class ButtonOptions
{
    /// <summary>The GPIO line (BCM numbering), 17 by default (header pin 11); -1: no button.</summary>
    public int Pin { get; set; } = 17;

    /// <summary>Changes closer together than this are contact bounce and ignored.</summary>
    public int DebounceMs { get; set; } = 30;

    /// <summary>Held this long, a press is a long press (device address, IP, web URL).</summary>
    public int LongPressMs { get; set; } = 1500;
}

/// <summary>The DS3231 real-time clock (<c>rtc</c>) on I2C, at its fixed address 0x68.</summary>
internal sealed class RtcOptions
{
    /// <summary>The I2C bus; -1: no RTC.</summary>
    public int I2cBus { get; set; } = 1;
}
