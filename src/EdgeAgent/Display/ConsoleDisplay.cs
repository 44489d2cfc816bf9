using System.Text;

namespace EdgeMeter.Agent.Display;

/// <summary>
/// Stands in for the LCD when none is attached: writes a screen to a text writer (stdout, hence the journal) as one
/// line, as soon as that page's text changed. Pages that merely rotate print nothing after their first showing. Only
/// a live page (power, whose values move every second) prints at most once per <c>liveReprintInterval</c>; any other
/// change, such as a new pairing code, prints at once.
/// </summary>
internal sealed class ConsoleDisplay : ITextDisplay
{
    private readonly TextWriter _writer;
    private readonly TimeProvider _time;
    private readonly TimeSpan _liveReprintInterval;
    private readonly Dictionary<string, (string Text, DateTimeOffset At)> _printed = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();

    /// <summary>Creates a mirror of a <paramref name="columns"/> x <paramref name="rows"/> display.</summary>
    /// <param name="writer">Where lines go; not disposed.</param>
    /// <param name="columns">Characters per row, as the real display would have.</param>
    /// <param name="rows">Rows, as the real display would have.</param>
    /// <param name="time">Clock for the reprint interval.</param>
    /// <param name="liveReprintInterval">Shortest time between two lines for the same live page; zero prints every change.</param>
    public ConsoleDisplay(TextWriter writer, int columns, int rows, TimeProvider time, TimeSpan liveReprintInterval)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentOutOfRangeException.ThrowIfLessThan(columns, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(rows, 1);
        _writer = writer;
        _time = time;
        _liveReprintInterval = liveReprintInterval;
        Columns = columns;
        Rows = rows;
    }

    /// <inheritdoc />
    public int Rows { get; }

    /// <inheritdoc />
    public int Columns { get; }

    /// <inheritdoc />
    public bool Backlight { get; set; } = true;

    /// <inheritdoc />
    public void Show(IReadOnlyList<string> lines, string page = "", bool live = false)
    {
        ArgumentNullException.ThrowIfNull(lines);
        var text = Format(lines);
        lock (_gate)
        {
            var now = _time.GetUtcNow();
            if (_printed.TryGetValue(page, out var last)
                && (last.Text == text || (live && now - last.At < _liveReprintInterval)))
            {
                return;
            }

            _printed[page] = (text, now);
            _writer.WriteLine(page.Length == 0 ? $"LCD | {text}" : $"LCD {page} | {text}");
            _writer.Flush();
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
    }

    private string Format(IReadOnlyList<string> lines)
    {
        // Rows after the last non-blank one are left out, so a one-line page does not end in " |".
        int last = Math.Min(Rows, lines.Count) - 1;
        while (last >= 0 && string.IsNullOrWhiteSpace(lines[last]))
        {
            last--;
        }

        var sb = new StringBuilder(Rows * (Columns + 3));
        for (int row = 0; row <= last; row++)
        {
            var line = lines[row] ?? string.Empty;
            if (row > 0)
            {
                sb.Append(" | ");
            }

            // Show exactly what the LCD would: cut to width, padded, unknown characters as '?'.
            for (int col = 0; col < Columns; col++)
            {
                sb.Append(col < line.Length ? LcdCharset.ForConsole(line[col]) : ' ');
            }
        }

        return sb.ToString().TrimEnd();
    }
}
