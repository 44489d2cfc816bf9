namespace EdgeMeter.Agent.Display;

/// <summary>
/// The characters the gateway's LCD can show: printable ASCII as the HD44780's A00 character ROM has it, the degree
/// sign, and our four custom glyphs in CGRAM slots 0 to 3. Everything else shows as '?'. Pages are English only.
/// </summary>
/// <remarks>
/// In the A00 ROM codes 0x20-0x7D are ASCII except 0x5C, which is the yen sign, so a backslash cannot be shown.
/// 0xDF is the degree sign. Codes 0x00-0x07 show the eight CGRAM characters.
/// </remarks>
internal static class LcdCharset
{
    /// <summary>A coin: the token balance.</summary>
    public const char Token = '\uE000';

    /// <summary>The sun: solar generation and clean energy.</summary>
    public const char Sun = '\uE001';

    /// <summary>A plug: power from the grid.</summary>
    public const char Plug = '\uE002';

    /// <summary>Signal bars: the uplink.</summary>
    public const char Signal = '\uE003';

    /// <summary>The ROM code for characters the display cannot show.</summary>
    public const byte Unknown = (byte)'?';

    /// <summary>
    /// The glyphs, 5x8 dots, one byte per row from the top, bit 4 the leftmost dot. Slot i holds glyph i, so
    /// <see cref="Token"/> is character code 0.
    /// </summary>
    public static ReadOnlySpan<byte> Glyphs =>
    [
        0x0E, 0x11, 0x1F, 0x15, 0x15, 0x11, 0x0E, 0x00, // token: a coin with a T
        0x00, 0x15, 0x0E, 0x1F, 0x0E, 0x15, 0x00, 0x00, // sun
        0x0A, 0x0A, 0x1F, 0x1F, 0x0E, 0x04, 0x04, 0x00, // plug: two prongs, body, cable
        0x01, 0x01, 0x05, 0x05, 0x15, 0x15, 0x15, 0x00, // signal: three bars
    ];

    /// <summary>How many glyphs <see cref="Glyphs"/> holds.</summary>
    public const int GlyphCount = 4;

    /// <summary>Returns the display code for <paramref name="c"/>, or <see cref="Unknown"/>.</summary>
    public static byte Map(char c) => c switch
    {
        >= ' ' and <= '}' and not '\\' => (byte)c,
        >= Token and <= Signal => (byte)(c - Token),
        '°' => 0xDF,
        _ => Unknown,
    };

    /// <summary>How a console mirror writes <paramref name="c"/>: what the LCD shows, in Unicode.</summary>
    public static char ForConsole(char c) => c switch
    {
        Token => '¤',
        Sun => '☀',
        Plug => '⚡',
        Signal => '↕',
        _ => Map(c) == Unknown ? '?' : c,
    };
}
