using System.Buffers;
using System.Globalization;
using System.Text.Json;

namespace EdgeMeter.Economics;

/// <summary>
/// The signed readings of one meter register a claim is computed from: every reading of the claiming device with this
/// meter id and OBIS code and a sequence number in [<see cref="FirstSequence"/>, <see cref="LastSequence"/>].
/// </summary>
/// <param name="MeterId">The meter's configured identity.</param>
/// <param name="Obis">The register, OBIS reduced-ID text.</param>
/// <param name="FirstSequence">First sequence number used (the anchor of the first interval's difference).</param>
/// <param name="LastSequence">Last sequence number used.</param>
public sealed record ReadingRange(string MeterId, string Obis, ulong FirstSequence, ulong LastSequence);

/// <summary>
/// A month's token claim: everything needed to recompute it (which readings, which events, which parameters, the
/// baselines used) and the resulting factors and tokens. The lead signs keccak256 of <see cref="ToCanonicalJson"/>.
/// </summary>
public sealed record TokenClaim
{
    /// <summary>Value of the <c>type</c> member.</summary>
    public const string TypeName = "edgemeter.token-claim";

    /// <summary>Layout version of the canonical JSON; bump on any change of members or their order.</summary>
    public const int FormatVersion = 1;

    /// <summary>The claiming device's address (0x-prefixed lower-case hex).</summary>
    public required string Device { get; init; }

    /// <summary>The zone the month was taken in.</summary>
    public required string TimeZoneId { get; init; }

    /// <summary>Consumer or producer.</summary>
    public required FactorRole Role { get; init; }

    /// <summary>The operator's parameter set version used.</summary>
    public required long ParamsVersion { get; init; }

    /// <summary>S_permit used (producer), else null.</summary>
    public decimal? SPermit { get; init; }

    /// <summary>S used (producer), else null.</summary>
    public decimal? S { get; init; }

    /// <summary>Length of the accumulated intervals in minutes; null when the intervals came from elsewhere (a scenario).</summary>
    public int? IntervalMinutes { get; init; }

    /// <summary>The readings the intervals were built from.</summary>
    public required IReadOnlyList<ReadingRange> Readings { get; init; }

    /// <summary>The events taken into account.</summary>
    public required IReadOnlyList<FactorEvent> Events { get; init; }

    /// <summary>The computed month, with its energies, baselines, factors and tokens.</summary>
    public required FactorResult Result { get; init; }

    /// <summary>Builds a claim from a computation.</summary>
    public static TokenClaim Create(
        string device,
        FactorParams p,
        FactorResult result,
        IReadOnlyList<FactorEvent> events,
        IReadOnlyList<ReadingRange> readings,
        int? intervalMinutes = null) => new()
        {
            Device = device,
            TimeZoneId = p.TimeZoneId,
            Role = p.Role,
            ParamsVersion = p.Version,
            SPermit = p.Role == FactorRole.Producer ? p.SPermit : null,
            S = p.Role == FactorRole.Producer ? p.S : null,
            IntervalMinutes = intervalMinutes,
            Readings = readings,
            Events = events,
            Result = result,
        };

    /// <summary>
    /// The canonical UTF-8 JSON: no whitespace, members in a fixed order, lists sorted (readings by meter and OBIS,
    /// events by start then id, baselines as computed), decimals as strings of their exact value without trailing
    /// zeros, instants as UTC <c>yyyy-MM-ddTHH:mm:ss[.fffffff]Z</c>. The same claim always gives the same bytes.
    /// </summary>
    public byte[] ToCanonicalJson()
    {
        var buffer = new ArrayBufferWriter<byte>(2048);
        using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = false, SkipValidation = false }))
        {
            var r = Result;
            w.WriteStartObject();
            w.WriteString("type", TypeName);
            w.WriteNumber("version", FormatVersion);
            w.WriteString("device", Device);
            w.WriteString("month", r.Month.ToString());
            w.WriteString("timeZone", TimeZoneId);
            w.WriteString("role", Role == FactorRole.Producer ? "producer" : "consumer");
            w.WriteNumber("paramsVersion", ParamsVersion);
            WriteDecimalOrNull(w, "sPermit", SPermit);
            WriteDecimalOrNull(w, "s", S);
            if (IntervalMinutes is { } minutes)
            {
                w.WriteNumber("intervalMinutes", minutes);
            }
            else
            {
                w.WriteNull("intervalMinutes");
            }

            w.WriteStartArray("readings");
            foreach (var range in Readings.OrderBy(x => x.MeterId, StringComparer.Ordinal).ThenBy(x => x.Obis, StringComparer.Ordinal).ThenBy(x => x.FirstSequence))
            {
                w.WriteStartObject();
                w.WriteString("meterId", range.MeterId);
                w.WriteString("obis", range.Obis);
                w.WriteNumber("firstSequence", range.FirstSequence);
                w.WriteNumber("lastSequence", range.LastSequence);
                w.WriteEndObject();
            }
            w.WriteEndArray();

            w.WriteStartArray("events");
            foreach (var ev in Events.OrderBy(x => x.Start.UtcTicks).ThenBy(x => x.Id, StringComparer.Ordinal))
            {
                w.WriteStartObject();
                w.WriteString("id", ev.Id);
                w.WriteString("kind", FactorEvent.KindName(ev.Kind));
                w.WriteString("start", Instant(ev.Start));
                w.WriteString("end", Instant(ev.End));
                w.WriteEndObject();
            }
            w.WriteEndArray();

            w.WriteString("congestionCarryIn", FactorDecimal.Format(r.CongestionCarryIn));
            w.WriteNumber("intervalCount", r.IntervalCount);
            w.WriteStartObject("energy");
            w.WriteString("elecKwh", FactorDecimal.Format(r.ElecKwh));
            w.WriteString("cleanElecKwh", FactorDecimal.Format(r.CleanElecKwh));
            w.WriteString("heatKwh", FactorDecimal.Format(r.HeatKwh));
            w.WriteString("cleanHeatKwh", FactorDecimal.Format(r.CleanHeatKwh));
            w.WriteEndObject();

            w.WriteStartArray("baselines");
            foreach (var b in r.Baselines)
            {
                w.WriteStartObject();
                w.WriteString("start", Instant(b.Start));
                w.WriteNumber("minutes", b.Minutes);
                w.WriteString("kind", FactorEvent.KindName(b.Kind));
                w.WriteString("eventId", b.EventId);
                w.WriteString("method", b.Method switch
                {
                    BaselineMethod.History => "history",
                    BaselineMethod.Window => "window",
                    _ => "own",
                });
                w.WriteNumber("samples", b.SampleCount);
                w.WriteString("baselineKwh", FactorDecimal.Format(b.BaselineKwh));
                w.WriteString("actualKwh", FactorDecimal.Format(b.ActualKwh));
                w.WriteString("reductionKwh", FactorDecimal.Format(b.ReductionKwh));
                w.WriteString("deltaPKw", FactorDecimal.Format(b.DeltaPKw));
                w.WriteString("stepFactor", FactorDecimal.Format(b.StepFactor));
                w.WriteEndObject();
            }
            w.WriteEndArray();

            w.WriteStartObject("result");
            w.WriteString("cleanShare", FactorDecimal.Format(r.CleanShare));
            w.WriteString("fDemand", FactorDecimal.Format(r.FDemand));
            WriteDecimalOrNull(w, "fSupply", r.FSupply);
            w.WriteString("eDrKwh", FactorDecimal.Format(r.EDrKwh));
            w.WriteString("congestionFactor", FactorDecimal.Format(r.CongestionFactor));
            w.WriteString("congestionCarryOut", FactorDecimal.Format(r.CongestionCarryOut));
            w.WriteNumber("carbonTokens", r.CarbonTokens);
            w.WriteNumber("congestionTokens", r.CongestionTokens);
            w.WriteNumber("totalTokens", r.TotalTokens);
            w.WriteEndObject();
            w.WriteEndObject();
        }
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>UTC, whole seconds without a fraction, otherwise up to 7 fractional digits without trailing zeros.</summary>
    internal static string Instant(DateTimeOffset t)
    {
        var utc = t.UtcDateTime;
        var format = utc.Ticks % TimeSpan.TicksPerSecond == 0 ? "yyyy-MM-dd'T'HH:mm:ss'Z'" : "yyyy-MM-dd'T'HH:mm:ss.FFFFFFF'Z'";
        return utc.ToString(format, CultureInfo.InvariantCulture);
    }

    private static void WriteDecimalOrNull(Utf8JsonWriter w, string name, decimal? value)
    {
        if (value is { } v)
        {
            w.WriteString(name, FactorDecimal.Format(v));
        }
        else
        {
            w.WriteNull(name);
        }
    }
}
