using System.Buffers;
using System.Text;
using System.Text.Json;
using EdgeMeter.Crypto.Keys;
using EdgeMeter.Crypto.Signing;

namespace EdgeMeter.Economics;

/// <summary>
/// A JSON payload signed as an Ethereum personal message (EIP-191, what ethers' <c>signMessage</c> makes):
/// <c>{"payload":"&lt;the exact JSON text&gt;","signature":"0x…65 bytes"}</c>. The payload travels as a string so the
/// signed bytes are exactly the bytes received. Used for operator parameters and events (downlink) and for the
/// device's token claims (uplink).
/// </summary>
public static class SignedEnvelope
{
    /// <summary>Signs <paramref name="payloadUtf8"/> (EIP-191 personal message) with <paramref name="key"/> and wraps both in an envelope.</summary>
    public static byte[] Create(ReadOnlySpan<byte> payloadUtf8, IDeviceKey key)
    {
        Span<byte> digest = stackalloc byte[32];
        Eip191.HashPersonalMessage(payloadUtf8, digest);
        Span<byte> signature = stackalloc byte[65];
        key.SignDigest(digest, signature);
        var buffer = new ArrayBufferWriter<byte>(payloadUtf8.Length + 200);
        // Relaxed escaping keeps the embedded JSON readable ("\"" rather than "\u0022"); the reader unescapes either.
        using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            w.WriteStartObject();
            w.WriteString("payload", Encoding.UTF8.GetString(payloadUtf8));
            w.WriteString("signature", "0x" + Convert.ToHexStringLower(signature));
            w.WriteEndObject();
        }
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>
    /// Opens an envelope and recovers who signed it. False, with a reason, for anything malformed; whether the
    /// signer is the right one is the caller's decision.
    /// </summary>
    public static bool TryOpen(ReadOnlySpan<byte> envelope, out byte[] payload, out string signer, out string reason)
    {
        payload = [];
        signer = "";
        try
        {
            var reader = new Utf8JsonReader(envelope);
            using var doc = JsonDocument.ParseValue(ref reader);
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object
                || !root.TryGetProperty("payload", out var p) || p.ValueKind != JsonValueKind.String
                || !root.TryGetProperty("signature", out var s) || s.ValueKind != JsonValueKind.String)
            {
                reason = "not a signed envelope (needs string fields payload and signature)";
                return false;
            }
            var hex = s.GetString()!;
            if (!hex.StartsWith("0x", StringComparison.OrdinalIgnoreCase) || hex.Length != 132)
            {
                reason = "signature: must be 0x and 65 bytes of hex";
                return false;
            }
            var signature = Convert.FromHexString(hex.AsSpan(2));
            payload = Encoding.UTF8.GetBytes(p.GetString()!);
            Span<byte> digest = stackalloc byte[32];
            Eip191.HashPersonalMessage(payload, digest);
            if (!SignatureRecovery.TryRecoverAddress(digest, signature, out signer))
            {
                reason = "signature: does not recover to any key";
                return false;
            }
            reason = "";
            return true;
        }
        catch (Exception e) when (e is JsonException or FormatException)
        {
            reason = "malformed envelope: " + e.Message;
            return false;
        }
    }
}
