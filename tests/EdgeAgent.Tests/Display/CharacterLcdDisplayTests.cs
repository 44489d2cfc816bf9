using EdgeMeter.Agent.Configuration;
using EdgeMeter.Agent.Display;
using Xunit;

namespace EdgeMeter.Agent.Tests.Display;

public sealed class CharacterLcdDisplayTests
{
    [Fact]
    public void Initialisation_clears_the_display_and_defines_the_four_glyphs_in_cgram()
    {
        var lcd = new SimulatedLcdBackpack();

        using var display = new CharacterLcdDisplay(lcd, 16, 2, new BackpackPinOptions());

        Assert.Equal(["                ", "                "], lcd.Screen);
        Assert.Equal(LcdCharset.Glyphs.ToArray(), lcd.Cgram[..32]);
        Assert.True(lcd.BacklightOn);
    }

    [Fact]
    public void Text_lands_on_both_rows_with_glyphs_as_their_cgram_codes()
    {
        var lcd = new SimulatedLcdBackpack();
        using var display = new CharacterLcdDisplay(lcd, 16, 2, new BackpackPinOptions());

        display.Show([$"{LcdCharset.Token}123.5 confirmed", $"{LcdCharset.Plug}2kW {LcdCharset.Sun}1kW {LcdCharset.Signal}"]);

        Assert.Equal(["\u0000123.5 confirmed", "\u00022kW \u00011kW \u0003     "], lcd.Screen);
    }

    [Fact]
    public void An_unchanged_screen_sends_nothing_and_a_changed_one_only_its_changed_characters()
    {
        var lcd = new SimulatedLcdBackpack();
        using var display = new CharacterLcdDisplay(lcd, 16, 2, new BackpackPinOptions());
        display.Show(["Bal 123 tok", "confirmed chain"]);
        lcd.ResetCounters();

        display.Show(["Bal 123 tok", "confirmed chain"]);
        Assert.Empty(lcd.Bytes);

        display.Show(["Bal 128 tok", "confirmed chain"]);
        Assert.Equal(1, lcd.CharactersWritten);
        Assert.Equal(1, lcd.Instructions); // one address command
        Assert.Equal(["Bal 128 tok     ", "confirmed chain "], lcd.Screen);
    }

    [Fact]
    public void Characters_outside_the_rom_become_question_marks_and_long_lines_are_cut()
    {
        var lcd = new SimulatedLcdBackpack();
        using var display = new CharacterLcdDisplay(lcd, 16, 2, new BackpackPinOptions());

        display.Show(["20°C €5 a\\b ~ and more text", "中文"]);

        // 0x7E is an arrow in the A00 ROM, not a tilde.
        Assert.Equal(["20\u00dfC ?5 a?b ? an", "??              "], lcd.Screen);
    }

    [Fact]
    public void Rows_three_and_four_of_a_20x4_module_are_where_the_glass_shows_them()
    {
        var lcd = new SimulatedLcdBackpack(columns: 20, rows: 4);
        using var display = new CharacterLcdDisplay(lcd, 20, 4, new BackpackPinOptions());

        display.Show(["one", "two", "three", "four"]);

        Assert.Equal(["one", "two", "three", "four"], lcd.Screen.Select(l => l.TrimEnd()));
    }

    [Fact]
    public void Backlight_off_and_on_switches_the_backlight_bit()
    {
        var lcd = new SimulatedLcdBackpack();
        using var display = new CharacterLcdDisplay(lcd, 16, 2, new BackpackPinOptions());

        display.Backlight = false;
        Assert.False(lcd.BacklightOn);
        display.Show(["dark"]);
        Assert.False(lcd.BacklightOn);
        Assert.Equal("dark", lcd.Screen[0].TrimEnd());

        display.Backlight = true;
        Assert.True(lcd.BacklightOn);
    }

    [Fact]
    public void A_backpack_wired_differently_works_through_the_configured_port_bits()
    {
        // RS on P6, E on P4, backlight on P5, D4..D7 on P0..P3.
        var lcd = new SimulatedLcdBackpack(rs: 6, e: 4, backlight: 5, d4: 0, d5: 1, d6: 2, d7: 3);
        var pins = new BackpackPinOptions { RegisterSelect = 6, Enable = 4, Backlight = 5, D4 = 0, D5 = 1, D6 = 2, D7 = 3 };

        using var display = new CharacterLcdDisplay(lcd, 16, 2, pins);
        display.Show([$"{LcdCharset.Sun} Pair code", "042917"]);

        Assert.Equal(["\u0001 Pair code     ", "042917          "], lcd.Screen);
        Assert.Equal(LcdCharset.Glyphs.ToArray(), lcd.Cgram[..32]);
        Assert.True(lcd.BacklightOn);
    }

    [Fact]
    public void After_a_bus_error_the_next_show_initialises_again_and_redraws_everything()
    {
        var lcd = new SimulatedLcdBackpack();
        using var display = new CharacterLcdDisplay(lcd, 16, 2, new BackpackPinOptions());
        display.Show(["Bal 123 tok", "confirmed chain"]);

        // Unplugged and plugged in again: the module lost its contents and its 4-bit mode.
        lcd.NoAck = true;
        Assert.Throws<IOException>(() => display.Show(["Bal 124 tok", "confirmed chain"]));
        lcd.PowerCycle();
        lcd.NoAck = false;
        display.Show(["Bal 124 tok", "confirmed chain"]);

        Assert.Equal(["Bal 124 tok     ", "confirmed chain "], lcd.Screen);
        Assert.Equal(LcdCharset.Glyphs.ToArray(), lcd.Cgram[..32]);
    }

    [Fact]
    public void Disposing_the_display_disposes_its_device()
    {
        var lcd = new SimulatedLcdBackpack();

        new CharacterLcdDisplay(lcd, 16, 2, new BackpackPinOptions()).Dispose();

        Assert.True(lcd.Disposed);
    }
}
