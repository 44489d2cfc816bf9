using System.Text;
using EdgeMeter.Agent.Status;
using EdgeMeter.Agent.Storage;
using EdgeMeter.Crypto.Files;
using EdgeMeter.Crypto.Records;
using EdgeMeter.Economics;
using Microsoft.Extensions.Logging;

namespace EdgeMeter.Agent.Factors;

/// <summary>
/// The agent's live side of the token economy: accumulates the signed energy readings into intervals, keeps the
/// factor parameters and the grid events, and builds the month's claim. Parameters and events change only through
/// messages signed by the operator recorded at pairing; anything else is rejected and logged, and changes nothing.
/// Accepted parameters and events are kept in the data directory, so a restart does not fall back to defaults.
/// </summary>
internal sealed partial class FactorService
{
    public const string ParamsFile = "factor-params.json";
    public const string EventsFile = "factor-events.json";
    public const string StateFile = "factor-state.json";

    /// <summary>Development defaults until the operator sends parameters; a consumer in UTC.</summary>
    public const string DefaultParamsJson = FactorParams.DevelopmentDefaultsJson;

    private readonly string _dataDirectory;
    private readonly Func<string?> _operatorAddress;
    private readonly ILogger<FactorService> _log;
    private readonly Lock _gate = new();
    private readonly List<FactorEvent> _events = [];
    private long _eventsVersion;

    public FactorService(string dataDirectory, int intervalMinutes, bool includeCurrentInterval, Func<string?> operatorAddress, ILogger<FactorService> log)
    {
        _dataDirectory = dataDirectory;
        _operatorAddress = operatorAddress;
        _log = log;
        Accumulator = new IntervalAccumulator(intervalMinutes);
        IncludeCurrentInterval = includeCurrentInterval;
        var paramsPath = Path.Combine(dataDirectory, ParamsFile);
        Params = FactorJson.ParseParams(File.Exists(paramsPath) ? File.ReadAllBytes(paramsPath) : Encoding.UTF8.GetBytes(DefaultParamsJson));
        var statePath = Path.Combine(dataDirectory, StateFile);
        if (File.Exists(statePath))
        {
            try
            {
                using var doc = System.Text.Json.JsonDocument.Parse(File.ReadAllBytes(statePath));
                if (!Accumulator.TryLoadSnapshot(doc.RootElement))
                    LogStateIgnored("it does not match the configured interval length");
            }
            catch (System.Text.Json.JsonException e)
            {
                LogStateIgnored(e.Message);
            }
        }
        var eventsPath = Path.Combine(dataDirectory, EventsFile);
        if (File.Exists(eventsPath))
        {
            var saved = File.ReadAllBytes(eventsPath);
            using var doc = System.Text.Json.JsonDocument.Parse(saved);
            if (doc.RootElement.ValueKind == System.Text.Json.JsonValueKind.Object && doc.RootElement.TryGetProperty("events", out var list))
            {
                _eventsVersion = doc.RootElement.GetProperty("version").GetInt64();
                _events.AddRange(FactorJson.ParseEvents(list, "events"));
            }
            else
            {
                _events.AddRange(FactorJson.ParseEvents(saved));
            }
        }
    }

    /// <summary>This device's address: operator messages must name it (or one of <see cref="Groups"/>).</summary>
    public string Device { get; init; } = "";

    /// <summary>The chain operator messages must name.</summary>
    public ulong ChainId { get; init; }

    /// <summary>The named device groups this gateway belongs to.</summary>
    public IReadOnlyCollection<string> Groups { get; init; } = [];

    /// <summary>Clock for the validity windows of operator messages.</summary>
    public TimeProvider Time { get; init; } = TimeProvider.System;

    /// <summary>
    /// The congestion carry into the running month: the carry out of the last closed month's final claim (0 before
    /// the first), so the carry flows from each month into the next.
    /// </summary>
    public decimal CongestionCarryIn { get; set; }

    public IntervalAccumulator Accumulator { get; }

    /// <summary>Count the interval in progress too (the demo, whose minutes are short); claims at month end never need it.</summary>
    public bool IncludeCurrentInterval { get; }

    public FactorParams Params { get; private set; }

    public IReadOnlyList<FactorEvent> Events
    {
        get
        {
            lock (_gate)
                return [.. _events];
        }
    }

    /// <summary>
    /// Writes the accumulated month to the data directory (atomically). With the records stored after
    /// <see cref="IntervalAccumulator.ThroughSequence"/> replayed at start, a restart loses nothing of the month.
    /// </summary>
    public void SaveState()
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>(64 * 1024);
        using (var w = new System.Text.Json.Utf8JsonWriter(buffer))
            Accumulator.WriteSnapshot(w);
        AtomicFile.Write(Path.Combine(_dataDirectory, StateFile), buffer.WrittenSpan);
    }

    /// <summary>Feeds a cycle's signed readings.</summary>
    public void Add(IReadOnlyList<SignedReading> readings)
    {
        foreach (var r in readings)
        {
            if (r.Reading is { } reading)
                Accumulator.Add(reading);
        }
    }

    public ProvisionalTokens? Provisional() => Accumulator.Provisional(Params, Events, CongestionCarryIn, now: null, includeCurrent: IncludeCurrentInterval);

    /// <summary>The claim for the month of <paramref name="at"/> (default: the newest reading), or null before any reading.</summary>
    public TokenClaim? BuildClaim(string device, DateTimeOffset? at = null)
    {
        if ((at ?? Accumulator.LatestReadingTime) is not { } when)
            return null;
        return Accumulator.BuildClaim(device, FactorMonth.Of(when, Params.TimeZone), Params, Events, CongestionCarryIn, includeCurrent: IncludeCurrentInterval);
    }

    /// <summary>
    /// Handles a downlink message on the params or events topic. Returns true when it was accepted.
    /// </summary>
    public bool HandleOperatorMessage(string kind, ReadOnlySpan<byte> envelope)
    {
        var operatorAddress = _operatorAddress();
        if (operatorAddress is null)
        {
            LogRejected(kind, "the gateway is not paired, so no operator key is known");
            return false;
        }
        long inForce;
        lock (_gate)
            inForce = kind == "events" ? _eventsVersion : Params.Version;
        if (!OperatorMessage.TryOpen(envelope, operatorAddress, ChainId, Device, Groups, Time.GetUtcNow(), inForce, out var payload, out var scope, out var reason))
        {
            // The pairing's own wording for a stranger's signature.
            LogRejected(kind, reason.StartsWith("signed by ", StringComparison.Ordinal) ? reason.Replace("by the operator", "by the paired operator", StringComparison.Ordinal) : reason);
            return false;
        }
        try
        {
            if (kind == "params")
                return AcceptParams(payload);
            if (kind == "events")
                return AcceptEvents(payload, scope!.Version);
            LogRejected(kind, "unknown message kind");
            return false;
        }
        catch (FactorInputException e)
        {
            LogRejected(kind, $"{e.Field}: {e.Reason}");
            return false;
        }
    }

    private bool AcceptParams(byte[] payload)
    {
        var incoming = FactorJson.ParseParams(payload);
        lock (_gate)
        {
            AtomicFile.Write(Path.Combine(_dataDirectory, ParamsFile), payload);
            Params = incoming;
        }
        LogParamsAccepted(incoming.Version);
        return true;
    }

    private bool AcceptEvents(byte[] payload, long version)
    {
        var incoming = OperatorMessage.ReadEvents(payload);
        lock (_gate)
        {
            var added = 0;
            foreach (var e in incoming)
            {
                if (_events.Any(x => x.Id == e.Id))
                    continue;
                _events.Add(e);
                added++;
            }
            _eventsVersion = version;
            var buffer = new System.Buffers.ArrayBufferWriter<byte>(256);
            using (var w = new System.Text.Json.Utf8JsonWriter(buffer))
            {
                w.WriteStartObject();
                w.WriteNumber("version", version);
                w.WritePropertyName("events");
                w.WriteRawValue(FactorJson.WriteEvents(_events));
                w.WriteEndObject();
            }
            AtomicFile.Write(Path.Combine(_dataDirectory, EventsFile), buffer.WrittenSpan);
            LogEventsAccepted(added, _events.Count);
        }
        return true;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Ignored the saved factor state ({Reason}); the month restarts from the stored readings")]
    private partial void LogStateIgnored(string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Rejected operator {Kind} message: {Reason}; nothing changed")]
    private partial void LogRejected(string kind, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Accepted operator parameters version {Version}")]
    private partial void LogParamsAccepted(long version);

    [LoggerMessage(Level = LogLevel.Information, Message = "Accepted {Added} operator events ({Total} known)")]
    private partial void LogEventsAccepted(int added, int total);
}
