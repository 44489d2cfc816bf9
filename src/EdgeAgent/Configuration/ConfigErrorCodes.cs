using System.Text.RegularExpressions;

namespace EdgeMeter.Agent.Configuration;

/// <summary>
/// Stable codes for the configuration rules' reasons, so the local page can say them in the reader's language: the
/// code names the rule's shape (a range, a required value, hex digits, ...) and the arguments carry what the reason
/// quotes (bounds, the value given). The reasons stay the one-line English the file's check prints; a reason of a
/// shape not listed here is <c>invalid</c> (the page then says only that the key's value is not accepted).
/// </summary>
internal static partial class ConfigErrorCodes
{
    /// <summary>The code and arguments of <paramref name="error"/>'s reason.</summary>
    public static (string Code, IReadOnlyList<KeyValuePair<string, string>> Args) Classify(ConfigError error)
    {
        ArgumentNullException.ThrowIfNull(error);
        var reason = error.Reason;
        Match m;
        if ((m = Range().Match(reason)).Success)
            return ("range", [Arg("min", m.Groups[1].Value), Arg("max", m.Groups[2].Value), Arg("got", m.Groups[3].Value)]);
        if ((m = Hex().Match(reason)).Success)
            return ("hex", [Arg("digits", m.Groups[1].Value)]);
        if (reason.StartsWith("is required", StringComparison.Ordinal))
            return ("required", []);
        if ((m = IdFormat().Match(reason)).Success)
            return ("id_format", [Arg("got", m.Groups[1].Value)]);
        if ((m = Duplicate().Match(reason)).Success)
            return ("duplicate_id", [Arg("got", m.Groups[1].Value)]);
        if (reason == "at least one meter is required")
            return ("meter_required", []);
        if ((m = UrlShape().Match(reason)).Success)
            return ("url_format", [Arg("a", m.Groups[1].Value), Arg("b", m.Groups[2].Value), Arg("got", m.Groups[3].Value)]);
        if ((m = ObisNotRecorded().Match(reason)).Success)
            return ("obis_not_recorded", [Arg("got", m.Groups[1].Value)]);
        if ((m = ObisSecond().Match(reason)).Success)
            return ("obis_twice", [Arg("got", m.Groups[1].Value)]);
        if ((m = ObisInvalid().Match(reason)).Success)
            return ("obis_invalid", [Arg("got", m.Groups[1].Value)]);
        if ((m = OneOf().Match(reason)).Success)
            return ("one_of", [Arg("got", m.Groups[1].Value)]);
        if ((m = UnknownZone().Match(reason)).Success)
            return ("unknown_time_zone", [Arg("got", m.Groups[1].Value)]);
        if ((m = FileNotFound().Match(reason)).Success)
            return ("file_not_found", [Arg("got", m.Groups[1].Value)]);
        if (reason == "certFile and keyFile go together for mutual TLS")
            return ("cert_and_key", []);
        if (reason == "not a PEM file")
            return ("not_pem", []);
        if ((m = PemKind().Match(reason)).Success)
            return ("pem_kind", [Arg("got", m.Groups[1].Value)]);
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

    [GeneratedRegex(@"^must be (-?\d+)\.\.(-?\d+)(?: \(got (.*)\))?$")]
    private static partial Regex Range();

    [GeneratedRegex(@"^must be (\d+) hex digits")]
    private static partial Regex Hex();

    [GeneratedRegex(@"^must be 1-64 characters of .* \(got '(.*)'\)$")]
    private static partial Regex IdFormat();

    [GeneratedRegex(@"^duplicate meter id '(.*)'$")]
    private static partial Regex Duplicate();

    [GeneratedRegex(@"^must be ([a-z]+://)host:port or ([a-z]+://)host:port \(got '(.*)'\)$")]
    private static partial Regex UrlShape();

    [GeneratedRegex(@"^'(.*)' is not a register the agent records")]
    private static partial Regex ObisNotRecorded();

    [GeneratedRegex(@"^'(.*)' is a second register for ")]
    private static partial Regex ObisSecond();

    [GeneratedRegex(@"^'(.*)' is not an OBIS code")]
    private static partial Regex ObisInvalid();

    [GeneratedRegex(@"^must be .* \(got '(.*)'\)$")]
    private static partial Regex OneOf();

    [GeneratedRegex(@"^unknown time zone '(.*)'")]
    private static partial Regex UnknownZone();

    [GeneratedRegex(@"^file not found: (.*)$")]
    private static partial Regex FileNotFound();

    [GeneratedRegex(@"^expected an? .*, got '(.*)'$")]
    private static partial Regex PemKind();
}
