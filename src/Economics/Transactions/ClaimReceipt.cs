using EdgeMeter.Crypto.Hashing;
using System.Buffers;
using System.Globalization;
using System.Text.Json;

namespace EdgeMeter.Economics;

/// <summary>The ledger's verdict on a claim, sent signed (<see cref="SignedEnvelope"/>) on the claim-receipt topic.</summary>
/// <param name="Device">The claiming device.</param>
/// <param name="Month">The claimed month.</param>
/// <param name="ClaimHash">Hex SHA-256 of the claim payload (<see cref="ClaimReceipt.HashOf"/>), so the device knows which claim it answers.</param>
/// <param name="Accepted">True when the recomputation matched and the claim was credited (or already had been).</param>
/// <param name="ClaimedTokens">The total the claim named.</param>
/// <param name="RecomputedTokens">The total the ledger recomputed.</param>
/// <param name="Reason">Why it was rejected (both figures in it); null when accepted.</param>
public sealed record ClaimReceipt(string Device, string Month, string ClaimHash, bool Accepted, long ClaimedTokens, long RecomputedTokens, string? Reason)
{
    /// <summary>Hex SHA-256 of a claim's payload bytes.</summary>
    public static string HashOf(ReadOnlySpan<byte> claimPayload) => Convert.ToHexStringLower(Sha256.HashData(claimPayload));

    /// <summary>The receipt's JSON: <c>{"type":"claim-receipt","device","month","claimHash","status","claimed","recomputed","reason"?}</c>.</summary>
    public byte[] Encode()
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteString("type", "claim-receipt");
            w.WriteString("device", Device);
            w.WriteString("month", Month);
            w.WriteString("claimHash", ClaimHash);
            w.WriteString("status", Accepted ? "accepted" : "rejected");
            w.WriteNumber("claimed", ClaimedTokens);
            w.WriteNumber("recomputed", RecomputedTokens);
            if (Reason is not null)
                w.WriteString("reason", Reason);
            w.WriteEndObject();
        }
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>Parses a claim receipt; throws <see cref="FormatException"/>.</summary>
    public static ClaimReceipt Decode(ReadOnlySpan<byte> json)
    {
        try
        {
            var reader = new Utf8JsonReader(json);
            using var doc = JsonDocument.ParseValue(ref reader);
            var r = doc.RootElement;
            if (r.GetProperty("type").GetString() != "claim-receipt")
                throw new FormatException("type: not a claim receipt");
            var status = r.GetProperty("status").GetString();
            if (status is not ("accepted" or "rejected"))
                throw new FormatException("status: must be accepted or rejected");
            return new ClaimReceipt(
                r.GetProperty("device").GetString() ?? "",
                r.GetProperty("month").GetString() ?? "",
                r.GetProperty("claimHash").GetString() ?? "",
                status == "accepted",
                r.GetProperty("claimed").GetInt64(),
                r.GetProperty("recomputed").GetInt64(),
                r.TryGetProperty("reason", out var reason) ? reason.GetString() : null);
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException)
        {
            throw new FormatException($"malformed claim receipt: {e.Message}", e);
        }
    }

    /// <inheritdoc/>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"{Month} {(Accepted ? "accepted" : "rejected")}: claimed {ClaimedTokens}, recomputed {RecomputedTokens}{(Reason is null ? "" : " (" + Reason + ")")}");
}
