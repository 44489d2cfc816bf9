namespace EdgeMeter.Agent.Display;

/// <summary>A small character display: the HD44780 LCD, or its console mirror when no LCD is attached.</summary>
internal interface ITextDisplay : IDisposable
{
    /// <summary>Number of text rows (2 for a 16x2 module).</summary>
    int Rows { get; }

    /// <summary>Characters per row (16 for a 16x2 module).</summary>
    int Columns { get; }

    /// <summary>Whether the backlight is on; a display without one ignores it.</summary>
    /// <exception cref="IOException">The display stopped answering.</exception>
    bool Backlight { get; set; }

    /// <summary>
    /// Shows a whole screen. Lines are cut or padded to <see cref="Columns"/>, missing rows are blank, and characters
    /// the display cannot show become '?' (see <see cref="LcdCharset"/>). Implementations send only what changed.
    /// </summary>
    /// <param name="lines">Up to <see cref="Rows"/> lines.</param>
    /// <param name="page">What the screen shows ("balance", "power"); a mirror uses it to log each page only when it changes.</param>
    /// <param name="live">The screen's values move with every reading (power); a mirror may print it less often.</param>
    /// <exception cref="IOException">The display stopped answering; the next call starts over with an initialisation.</exception>
    void Show(IReadOnlyList<string> lines, string page = "", bool live = false);
}
