using System.Globalization;
using System.Text.Json;

namespace EdgeMeter.Economics;

/// <summary>What a ledger needs from a claim before recomputing it: its scope and the figures it claims.</summary>
/// <param name="Device">The claiming device.</param>
/// <param name="Month">The month claimed.</param>
/// <param name="ParamsVersion">The parameter set version the device used.</param>
/// <param name="IntervalMinutes">The device's interval length.</param>
/// <param name="Through">Intervals starting before this instant are counted.</param>
/// <param name="Readings">The reading ranges the claim names.</param>
/// <param name="CongestionCarryIn">The carry the device took from the previous month.</param>
/// <param name="TotalTokens">The claimed total.</param>
/// <param name="Payload">The exact signed claim bytes.</param>
public sealed record ClaimHeader(
    string Device,
    FactorMonth Month,
    long ParamsVersion,
    int IntervalMinutes,
    DateTimeOffset Through,
    IReadOnlyList<ReadingRange> Readings,
    decimal CongestionCarryIn,
    long TotalTokens,
    byte[] Payload)
{
    /// <summary>The lowest and highest sequence number the claim's ranges name; (0, 0) when it names none.</summary>
    public (ulong First, ulong Last) SequenceSpan =>
        Readings.Count == 0 ? (0UL, 0UL) : (Readings.Min(r => r.FirstSequence), Readings.Max(r => r.LastSequence));
}

/// <summary>
/// Token claims on the claim topic: a <see cref="SignedEnvelope"/> whose payload is the claim's canonical JSON
/// (<see cref="TokenClaim.ToCanonicalJson"/>), signed by the device key.
/// </summary>
public static class ClaimCodec
{
    /// <summary>Checks the device signed it and reads its scope; false with a reason otherwise.</summary>
    public static bool TryVerify(ReadOnlySpan<byte> envelope, string device, out ClaimHeader? claim, out string reason)
    {
        claim = null;
        if (!SignedEnvelope.TryOpen(envelope, out var payload, out var signer, out reason))
            return false;
        if (!string.Equals(signer, device, StringComparison.Ordinal))
        {
            reason = $"claim signed by {signer}, not by the device {device}";
            return false;
        }
        try
        {
            using var doc = JsonDocument.Parse(payload);
            var root = doc.RootElement;
            if (root.GetProperty("type").GetString() != TokenClaim.TypeName || root.GetProperty("version").GetInt32() != TokenClaim.FormatVersion)
            {
                reason = $"not a version {TokenClaim.FormatVersion} token claim";
                return false;
            }
            if (root.GetProperty("device").GetString() != device)
            {
                reason = "claim names another device";
                return false;
            }
            if (!FactorMonth.TryParse(root.GetProperty("month").GetString(), out var month))
            {
                reason = "month: must be YYYY-MM";
                return false;
            }
            if (root.GetProperty("intervalMinutes").ValueKind != JsonValueKind.Number || root.GetProperty("through").ValueKind != JsonValueKind.String)
            {
                reason = "a claim from readings names intervalMinutes and through";
                return false;
            }
            if (!FactorJson.TryParseTimestamp(root.GetProperty("through").GetString()!, out var through))
            {
                reason = "through: not a timestamp";
                return false;
            }
            var ranges = new List<ReadingRange>();
            foreach (var r in root.GetProperty("readings").EnumerateArray())
            {
                var range = new ReadingRange(r.GetProperty("meterId").GetString()!, r.GetProperty("obis").GetString()!,
                    r.GetProperty("firstSequence").GetUInt64(), r.GetProperty("lastSequence").GetUInt64());
                if (range.FirstSequence == 0 || range.LastSequence < range.FirstSequence)
                {
                    reason = "readings: a range must run forward from sequence 1 or later";
                    return false;
                }
                ranges.Add(range);
            }
            claim = new ClaimHeader(
                device,
                month,
                root.GetProperty("paramsVersion").GetInt64(),
                root.GetProperty("intervalMinutes").GetInt32(),
                through,
                ranges,
                decimal.Parse(root.GetProperty("congestionCarryIn").GetString()!, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture),
                root.GetProperty("result").GetProperty("totalTokens").GetInt64(),
                payload);
            return true;
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or FormatException or OverflowException or ArgumentNullException)
        {
            reason = "malformed claim: " + e.Message;
            return false;
        }
    }

    /// <summary>
    /// Recomputes a claim the way a ledger (or an auditor) does: every reading of the device with a sequence number in
    /// the claim's span (<see cref="ClaimHeader.SequenceSpan"/>, all meters, not only the ranges it lists, so leaving a
    /// meter out shows), accumulated into the claim's interval length, over the intervals before its
    /// <see cref="ClaimHeader.Through"/>, with the parameters, events and carry in force at the verifier.
    /// </summary>
    /// <param name="claim">The claim's scope.</param>
    /// <param name="readings">The device's readings in the span, in sequence order.</param>
    /// <param name="p">The parameters in force.</param>
    /// <param name="events">The events in force.</param>
    /// <param name="congestionCarryIn">The carry out of the verifier's previous final claim of the device (0 before the first).</param>
    public static TokenClaim Recompute(ClaimHeader claim, IEnumerable<EdgeMeter.Crypto.Records.ReadingRecord> readings, FactorParams p, IReadOnlyList<FactorEvent> events, decimal congestionCarryIn)
    {
        ArgumentNullException.ThrowIfNull(claim);
        ArgumentNullException.ThrowIfNull(readings);
        var (first, last) = claim.SequenceSpan;
        var accumulator = new IntervalAccumulator(claim.IntervalMinutes);
        foreach (var reading in readings)
        {
            if (reading.Device == claim.Device && reading.Sequence >= first && reading.Sequence <= last)
                accumulator.Add(reading);
        }
        return accumulator.BuildClaimThrough(claim.Device, claim.Month, p, events, congestionCarryIn, claim.Through);
    }

    /// <summary>
    /// Compares a claim with the ledger's recomputation of it: null when they are the same bytes, else a reason that
    /// shows both totals and the first member that differs with both values.
    /// </summary>
    public static string? Compare(ClaimHeader claimed, TokenClaim recomputed)
    {
        ArgumentNullException.ThrowIfNull(claimed);
        ArgumentNullException.ThrowIfNull(recomputed);
        var mine = recomputed.ToCanonicalJson();
        if (mine.AsSpan().SequenceEqual(claimed.Payload))
            return null;
        var where = FirstDifference(claimed.Payload, mine);
        return string.Create(CultureInfo.InvariantCulture,
            $"claimed {claimed.TotalTokens} tokens, recomputed {recomputed.Result.TotalTokens}{where}");
    }

    private static string FirstDifference(byte[] claimed, byte[] recomputed)
    {
        try
        {
            using var a = JsonDocument.Parse(claimed);
            using var b = JsonDocument.Parse(recomputed);
            return Walk(a.RootElement, b.RootElement, "") is { } d ? "; first difference " + d : "";
        }
        catch (JsonException)
        {
            return "";
        }

        static string? Walk(JsonElement x, JsonElement y, string path)
        {
            if (x.ValueKind == JsonValueKind.Object && y.ValueKind == JsonValueKind.Object)
            {
                foreach (var p in y.EnumerateObject())
                {
                    if (!x.TryGetProperty(p.Name, out var xv))
                        return $"{path}{p.Name}: missing in the claim";
                    if (Walk(xv, p.Value, $"{path}{p.Name}.") is { } d)
                        return d;
                }
                return null;
            }
            var xs = x.GetRawText();
            var ys = y.GetRawText();
            return xs == ys ? null : $"{path.TrimEnd('.')}: claimed {Short(xs)}, recomputed {Short(ys)}";
        }

        static string Short(string s) => s.Length <= 80 ? s : s[..77] + "...";
    }
}
