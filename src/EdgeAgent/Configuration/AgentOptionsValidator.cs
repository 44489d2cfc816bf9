using System.Globalization;

namespace EdgeMeter.Agent.Configuration;

/// <summary>One configuration problem: the JSON key path (<c>meters[0].unit</c>) and why it is wrong.</summary>
internal sealed record ConfigError(string Key, string Reason)
{
    public override string ToString() => $"{Key}: {Reason}";
}

/// <summary>
/// Checks <see cref="AgentOptions"/> once at start. Rules that need another layer (is the endpoint URI one a
/// Modbus client can open, does the map exist) come in as delegates so this stays free of protocol code.
/// </summary>
internal static class AgentOptionsValidator
{
    public static IReadOnlyList<ConfigError> Validate(
        AgentOptions o,
        bool requireMeters,
        Func<string, string?>? checkEndpoint = null,
        Func<string, string?>? checkMap = null)
    {
        var errors = new List<ConfigError>();
        void Fail(string key, string reason) => errors.Add(new ConfigError(key, reason));

        if (string.IsNullOrWhiteSpace(o.DataDirectory) || !Path.IsPathFullyQualified(o.DataDirectory))
            Fail("dataDirectory", $"must be an absolute path (got '{o.DataDirectory}')");
        if (o.ChainId == 0)
            Fail("chainId", "must be greater than 0");
        if (!(o.PollIntervalSeconds > 0) || o.PollIntervalSeconds > 3600 || double.IsNaN(o.PollIntervalSeconds))
            Fail("pollIntervalSeconds", $"must be greater than 0 and at most 3600 (got {o.PollIntervalSeconds.ToString(CultureInfo.InvariantCulture)})");

        if (requireMeters && o.Meters.Count == 0)
            Fail("meters", "at least one meter is required");
        var ids = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < o.Meters.Count; i++)
        {
            var m = o.Meters[i];
            var k = $"meters[{i}]";
            if (!TextShapes.IsMeterId(m.Id))
                Fail($"{k}.id", $"must be 1-64 characters of A-Z a-z 0-9 . _ - (got '{m.Id}')");
            else if (!ids.Add(m.Id))
                Fail($"{k}.id", $"duplicate meter id '{m.Id}'");
            if (string.IsNullOrWhiteSpace(m.Endpoint))
                Fail($"{k}.endpoint", "is required");
            else if (checkEndpoint?.Invoke(m.Endpoint) is { } endpointError)
                Fail($"{k}.endpoint", endpointError);
            if (DlmsMeterOptions.IsDlms(m))
            {
                foreach (var (key, reason) in m.Dlms.Validate(m.Endpoint))
                    Fail($"{k}.{key}", reason);
            }
            else if (m.Protocol is not "modbus")
                Fail($"{k}.protocol", $"must be \"modbus\" or \"dlms\" (got '{m.Protocol}')");
            else
            {
            if (m.Unit is < 1 or > 247)
                Fail($"{k}.unit", $"must be 1..247 (got {m.Unit})");
            if (string.IsNullOrWhiteSpace(m.Map))
                Fail($"{k}.map", "is required");
            else if (checkMap?.Invoke(m.Map) is { } mapError)
                Fail($"{k}.map", mapError);
            }
            if (m.TimeoutMs is < 20 or > 60_000)
                Fail($"{k}.timeoutMs", $"must be 20..60000 (got {m.TimeoutMs})");
            if (!Enum.IsDefined(m.Source))
                Fail($"{k}.source", $"unknown energy source {(int)m.Source}");
        }

        if (!string.IsNullOrEmpty(o.Ledger.Address) && !EdgeMeter.Crypto.Keys.EthereumAddress.TryParse(o.Ledger.Address, stackalloc byte[20]))
            Fail("ledger.address", $"must be 0x and 40 hex digits (got '{o.Ledger.Address}')");
        var q = o.Mqtt;
        if (!string.IsNullOrEmpty(q.Broker))
        {
            if (!Uri.TryCreate(q.Broker, UriKind.Absolute, out var broker) || broker.Scheme is not ("mqtt" or "mqtts") || string.IsNullOrEmpty(broker.Host))
                Fail("mqtt.broker", $"must be mqtt://host:port or mqtts://host:port (got '{q.Broker}')");
        }
        if (q.Protocol is not ("5" or "311"))
            Fail("mqtt.protocol", $"must be \"5\" or \"311\" (got '{q.Protocol}')");
        if (q.BatchMaxRecords is < 1 or > 5000)
            Fail("mqtt.batchMaxRecords", $"must be 1..5000 (got {q.BatchMaxRecords})");
        if (q.BatchMaxDelayMs is < 0 or > 60_000)
            Fail("mqtt.batchMaxDelayMs", $"must be 0..60000 (got {q.BatchMaxDelayMs})");
        if (q.MaxInFlight is < 1 or > 1000)
            Fail("mqtt.maxInFlight", $"must be 1..1000 (got {q.MaxInFlight})");
        CheckFile("mqtt.caFile", q.CaFile);
        CheckFile("mqtt.certFile", q.CertFile);
        CheckFile("mqtt.keyFile", q.KeyFile);
        if (string.IsNullOrEmpty(q.CertFile) != string.IsNullOrEmpty(q.KeyFile))
            Fail(string.IsNullOrEmpty(q.CertFile) ? "mqtt.certFile" : "mqtt.keyFile", "certFile and keyFile go together for mutual TLS");

        if (!string.IsNullOrEmpty(o.Http.Url)
            && (!Uri.TryCreate(o.Http.Url, UriKind.Absolute, out var http) || http.Scheme != "http" || http.AbsolutePath != "/"))
            Fail("http.url", $"must be http://host:port (got '{o.Http.Url}')");

        for (var i = 0; i < o.Http.AllowedHosts.Count; i++)
        {
            if (Uri.CheckHostName(o.Http.AllowedHosts[i]) != UriHostNameType.Dns)
                Fail($"http.allowedHosts[{i}]", $"must be a host name (got '{o.Http.AllowedHosts[i]}')");
        }
        if (!string.IsNullOrEmpty(o.TimeZone) && !TimeZoneInfo.TryFindSystemTimeZoneById(o.TimeZone, out _))
            Fail("timeZone", $"unknown time zone '{o.TimeZone}' (an IANA name such as Europe/Berlin)");

        var d = o.Display;
        if (d.I2cBus is < 0 or > 255)
            Fail("display.i2cBus", $"must be 0..255 (got {d.I2cBus})");
        if (d.Address is < 0x03 or > 0x77)
            Fail("display.address", $"must be a 7-bit I2C address 0x03..0x77 (got {d.Address})");
        if (d.Columns is not (8 or 16 or 20 or 24 or 40))
            Fail("display.columns", $"must be 8, 16, 20, 24 or 40 (got {d.Columns})");
        if (d.Rows is not (1 or 2 or 4))
            Fail("display.rows", $"must be 1, 2 or 4 (got {d.Rows})");
        else if (d.Rows == 4 && d.Columns != 20)
            Fail("display.columns", $"a 4-row display must have 20 columns (got {d.Columns})");
        var pinsUsed = new HashSet<int>();
        foreach (var (key, bit) in d.Pins.Named())
        {
            if (bit is < 0 or > 7 && !(key == "backlight" && bit == -1))
                Fail($"display.pins.{key}", $"must be a PCF8574 port bit 0..7 (got {bit})");
            else if (bit >= 0 && !pinsUsed.Add(bit))
                Fail($"display.pins.{key}", $"bit {bit} is already used by another signal");
        }
        if (d.BacklightSeconds < 0)
            Fail("display.backlightSeconds", $"must not be negative (got {d.BacklightSeconds})");
        if (o.Button.Pin is < -1 or > 63)
            Fail("button.pin", $"must be a GPIO line 0..63, or -1 for none (got {o.Button.Pin})");
        if (o.Button.DebounceMs is < 0 or > 1000)
            Fail("button.debounceMs", $"must be 0..1000 (got {o.Button.DebounceMs})");
        if (o.Button.LongPressMs is < 300 or > 10_000)
            Fail("button.longPressMs", $"must be 300..10000 (got {o.Button.LongPressMs})");
        if (o.Rtc.I2cBus is < -1 or > 255)
            Fail("rtc.i2cBus", $"must be 0..255, or -1 for no RTC (got {o.Rtc.I2cBus})");

        var f = o.Factors;
        if (f.IntervalMinutes <= 0 || 1440 % f.IntervalMinutes != 0)
            Fail("factors.intervalMinutes", $"must divide a day: 1, 5, 15, 30, 60, ... (got {f.IntervalMinutes})");
        if (f.ClaimEverySeconds < 0)
            Fail("factors.claimEverySeconds", $"must not be negative (got {f.ClaimEverySeconds})");

        if (o.Storage.MinFreeMegabytes < 1)
            Fail("storage.minFreeMegabytes", $"must be at least 1 (got {o.Storage.MinFreeMegabytes})");
        if (!(o.Storage.CommitIntervalSeconds >= 0) || o.Storage.CommitIntervalSeconds > 300)
            Fail("storage.commitIntervalSeconds", $"must be 0..300 (got {o.Storage.CommitIntervalSeconds.ToString(CultureInfo.InvariantCulture)})");
        if (o.Storage.RetainConfirmedDays < 0)
            Fail("storage.retainConfirmedDays", $"must not be negative (got {o.Storage.RetainConfirmedDays})");
        return errors;

        void CheckFile(string key, string? path)
        {
            if (!string.IsNullOrEmpty(path) && !File.Exists(path))
                Fail(key, $"file not found: {path}");
        }
    }
}
