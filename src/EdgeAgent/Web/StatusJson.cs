using System.Text.Json;
using EdgeMeter.Agent.Pairing;
using EdgeMeter.Agent.Status;
using EdgeMeter.Crypto.Records;

namespace EdgeMeter.Agent.Web;

/// <summary>
/// The JSON of <c>/api/status</c> and <c>/api/pair</c>, written by hand (no reflection). Property names are the
/// page's contract; the pairing code and anything secret are never written.
/// </summary>
internal static class StatusJson
{
    /// <summary>Writes the owner's status object.</summary>
    public static void WriteStatus(Utf8JsonWriter w, AgentStatus s, PairingState pairing, IReadOnlyList<(string Line1, string Line2)>? lcd = null)
    {
        w.WriteStartObject();
        w.WriteBoolean("owner", true);
        WriteNullable(w, "timeZone", s.TimeZone);
        WriteNullable(w, "lastReceiptAt", s.LastReceiptAt);
        w.WriteStartArray("lcd");
        foreach (var (line1, line2) in lcd ?? [])
        {
            w.WriteStartArray();
            w.WriteStringValue(line1);
            w.WriteStringValue(line2);
            w.WriteEndArray();
        }

        w.WriteEndArray();
        w.WriteString("deviceAddress", s.DeviceAddress);
        w.WriteString("version", s.Version);
        w.WriteString("timestamp", s.Timestamp);
        w.WriteString("timeStatus", TimeStatusName(s.TimeStatus));
        w.WriteBoolean("uplinkConnected", s.UplinkConnected);

        // Confirmed (ledger) and provisional (local estimate) are separate objects so that no client can mix them up.
        w.WritePropertyName("confirmedBalance");
        if (s.ConfirmedBalance is { } balance)
        {
            w.WriteNumberValue(balance);
        }
        else
        {
            w.WriteNullValue();
        }

        w.WritePropertyName("provisional");
        if (s.Provisional is { } p)
        {
            w.WriteStartObject();
            w.WriteString("month", p.Month);
            w.WriteNumber("cleanShare", p.CleanShare);
            w.WriteNumber("fDemand", p.FDemand);
            w.WritePropertyName("fSupply");
            if (p.FSupply is { } fs)
            {
                w.WriteNumberValue(fs);
            }
            else
            {
                w.WriteNullValue();
            }

            w.WriteNumber("congestionFactor", p.CongestionFactor);
            w.WriteNumber("carbonTokens", p.CarbonTokens);
            w.WriteNumber("congestionTokens", p.CongestionTokens);
            w.WriteNumber("totalTokens", p.TotalTokens);
            w.WriteEndObject();
        }
        else
        {
            w.WriteNullValue();
        }

        w.WriteStartArray("meters");
        foreach (var m in s.Meters)
        {
            w.WriteStartObject();
            w.WriteString("id", m.MeterId);
            w.WriteString("source", SourceName(m.Source));
            w.WriteBoolean("clean", m.Clean);
            w.WriteBoolean("online", m.Online);
            WriteNullable(w, "lastReadingAt", m.LastReadingAt);
            WriteNullable(w, "activePowerW", m.ActivePowerW);
            WriteNullable(w, "energyKwh", m.EnergyKwh);
            w.WriteNumber("requests", m.Requests);
            w.WriteNumber("timeouts", m.Timeouts);
            w.WriteNumber("errors", m.Errors);
            w.WriteNumber("crcErrors", m.CrcErrors);
            w.WriteNumber("exceptions", m.Exceptions);
            w.WriteNumber("meanLatencyMs", Math.Round(m.MeanLatencyMs, 2));
            w.WriteString("breaker", m.Breaker);
            w.WriteEndObject();
        }

        w.WriteEndArray();

        var c = s.Counters;
        w.WriteStartObject("counters");
        w.WriteNumber("readings", c.Readings);
        w.WriteNumber("signed", c.Signed);
        w.WriteNumber("stored", c.Stored);
        w.WriteNumber("published", c.Published);
        w.WriteNumber("confirmed", c.Confirmed);
        w.WriteNumber("outboxPending", c.OutboxPending);
        w.WriteNumber("droppedUnsigned", c.DroppedUnsigned);
        w.WriteEndObject();

        w.WritePropertyName("pairing");
        WritePairing(w, pairing, owner: true);
        w.WriteEndObject();
    }

    /// <summary>
    /// The read-only summary a visitor sees without a session when the owner turned it on: live power and energy
    /// per meter, the clean share and the balances; no addresses, counters, health or pairing details.
    /// </summary>
    public static void WriteSummary(Utf8JsonWriter w, AgentStatus s)
    {
        w.WriteStartObject();
        w.WriteBoolean("owner", false);
        WriteNullable(w, "timeZone", s.TimeZone);
        w.WriteString("timestamp", s.Timestamp);
        w.WritePropertyName("confirmedBalance");
        if (s.ConfirmedBalance is { } balance)
        {
            w.WriteNumberValue(balance);
        }
        else
        {
            w.WriteNullValue();
        }

        w.WritePropertyName("provisional");
        if (s.Provisional is { } p)
        {
            w.WriteStartObject();
            w.WriteString("month", p.Month);
            w.WriteNumber("cleanShare", p.CleanShare);
            w.WriteNumber("totalTokens", p.TotalTokens);
            w.WriteEndObject();
        }
        else
        {
            w.WriteNullValue();
        }

        w.WriteStartArray("meters");
        foreach (var m in s.Meters)
        {
            w.WriteStartObject();
            w.WriteString("id", m.MeterId);
            w.WriteString("source", SourceName(m.Source));
            w.WriteBoolean("clean", m.Clean);
            w.WriteBoolean("online", m.Online);
            WriteNullable(w, "activePowerW", m.ActivePowerW);
            WriteNullable(w, "energyKwh", m.EnergyKwh);
            w.WriteEndObject();
        }

        w.WriteEndArray();
        w.WriteEndObject();
    }

    /// <summary>Writes the pairing state object (never the code); who the operator is only for the owner.</summary>
    public static void WritePairing(Utf8JsonWriter w, PairingState p, bool owner = false)
    {
        w.WriteStartObject();
        w.WriteBoolean("paired", p.Paired);
        w.WriteBoolean("owner", owner);
        WriteNullable(w, "operatorAddress", owner ? p.OperatorAddress : null);
        WriteNullable(w, "label", owner ? p.Label : null);
        WriteNullable(w, "pairedAt", owner ? p.PairedAt : null);
        w.WriteBoolean("awaitingPresence", p.AwaitingPresence);
        w.WriteBoolean("codeActive", p.CodeExpiresAt is not null);
        WriteNullable(w, "codeExpiresAt", p.CodeExpiresAt);
        w.WriteBoolean("locked", p.LockedUntil is not null);
        WriteNullable(w, "lockedUntil", p.LockedUntil);
        w.WriteNumber("attemptsLeft", p.AttemptsLeft);
        w.WriteEndObject();
    }

    private static void WriteNullable(Utf8JsonWriter w, string name, string? value)
    {
        if (value is null)
        {
            w.WriteNull(name);
        }
        else
        {
            w.WriteString(name, value);
        }
    }

    private static void WriteNullable(Utf8JsonWriter w, string name, DateTimeOffset? value)
    {
        if (value is { } v)
        {
            w.WriteString(name, v);
        }
        else
        {
            w.WriteNull(name);
        }
    }

    private static void WriteNullable(Utf8JsonWriter w, string name, decimal? value)
    {
        if (value is { } v)
        {
            w.WriteNumber(name, v);
        }
        else
        {
            w.WriteNull(name);
        }
    }

    /// <summary>The JSON name of an energy source.</summary>
    public static string SourceName(EnergySource source) => source switch
    {
        EnergySource.GridImport => "gridImport",
        EnergySource.GridExport => "gridExport",
        EnergySource.Pv => "pv",
        EnergySource.Battery => "battery",
        EnergySource.Wind => "wind",
        EnergySource.Chp => "chp",
        EnergySource.Heat => "heat",
        _ => "other",
    };

    private static string TimeStatusName(TimeStatus status) => status switch
    {
        TimeStatus.Synchronised => "synchronised",
        TimeStatus.Informative => "informative",
        TimeStatus.Relative => "relative",
        _ => "unsynchronised",
    };
}
