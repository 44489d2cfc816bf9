using System.Text.Json;

namespace EdgeMeter.Economics;

/// <summary>
/// Token claims on the claim topic: a <see cref="SignedEnvelope"/> whose payload is the claim's canonical JSON,
/// signed by the device key. The ledger keeps the latest claim per device and month.
/// </summary>
public static class ClaimCodec
{
    /// <summary>Checks the device signed it and reads the month and total; false with a reason otherwise.</summary>
    public static bool TryVerify(ReadOnlySpan<byte> envelope, string device, out string month, out long totalTokens, out string reason)
    {
        month = "";
        totalTokens = 0;
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
            if (root.GetProperty("device").GetString() != device)
            {
                reason = "claim names another device";
                return false;
            }
            month = root.GetProperty("month").GetString() ?? "";
            totalTokens = root.GetProperty("result").GetProperty("totalTokens").GetInt64();
            return month.Length == 7;
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or FormatException or OverflowException)
        {
            reason = "malformed claim: " + e.Message;
            return false;
        }
    }
}
