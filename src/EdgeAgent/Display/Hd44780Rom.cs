namespace EdgeMeter.Agent.Display;

/// <summary>
/// Maps text to the character ROM of the common HD44780 variant (A00, "Japanese standard font"), which is what
/// the cheap 16x2 and 20x4 modules carry. ASCII maps to itself except backslash and tilde, where the A00 ROM
/// has the yen sign and an arrow; a few symbols and European letters live in the upper half.
/// </summary>
internal static class Hd44780Rom
{
    /// <summary>The ROM code for characters the display cannot show.</summary>
    public const byte Unknown = (byte)'?';

    /// <summary>Returns the ROM code for <paramref name="c"/>, or <see cref="Unknown"/>.</summary>
    public static byte Map(char c)
    {
        if (c >= 0x20 && c <= 0x7D && c != '\\')
        {
            return (byte)c;
        }

        return c switch
        {
            '¥' => 0x5C,
            '→' => 0x7E,
            '←' => 0x7F,
            '·' => 0xA5,
            '°' => 0xDF,
            'α' => 0xE0,
            'ä' => 0xE1,
            'β' => 0xE2,
            'ε' => 0xE3,
            'µ' or 'μ' => 0xE4,
            'σ' => 0xE5,
            'ρ' => 0xE6,
            '√' => 0xE8,
            '¢' => 0xEC,
            '£' => 0xED,
            'ñ' => 0xEE,
            'ö' => 0xEF,
            'θ' => 0xF2,
            '∞' => 0xF3,
            'Ω' => 0xF4,
            'ü' => 0xF5,
            'Σ' => 0xF6,
            'π' => 0xF7,
            '÷' => 0xFD,
            '█' => 0xFF,
            _ => Unknown,
        };
    }

    /// <summary>Whether <paramref name="c"/> has its own glyph in the ROM.</summary>
    public static bool CanShow(char c) => c == '?' || Map(c) != Unknown;
}
