using System.Globalization;
using System.Text.Json;

namespace EdgeMeter.Economics;

/// <summary>A scenario file: one month's parameters, intervals and events.</summary>
public sealed record FactorScenario
{
    /// <summary>The month to compute (<c>params.month</c>).</summary>
    public required FactorMonth Month { get; init; }

    /// <summary>The parameters.</summary>
    public required FactorParams Params { get; init; }

    /// <summary>The previous month's congestion carry (<c>params.congestionCarryIn</c>, default 0).</summary>
    public decimal CongestionCarryIn { get; init; }

    /// <summary>The intervals, the month's and earlier history.</summary>
    public required IReadOnlyList<ConsumptionInterval> Intervals { get; init; }

    /// <summary>The events.</summary>
    public required IReadOnlyList<FactorEvent> Events { get; init; }

    /// <summary>Computes the scenario's month.</summary>
    public FactorResult Compute() => FactorCalculator.Compute(Month, Params, Intervals, Events, CongestionCarryIn);
}

/// <summary>
/// Hand-written JSON parsing (no reflection) of parameters, events and scenarios, for scenario files and MQTT payloads.
/// Numbers are read as <see cref="decimal"/> (exact). Every error is a <see cref="FactorInputException"/> naming the field.
/// Unknown members are ignored, so that newer payloads stay readable.
/// </summary>
public static class FactorJson
{
    private static readonly JsonDocumentOptions DocumentOptions = new()
    {
        AllowTrailingCommas = false,
        CommentHandling = JsonCommentHandling.Disallow,
        MaxDepth = 16,
        // A member given twice would leave it to the parser which one wins; a signed payload must mean one thing.
        AllowDuplicateProperties = false,
    };

    /// <summary>Parses a UTF-8 scenario file.</summary>
    public static FactorScenario ParseScenario(ReadOnlyMemory<byte> utf8)
    {
        using var doc = Open(utf8);
        var root = doc.RootElement;
        if (root.ValueKind != JsonValueKind.Object)
        {
            throw new FactorInputException(string.Empty, "must be a JSON object");
        }
        var paramsElement = Required(root, "params", "params");
        RequireObject(paramsElement, "params");
        var monthText = String(Required(paramsElement, "month", "params.month"), "params.month");
        if (!FactorMonth.TryParse(monthText, out var month))
        {
            throw new FactorInputException("params.month", "must be YYYY-MM");
        }
        var p = ParseParams(paramsElement, "params");
        var carry = 0m;
        if (Optional(paramsElement, "congestionCarryIn") is { } carryElement)
        {
            carry = Decimal(carryElement, "params.congestionCarryIn");
            if (carry < 0)
            {
                throw new FactorInputException("params.congestionCarryIn", "must not be negative");
            }
        }
        var intervals = ParseIntervals(Required(root, "intervals", "intervals"), "intervals");
        var events = Optional(root, "events") is { } ev ? ParseEvents(ev, "events") : [];
        return new FactorScenario { Month = month, Params = p, CongestionCarryIn = carry, Intervals = intervals, Events = events };
    }

    /// <summary>Parses a UTF-8 parameters payload (the object of <see cref="ParseParams(JsonElement, string)"/>).</summary>
    public static FactorParams ParseParams(ReadOnlyMemory<byte> utf8, string path = "params")
    {
        using var doc = Open(utf8);
        return ParseParams(doc.RootElement, path);
    }

    /// <summary>Parses a UTF-8 event payload, one object or an array of them.</summary>
    public static IReadOnlyList<FactorEvent> ParseEvents(ReadOnlyMemory<byte> utf8, string path = "events")
    {
        using var doc = Open(utf8);
        return doc.RootElement.ValueKind == JsonValueKind.Array
            ? ParseEvents(doc.RootElement, path)
            : [ParseEvent(doc.RootElement, path)];
    }

    /// <summary>
    /// Parses a parameters object: <c>version</c>? (integer, default 0), <c>timeZone</c>, <c>role</c>, <c>alpha</c>, <c>beta</c>,
    /// <c>gamma</c>, <c>delta</c>, <c>efGridKgPerKwh</c>, <c>f1</c>, <c>f2</c>, <c>mu</c>, <c>lambda</c>, <c>nMax</c>,
    /// <c>congestionSteps</c> [{minKw, factor}], <c>congestionThreshold</c>, <c>tokensPerCongestionThreshold</c>,
    /// <c>sPermit</c>? and <c>s</c>? (required for a producer). Validated (<see cref="FactorParams.Validate"/>).
    /// </summary>
    public static FactorParams ParseParams(JsonElement e, string path)
    {
        RequireObject(e, path);
        var version = Optional(e, "version") is { } v ? Integer(v, $"{path}.version") : 0;
        if (version < 0)
        {
            throw new FactorInputException($"{path}.version", "must not be negative");
        }
        var zoneId = String(Required(e, "timeZone", $"{path}.timeZone"), $"{path}.timeZone");
        var zone = FindZone(zoneId) ?? throw new FactorInputException($"{path}.timeZone", $"unknown time zone '{zoneId}'");
        var role = String(Required(e, "role", $"{path}.role"), $"{path}.role") switch
        {
            "consumer" => FactorRole.Consumer,
            "producer" => FactorRole.Producer,
            _ => throw new FactorInputException($"{path}.role", "must be \"consumer\" or \"producer\""),
        };

        var stepsElement = Required(e, "congestionSteps", $"{path}.congestionSteps");
        if (stepsElement.ValueKind != JsonValueKind.Array)
        {
            throw new FactorInputException($"{path}.congestionSteps", "must be an array");
        }
        var steps = new List<CongestionStep>();
        var index = 0;
        foreach (var s in stepsElement.EnumerateArray())
        {
            var at = $"{path}.congestionSteps[{index}]";
            RequireObject(s, at);
            var step = new CongestionStep(Dec(s, "minKw", at), Dec(s, "factor", at));
            if (step.MinKw <= 0)
            {
                throw new FactorInputException($"{at}.minKw", "must be greater than 0");
            }
            var dup = steps.FindIndex(x => x.MinKw == step.MinKw);
            if (dup >= 0)
            {
                throw new FactorInputException($"{at}.minKw", $"duplicates {path}.congestionSteps[{dup}].minKw");
            }
            steps.Add(step);
            index++;
        }

        var p = new FactorParams
        {
            Version = version,
            TimeZoneId = zoneId,
            TimeZone = zone,
            Role = role,
            Alpha = Dec(e, "alpha", path),
            Beta = Dec(e, "beta", path),
            Gamma = Dec(e, "gamma", path),
            Delta = Dec(e, "delta", path),
            EfGridKgPerKwh = Dec(e, "efGridKgPerKwh", path),
            F1 = Dec(e, "f1", path),
            F2 = Dec(e, "f2", path),
            Mu = Dec(e, "mu", path),
            Lambda = Dec(e, "lambda", path),
            NMax = Integer(Required(e, "nMax", $"{path}.nMax"), $"{path}.nMax"),
            CongestionSteps = [.. steps.OrderBy(x => x.MinKw)],
            CongestionThreshold = Dec(e, "congestionThreshold", path),
            TokensPerCongestionThreshold = Integer(Required(e, "tokensPerCongestionThreshold", $"{path}.tokensPerCongestionThreshold"), $"{path}.tokensPerCongestionThreshold"),
            SPermit = Optional(e, "sPermit") is { } sp ? Decimal(sp, $"{path}.sPermit") : null,
            S = Optional(e, "s") is { } se ? Decimal(se, $"{path}.s") : null,
        };
        p.Validate(path);
        return p;
    }

    /// <summary>Parses an array of events; ids must be unique.</summary>
    public static IReadOnlyList<FactorEvent> ParseEvents(JsonElement e, string path)
    {
        if (e.ValueKind != JsonValueKind.Array)
        {
            throw new FactorInputException(path, "must be an array");
        }
        var list = new List<FactorEvent>();
        var index = 0;
        foreach (var item in e.EnumerateArray())
        {
            var at = $"{path}[{index}]";
            var ev = ParseEvent(item, at);
            var dup = list.FindIndex(x => x.Id == ev.Id);
            if (dup >= 0)
            {
                throw new FactorInputException($"{at}.id", $"duplicates {path}[{dup}].id");
            }
            list.Add(ev);
            index++;
        }
        return list;
    }

    /// <summary>Parses one event: <c>{"id","kind":"congestion"|"demand-response","start","end"}</c>, end after start.</summary>
    public static FactorEvent ParseEvent(JsonElement e, string path)
    {
        RequireObject(e, path);
        var id = String(Required(e, "id", $"{path}.id"), $"{path}.id");
        if (id.Length == 0)
        {
            throw new FactorInputException($"{path}.id", "must not be empty");
        }
        var kind = String(Required(e, "kind", $"{path}.kind"), $"{path}.kind") switch
        {
            "congestion" => FactorEventKind.Congestion,
            "demand-response" => FactorEventKind.DemandResponse,
            _ => throw new FactorInputException($"{path}.kind", "must be \"congestion\" or \"demand-response\""),
        };
        var start = Timestamp(Required(e, "start", $"{path}.start"), $"{path}.start");
        var end = Timestamp(Required(e, "end", $"{path}.end"), $"{path}.end");
        if (end <= start)
        {
            throw new FactorInputException($"{path}.end", $"must be after {path}.start");
        }
        return new FactorEvent(id, kind, start, end);
    }

    /// <summary>Parses an array of intervals; starts (as instants) must be unique.</summary>
    public static IReadOnlyList<ConsumptionInterval> ParseIntervals(JsonElement e, string path)
    {
        if (e.ValueKind != JsonValueKind.Array)
        {
            throw new FactorInputException(path, "must be an array");
        }
        var list = new List<ConsumptionInterval>();
        var seen = new Dictionary<long, int>();
        var index = 0;
        foreach (var item in e.EnumerateArray())
        {
            var at = $"{path}[{index}]";
            RequireObject(item, at);
            var start = Timestamp(Required(item, "start", $"{at}.start"), $"{at}.start");
            if (!seen.TryAdd(start.UtcTicks, index))
            {
                throw new FactorInputException($"{at}.start", $"duplicate interval start (same as {path}[{seen[start.UtcTicks]}])");
            }
            var minutes = Integer(Required(item, "minutes", $"{at}.minutes"), $"{at}.minutes");
            if (minutes <= 0 || minutes > 24 * 60)
            {
                throw new FactorInputException($"{at}.minutes", "must be a whole number from 1 to 1440");
            }
            var elec = NonNegative(item, "elecKwh", at);
            var cleanElec = NonNegative(item, "cleanElecKwh", at);
            var heat = NonNegative(item, "heatKwh", at);
            var cleanHeat = NonNegative(item, "cleanHeatKwh", at);
            if (cleanElec > elec)
            {
                throw new FactorInputException($"{at}.cleanElecKwh", $"must not exceed {at}.elecKwh");
            }
            if (cleanHeat > heat)
            {
                throw new FactorInputException($"{at}.cleanHeatKwh", $"must not exceed {at}.heatKwh");
            }
            list.Add(new ConsumptionInterval(start, (int)minutes, elec, cleanElec, heat, cleanHeat));
            index++;
        }
        return list;
    }

    /// <summary>Writes events in the form <see cref="ParseEvents(ReadOnlyMemory{byte}, string)"/> reads.</summary>
    public static byte[] WriteEvents(IEnumerable<FactorEvent> events)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>(256);
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartArray();
            foreach (var ev in events)
            {
                w.WriteStartObject();
                w.WriteString("id", ev.Id);
                w.WriteString("kind", FactorEvent.KindName(ev.Kind));
                w.WriteString("start", ev.Start.ToString("yyyy-MM-dd'T'HH:mm:ss.FFFFFFFzzz", CultureInfo.InvariantCulture));
                w.WriteString("end", ev.End.ToString("yyyy-MM-dd'T'HH:mm:ss.FFFFFFFzzz", CultureInfo.InvariantCulture));
                w.WriteEndObject();
            }
            w.WriteEndArray();
        }
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>
    /// Parses an ISO-8601 timestamp that carries an offset (<c>Z</c> or <c>±hh:mm</c>): <c>yyyy-MM-ddTHH:mm[:ss[.fffffff]]</c>
    /// followed by the offset; false for anything else.
    /// </summary>
    public static bool TryParseTimestamp(string text, out DateTimeOffset value)
    {
        value = default;
        var hasOffset = text.EndsWith('Z')
            || (text.Length > 6 && text[^6] is '+' or '-' && text[^3] == ':' && text.IndexOf('T', StringComparison.Ordinal) is > 0 and var t && t < text.Length - 6);
        if (!hasOffset)
        {
            return false;
        }
        return DateTimeOffset.TryParseExact(
            text,
            TimestampFormats,
            CultureInfo.InvariantCulture,
            DateTimeStyles.None,
            out value);
    }

    private static readonly string[] TimestampFormats =
    [
        "yyyy-MM-dd'T'HH:mmK",
        "yyyy-MM-dd'T'HH:mm:ssK",
        "yyyy-MM-dd'T'HH:mm:ss.FFFFFFFK",
    ];

    /// <summary>Finds an IANA zone; null when unknown.</summary>
    public static TimeZoneInfo? FindZone(string id)
    {
        if (id.Length == 0)
        {
            return null;
        }
        try
        {
            return TimeZoneInfo.FindSystemTimeZoneById(id);
        }
        catch (TimeZoneNotFoundException)
        {
            return null;
        }
        catch (InvalidTimeZoneException)
        {
            return null;
        }
    }

    private static JsonDocument Open(ReadOnlyMemory<byte> utf8)
    {
        try
        {
            return JsonDocument.Parse(utf8, DocumentOptions);
        }
        catch (JsonException ex)
        {
            // With UseSystemResourceKeys (AOT, size) the runtime's text is only a resource key: give the position when
            // there is one, else the key (it names a duplicated member, for example).
            var reason = ex.LineNumber is { } line
                ? string.Create(CultureInfo.InvariantCulture, $"not valid JSON at line {line + 1}, byte {(ex.BytePositionInLine ?? 0) + 1}")
                : $"not valid JSON: {OneLine(ex.Message)}";
            throw new FactorInputException(string.Empty, reason);
        }
    }

    private static string OneLine(string text) => text.ReplaceLineEndings(" ");

    private static void RequireObject(JsonElement e, string path)
    {
        if (e.ValueKind != JsonValueKind.Object)
        {
            throw new FactorInputException(path, "must be an object");
        }
    }

    private static JsonElement Required(JsonElement obj, string name, string path) =>
        obj.TryGetProperty(name, out var value) && value.ValueKind != JsonValueKind.Null
            ? value
            : throw new FactorInputException(path, "required");

    private static JsonElement? Optional(JsonElement obj, string name) =>
        obj.TryGetProperty(name, out var value) && value.ValueKind != JsonValueKind.Null ? value : null;

    private static string String(JsonElement e, string path) =>
        e.ValueKind == JsonValueKind.String ? e.GetString()! : throw new FactorInputException(path, "must be a string");

    private static decimal Dec(JsonElement obj, string name, string path) =>
        Decimal(Required(obj, name, $"{path}.{name}"), $"{path}.{name}");

    private static decimal NonNegative(JsonElement obj, string name, string path)
    {
        var value = Dec(obj, name, path);
        return value >= 0 ? value : throw new FactorInputException($"{path}.{name}", "must not be negative");
    }

    private static decimal Decimal(JsonElement e, string path)
    {
        if (e.ValueKind != JsonValueKind.Number)
        {
            throw new FactorInputException(path, "must be a number");
        }
        return e.TryGetDecimal(out var value) ? value : throw new FactorInputException(path, "number out of range");
    }

    private static long Integer(JsonElement e, string path)
    {
        var value = Decimal(e, path);
        if (value != decimal.Truncate(value) || value < long.MinValue || value > long.MaxValue)
        {
            throw new FactorInputException(path, "must be a whole number");
        }
        return (long)value;
    }

    private static DateTimeOffset Timestamp(JsonElement e, string path)
    {
        var text = String(e, path);
        return TryParseTimestamp(text, out var value)
            ? value
            : throw new FactorInputException(path, "must be an ISO-8601 timestamp with an offset (Z or ±hh:mm)");
    }
}
