using System.Globalization;
using EdgeMeter.Crypto.Records;

namespace EdgeMeter.Agent.Configuration;

/// <summary>
/// Binds <see cref="ConfigValues"/> to <see cref="AgentOptions"/>, written out per type: keys match property names
/// without regard to case, a key no property has is an error (<c>mqtt.brokr: unknown key (misspelt?)</c>), a value that
/// does not convert is an error naming its key (<c>meters[0].unit: must be a whole number (got '1.5')</c>), and a key
/// not given keeps the default. Each section's keys are checked before its values, in declaration order, so the first
/// problem reported is the one the configuration binder reported.
/// </summary>
internal static class ConfigBinder
{
    /// <summary>A value or key the options cannot take; the message is <c>key: reason</c>.</summary>
    internal sealed class BindException(string message) : Exception(message);

    public static AgentOptions Bind(ConfigSection root)
    {
        var o = new AgentOptions();
        Known(root, "", "DataDirectory", "ChainId", "PollIntervalSeconds", "Meters", "Mqtt", "Http", "Display", "Button", "Rtc",
            "Storage", "Factors", "TimeZone", "Ledger");
        o.DataDirectory = String(root, "DataDirectory") ?? o.DataDirectory;
        o.ChainId = ULong(root, "ChainId") ?? o.ChainId;
        o.PollIntervalSeconds = Double(root, "PollIntervalSeconds") ?? o.PollIntervalSeconds;
        if (Section(root, "Meters") is { } meters)
        {
            foreach (var item in meters.Children)
                o.Meters.Add(Meter(item));
        }
        if (Section(root, "Mqtt") is { } mqtt)
            Mqtt(mqtt, o.Mqtt);
        if (Section(root, "Http") is { } http)
        {
            Known(http, "http.", "Url", "AllowedHosts", "PublicSummary");
            o.Http.Url = String(http, "Url") ?? o.Http.Url;
            Strings(http, "AllowedHosts", o.Http.AllowedHosts);
            o.Http.PublicSummary = Bool(http, "PublicSummary") ?? o.Http.PublicSummary;
        }
        if (Section(root, "Display") is { } display)
            Display(display, o.Display);
        if (Section(root, "Button") is { } button)
        {
            Known(button, "button.", "Pin", "DebounceMs", "LongPressMs");
            o.Button.Pin = Int(button, "Pin") ?? o.Button.Pin;
            o.Button.DebounceMs = Int(button, "DebounceMs") ?? o.Button.DebounceMs;
            o.Button.LongPressMs = Int(button, "LongPressMs") ?? o.Button.LongPressMs;
        }
        if (Section(root, "Rtc") is { } rtc)
        {
            Known(rtc, "rtc.", "I2cBus");
            o.Rtc.I2cBus = Int(rtc, "I2cBus") ?? o.Rtc.I2cBus;
        }
        if (Section(root, "Storage") is { } storage)
        {
            Known(storage, "storage.", "MinFreeMegabytes", "CommitIntervalSeconds", "RetainConfirmedDays");
            o.Storage.MinFreeMegabytes = Int(storage, "MinFreeMegabytes") ?? o.Storage.MinFreeMegabytes;
            o.Storage.CommitIntervalSeconds = Double(storage, "CommitIntervalSeconds") ?? o.Storage.CommitIntervalSeconds;
            o.Storage.RetainConfirmedDays = Int(storage, "RetainConfirmedDays") ?? o.Storage.RetainConfirmedDays;
        }
        if (Section(root, "Factors") is { } factors)
        {
            Known(factors, "factors.", "IntervalMinutes", "ClaimEverySeconds", "IncludeCurrentInterval");
            o.Factors.IntervalMinutes = Int(factors, "IntervalMinutes") ?? o.Factors.IntervalMinutes;
            o.Factors.ClaimEverySeconds = Int(factors, "ClaimEverySeconds") ?? o.Factors.ClaimEverySeconds;
            o.Factors.IncludeCurrentInterval = Bool(factors, "IncludeCurrentInterval") ?? o.Factors.IncludeCurrentInterval;
        }
        o.TimeZone = String(root, "TimeZone") ?? o.TimeZone;
        if (Section(root, "Ledger") is { } ledger)
        {
            Known(ledger, "ledger.", "Address");
            o.Ledger.Address = String(ledger, "Address") ?? o.Ledger.Address;
        }
        return o;
    }

    private static MeterOptions Meter(ConfigSection s)
    {
        var m = new MeterOptions();
        Known(s, "meters[].", "Id", "Endpoint", "Unit", "Map", "Source", "Clean", "Record", "TimeoutMs", "Protocol", "Dlms");
        m.Id = String(s, "Id") ?? m.Id;
        m.Endpoint = String(s, "Endpoint") ?? m.Endpoint;
        m.Unit = Int(s, "Unit") ?? m.Unit;
        m.Map = String(s, "Map") ?? m.Map;
        if (s.Child("Source")?.Value is { } source)
        {
            m.Source = Enum.TryParse<EnergySource>(source, ignoreCase: true, out var parsed)
                ? parsed
                : throw Invalid(s.Child("Source")!, "one of GridImport, GridExport, Pv, Battery, Wind, Chp, Heat, Other");
        }
        m.Clean = Bool(s, "Clean") ?? m.Clean;
        Strings(s, "Record", m.Record);
        m.TimeoutMs = Int(s, "TimeoutMs") ?? m.TimeoutMs;
        m.Protocol = String(s, "Protocol") ?? m.Protocol;
        if (Section(s, "Dlms") is { } dlms)
        {
            var d = m.Dlms;
            Known(dlms, "meters[].dlms.", "Transport", "Client", "Server", "PhysicalAddress", "Authentication", "Password",
                "BlockCipherKey", "AuthenticationKey", "SystemTitle", "LoadProfile", "Obis");
            d.Transport = String(dlms, "Transport") ?? d.Transport;
            d.Client = Int(dlms, "Client") ?? d.Client;
            d.Server = Int(dlms, "Server") ?? d.Server;
            d.PhysicalAddress = Int(dlms, "PhysicalAddress") ?? d.PhysicalAddress;
            d.Authentication = String(dlms, "Authentication") ?? d.Authentication;
            d.Password = String(dlms, "Password") ?? d.Password;
            d.BlockCipherKey = String(dlms, "BlockCipherKey") ?? d.BlockCipherKey;
            d.AuthenticationKey = String(dlms, "AuthenticationKey") ?? d.AuthenticationKey;
            d.SystemTitle = String(dlms, "SystemTitle") ?? d.SystemTitle;
            d.LoadProfile = String(dlms, "LoadProfile") ?? d.LoadProfile;
            if (Section(dlms, "Obis") is { } obis)
            {
                foreach (var item in obis.Children)
                {
                    if (item.Value is { } value)
                        d.Obis[item.Key] = value;
                }
            }
        }
        return m;
    }

    private static void Mqtt(ConfigSection s, MqttOptions q)
    {
        Known(s, "mqtt.", "Broker", "Username", "Password", "CaFile", "CertFile", "KeyFile", "Protocol", "BatchMaxRecords",
            "BatchMaxDelayMs", "MaxInFlight");
        q.Broker = String(s, "Broker") ?? q.Broker;
        q.Username = String(s, "Username") ?? q.Username;
        q.Password = String(s, "Password") ?? q.Password;
        q.CaFile = String(s, "CaFile") ?? q.CaFile;
        q.CertFile = String(s, "CertFile") ?? q.CertFile;
        q.KeyFile = String(s, "KeyFile") ?? q.KeyFile;
        q.Protocol = String(s, "Protocol") ?? q.Protocol;
        q.BatchMaxRecords = Int(s, "BatchMaxRecords") ?? q.BatchMaxRecords;
        q.BatchMaxDelayMs = Int(s, "BatchMaxDelayMs") ?? q.BatchMaxDelayMs;
        q.MaxInFlight = Int(s, "MaxInFlight") ?? q.MaxInFlight;
    }

    private static void Display(ConfigSection s, DisplayOptions d)
    {
        Known(s, "display.", "I2cBus", "Address", "Columns", "Rows", "Pins", "BacklightSeconds", "Trace");
        d.I2cBus = Int(s, "I2cBus") ?? d.I2cBus;
        d.Address = Int(s, "Address") ?? d.Address;
        d.Columns = Int(s, "Columns") ?? d.Columns;
        d.Rows = Int(s, "Rows") ?? d.Rows;
        if (Section(s, "Pins") is { } pins)
        {
            var p = d.Pins;
            Known(pins, "display.pins.", "RegisterSelect", "Enable", "Backlight", "D4", "D5", "D6", "D7");
            p.RegisterSelect = Int(pins, "RegisterSelect") ?? p.RegisterSelect;
            p.Enable = Int(pins, "Enable") ?? p.Enable;
            p.Backlight = Int(pins, "Backlight") ?? p.Backlight;
            p.D4 = Int(pins, "D4") ?? p.D4;
            p.D5 = Int(pins, "D5") ?? p.D5;
            p.D6 = Int(pins, "D6") ?? p.D6;
            p.D7 = Int(pins, "D7") ?? p.D7;
        }
        d.BacklightSeconds = Int(s, "BacklightSeconds") ?? d.BacklightSeconds;
        d.Trace = String(s, "Trace") ?? d.Trace;
    }

    /// <summary>A section with children (an object or a non-empty array); a bare value where a section belongs is ignored.</summary>
    private static ConfigSection? Section(ConfigSection parent, string key) => parent.Child(key) is { HasChildren: true } s ? s : null;

    private static void Known(ConfigSection s, string prefix, params string[] names)
    {
        List<string>? unknown = null;
        foreach (var child in s.Children)
        {
            if (!names.Contains(child.Key, StringComparer.OrdinalIgnoreCase))
                (unknown ??= []).Add(child.Key);
        }

        if (unknown is not null)
            throw new BindException($"{prefix}{string.Join("', '", unknown)}: unknown key (misspelt?)");
    }

    private static string? String(ConfigSection s, string key) => s.Child(key)?.Value;

    private static void Strings(ConfigSection s, string key, List<string> into)
    {
        if (Section(s, key) is not { } list)
            return;
        foreach (var item in list.Children)
        {
            if (item.Value is { } value)
                into.Add(value);
        }
    }

    private static int? Int(ConfigSection s, string key) =>
        s.Child(key) is { Value: { } v } c
            ? int.TryParse(v, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) ? n : throw Invalid(c, "a whole number")
            : null;

    private static ulong? ULong(ConfigSection s, string key) =>
        s.Child(key) is { Value: { } v } c
            ? ulong.TryParse(v, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) ? n : throw Invalid(c, "a whole number")
            : null;

    private static double? Double(ConfigSection s, string key) =>
        s.Child(key) is { Value: { } v } c
            ? double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out var n) ? n : throw Invalid(c, "a number")
            : null;

    private static bool? Bool(ConfigSection s, string key) =>
        s.Child(key) is { Value: { } v } c
            ? bool.TryParse(v, out var b) ? b : throw Invalid(c, "true or false")
            : null;

    private static BindException Invalid(ConfigSection s, string what) => new($"{JsonKey(s.Path)}: must be {what} (got '{s.Value}')");

    /// <summary><c>Meters:0:Unit</c> as the JSON reader knows it: <c>meters[0].unit</c>.</summary>
    internal static string JsonKey(string configKey)
    {
        var result = new System.Text.StringBuilder();
        foreach (var p in configKey.Split(':'))
        {
            if (p.Length > 0 && char.IsAsciiDigit(p[0]))
            {
                result.Append('[').Append(p).Append(']');
                continue;
            }
            if (result.Length > 0)
                result.Append('.');
            if (p.Length > 0)
                result.Append(char.ToLowerInvariant(p[0])).Append(p.AsSpan(1));
        }
        return result.ToString();
    }
}
