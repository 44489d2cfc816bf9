namespace EdgeMeter.Agent.Configuration;

/// <summary>
/// The few text shapes the configuration checks, written out: each was a one-line regular expression, and the
/// regular-expression engine they rooted cost the binary about half a megabyte.
/// </summary>
internal static class TextShapes
{
    /// <summary>Exactly <paramref name="digits"/> hex digits, nothing else.</summary>
    public static bool IsHex(string? text, int digits) =>
        text is not null && text.Length == digits && text.AsSpan().IndexOfAnyExcept(HexDigits) < 0;

    /// <summary>A meter id: 1 to 64 of <c>A-Z a-z 0-9 . _ -</c>.</summary>
    public static bool IsMeterId(string? text) =>
        text is { Length: >= 1 and <= 64 } && text.AsSpan().IndexOfAnyExcept(MeterIdCharacters) < 0;

    /// <summary>Six groups of 1 to 3 decimal digits separated by dots (<c>1.0.1.8.0.255</c>).</summary>
    public static bool IsDottedObis(string? text)
    {
        if (text is null)
            return false;
        var groups = 0;
        var rest = text.AsSpan();
        while (true)
        {
            var dot = rest.IndexOf('.');
            var group = dot < 0 ? rest : rest[..dot];
            if (group.Length is < 1 or > 3 || group.IndexOfAnyExceptInRange('0', '9') >= 0)
                return false;
            groups++;
            if (dot < 0)
                return groups == 6;
            rest = rest[(dot + 1)..];
        }
    }

    private static readonly System.Buffers.SearchValues<char> HexDigits =
        System.Buffers.SearchValues.Create("0123456789ABCDEFabcdef");

    private static readonly System.Buffers.SearchValues<char> MeterIdCharacters =
        System.Buffers.SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-");
}
