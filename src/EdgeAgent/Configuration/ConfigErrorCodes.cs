namespace EdgeMeter.Agent.Configuration;

/// <summary>
/// Stable codes for the configuration rules' reasons, so the local page can say them in the reader's language: the
/// code names the rule's shape (a range, a required value, hex digits, ...) and the arguments carry what the reason
/// quotes (bounds, the value given). The reasons stay the one-line English the file's check prints; a reason of a
/// shape not listed here is <c>invalid</c> (the page then says only that the key's value is not accepted).
/// </summary>
internal static class ConfigErrorCodes
{
    /// <summary>The code and arguments of <paramref name="error"/>'s reason.</summary>
    public static (string Code, IReadOnlyList<KeyValuePair<string, string>> Args) Classify(ConfigError error)
    {
        ArgumentNullException.ThrowIfNull(error);
        var reason = error.Reason;
        if (Range(reason) is { } range)
            return ("range", [Arg("min", range.Min), Arg("max", range.Max), Arg("got", range.Got)]);
        if (Cut(reason, "must be ", " hex digits") is { } digits && IsNumber(digits, signed: false))
            return ("hex", [Arg("digits", digits)]);
        if (reason.StartsWith("is required", StringComparison.Ordinal))
            return ("required", []);
        if (Got(reason, "must be 1-64 characters of ", " (got '") is { } id)
            return ("id_format", [Arg("got", id)]);
        if (Quoted(reason, "duplicate meter id '", "'", whole: true) is { } duplicate)
            return ("duplicate_id", [Arg("got", duplicate)]);
        if (reason == "at least one meter is required")
            return ("meter_required", []);
        if (UrlShape(reason) is { } url)
            return ("url_format", [Arg("a", url.A), Arg("b", url.B), Arg("got", url.Got)]);
        if (Quoted(reason, "'", "' is not a register the agent records", whole: false) is { } notRecorded)
            return ("obis_not_recorded", [Arg("got", notRecorded)]);
        if (Quoted(reason, "'", "' is a second register for ", whole: false) is { } second)
            return ("obis_twice", [Arg("got", second)]);
        if (Quoted(reason, "'", "' is not an OBIS code", whole: false) is { } invalid)
            return ("obis_invalid", [Arg("got", invalid)]);
        if (Got(reason, "must be ", " (got '") is { } oneOf)
            return ("one_of", [Arg("got", oneOf)]);
        if (reason.StartsWith("unknown time zone '", StringComparison.Ordinal) && reason.LastIndexOf('\'') >= "unknown time zone '".Length)
            return ("unknown_time_zone", [Arg("got", reason["unknown time zone '".Length..reason.LastIndexOf('\'')])]);
        if (reason.StartsWith("file not found: ", StringComparison.Ordinal) && !reason.Contains('\n', StringComparison.Ordinal))
            return ("file_not_found", [Arg("got", reason["file not found: ".Length..])]);
        if (reason == "certFile and keyFile go together for mutual TLS")
            return ("cert_and_key", []);
        if (reason == "not a PEM file")
            return ("not_pem", []);
        if ((Got(reason, "expected a ", ", got '") ?? Got(reason, "expected an ", ", got '")) is { } kind)
            return ("pem_kind", [Arg("got", kind)]);
        if (reason.StartsWith("unreadable certificate", StringComparison.Ordinal))
            return ("pem_unreadable", []);
        if (reason.StartsWith("the client certificate and key do not belong together", StringComparison.Ordinal))
            return ("pem_pair", []);
        if (reason.Contains("cannot be read", StringComparison.Ordinal) || reason.Contains("cannot be written", StringComparison.Ordinal)
            || reason.StartsWith("could not be stored", StringComparison.Ordinal))
            return ("file_io", []);
        if (error.Key.EndsWith(".endpoint", StringComparison.Ordinal))
            return ("endpoint", []);
        if (error.Key.EndsWith(".map", StringComparison.Ordinal))
            return ("map", []);
        return ("invalid", []);
    }

    private static KeyValuePair<string, string> Arg(string name, string value) => KeyValuePair.Create(name, value);

    // "must be MIN..MAX" or "must be MIN..MAX (got VALUE)", MIN and MAX whole numbers.
    private static (string Min, string Max, string Got)? Range(string reason)
    {
        if (!reason.StartsWith("must be ", StringComparison.Ordinal))
            return null;
        var rest = reason["must be ".Length..];
        var dots = rest.IndexOf("..", StringComparison.Ordinal);
        if (dots < 0)
            return null;
        var min = rest[..dots];
        rest = rest[(dots + 2)..];
        var space = rest.IndexOf(' ', StringComparison.Ordinal);
        var max = space < 0 ? rest : rest[..space];
        if (!IsNumber(min, signed: true) || !IsNumber(max, signed: true))
            return null;
        if (space < 0)
            return (min, max, "");
        var tail = rest[space..];
        return tail.StartsWith(" (got ", StringComparison.Ordinal) && tail.EndsWith(')') && !tail.Contains('\n', StringComparison.Ordinal)
            ? (min, max, tail[" (got ".Length..^1])
            : null;
    }

    // "must be SCHEME://host:port or SCHEME://host:port (got 'VALUE')", schemes of a-z.
    private static (string A, string B, string Got)? UrlShape(string reason)
    {
        var rest = reason.AsSpan();
        if (!Take(ref rest, "must be ") || Scheme(ref rest) is not { } a || !Take(ref rest, "host:port or ")
            || Scheme(ref rest) is not { } b || !Take(ref rest, "host:port (got '") || !rest.EndsWith("')") || rest.Contains('\n'))
            return null;
        return (a, b, rest[..^2].ToString());

        static bool Take(ref ReadOnlySpan<char> text, string prefix)
        {
            if (!text.StartsWith(prefix, StringComparison.Ordinal))
                return false;
            text = text[prefix.Length..];
            return true;
        }

        static string? Scheme(ref ReadOnlySpan<char> text)
        {
            var letters = text.IndexOfAnyExceptInRange('a', 'z');
            if (letters <= 0 || !text[letters..].StartsWith("://", StringComparison.Ordinal))
                return null;
            var scheme = text[..(letters + 3)].ToString();
            text = text[(letters + 3)..];
            return scheme;
        }
    }

    // "PREFIX anything OPENING VALUE')": the VALUE after the last OPENING (a greedy "PREFIX.*OPENING(.*)'\)$"); the
    // closing may be "'" alone when OPENING ends the shape with a quote of its own (", got 'VALUE'").
    private static string? Got(string reason, string prefix, string opening)
    {
        var closing = opening.EndsWith(" (got '", StringComparison.Ordinal) ? "')" : "'";
        if (!reason.StartsWith(prefix, StringComparison.Ordinal) || !reason.EndsWith(closing, StringComparison.Ordinal)
            || reason.Contains('\n', StringComparison.Ordinal))
            return null;
        var body = reason.AsSpan(0, reason.Length - closing.Length);
        var open = body.LastIndexOf(opening, StringComparison.Ordinal);
        return open < prefix.Length ? null : body[(open + opening.Length)..].ToString();
    }

    // The text between PREFIX and the last MARKER; with whole, the marker must end the reason.
    private static string? Quoted(string reason, string prefix, string marker, bool whole)
    {
        if (!reason.StartsWith(prefix, StringComparison.Ordinal) || reason.Contains('\n', StringComparison.Ordinal))
            return null;
        if (whole)
            return reason.EndsWith(marker, StringComparison.Ordinal) && reason.Length >= prefix.Length + marker.Length
                ? reason[prefix.Length..^marker.Length]
                : null;
        var at = reason.LastIndexOf(marker, StringComparison.Ordinal);
        return at >= prefix.Length ? reason[prefix.Length..at] : null;
    }

    // The text between PREFIX and SUFFIX at the reason's start.
    private static string? Cut(string reason, string prefix, string suffix)
    {
        if (!reason.StartsWith(prefix, StringComparison.Ordinal))
            return null;
        var end = reason.IndexOf(suffix, prefix.Length, StringComparison.Ordinal);
        return end < 0 ? null : reason[prefix.Length..end];
    }

    private static bool IsNumber(string s, bool signed)
    {
        var digits = signed && s.StartsWith('-') ? s.AsSpan(1) : s.AsSpan();
        return digits.Length > 0 && digits.IndexOfAnyExceptInRange('0', '9') < 0;
    }
}
