using System.Text.Json;

namespace EdgeMeter.Economics;

/// <summary>Whom and when an operator message is for: the members every operator payload carries.</summary>
/// <param name="ChainId">The chain it is for.</param>
/// <param name="Device">The one device it is for (0x lower case), or null when it names a group.</param>
/// <param name="Group">The named device group it is for, or null when it names a device.</param>
/// <param name="ValidFrom">Not accepted before this instant.</param>
/// <param name="ValidUntil">Not accepted at or after this instant.</param>
/// <param name="Version">Accepted only when greater than the version in force; never goes down.</param>
public sealed record OperatorScope(ulong ChainId, string? Device, string? Group, DateTimeOffset ValidFrom, DateTimeOffset ValidUntil, long Version);

/// <summary>
/// Operator parameters and events (downlink): a <see cref="SignedEnvelope"/> whose payload names the chain
/// (<c>chainId</c>), the device (<c>device</c>) or a device group (<c>group</c>), a validity window
/// (<c>validFrom</c>, <c>validUntil</c>, timestamps with an offset) and a <c>version</c> that only goes up. The gateway
/// and the ledger check them with the same rules, so one gateway's update cannot be replayed on another, on another
/// chain, after it expired, or to roll a newer one back.
/// </summary>
public static class OperatorMessage
{
    /// <summary>
    /// Opens and checks an operator message. False with a one-line reason when the signer is not
    /// <paramref name="operatorAddress"/>, or the scope names another chain, another device or a group not in
    /// <paramref name="groups"/> (null: any group), <paramref name="now"/> is outside the window, or the version is not
    /// greater than <paramref name="versionInForce"/>.
    /// </summary>
    public static bool TryOpen(
        ReadOnlySpan<byte> envelope,
        string operatorAddress,
        ulong chainId,
        string device,
        IReadOnlyCollection<string>? groups,
        DateTimeOffset now,
        long versionInForce,
        out byte[] payload,
        out OperatorScope? scope,
        out string reason)
    {
        scope = null;
        if (!SignedEnvelope.TryOpen(envelope, out payload, out var signer, out reason))
            return false;
        if (!string.Equals(signer, operatorAddress, StringComparison.OrdinalIgnoreCase))
        {
            reason = $"signed by {signer}, not by the operator {operatorAddress}";
            return false;
        }
        try
        {
            scope = ReadScope(payload);
        }
        catch (FactorInputException e)
        {
            reason = e.Message;
            return false;
        }
        if (scope.ChainId != chainId)
        {
            reason = $"chainId: for chain {scope.ChainId}, not this chain {chainId}";
            return false;
        }
        if (scope.Device is { } d && !string.Equals(d, device, StringComparison.OrdinalIgnoreCase))
        {
            reason = $"device: for {d}, not for {device}";
            return false;
        }
        if (scope.Group is { } g && groups is not null && !groups.Contains(g, StringComparer.Ordinal))
        {
            reason = $"group: for group '{g}', which this device is not in";
            return false;
        }
        if (now < scope.ValidFrom || now >= scope.ValidUntil)
        {
            reason = $"valid from {scope.ValidFrom:O} until {scope.ValidUntil:O}, not at {now:O}";
            return false;
        }
        if (scope.Version <= versionInForce)
        {
            reason = $"version {scope.Version} is not newer than the current {versionInForce}";
            return false;
        }
        reason = "";
        return true;
    }

    /// <summary>Reads the scope members of an operator payload; <see cref="FactorInputException"/> names a missing or bad one.</summary>
    public static OperatorScope ReadScope(ReadOnlySpan<byte> payload)
    {
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(payload.ToArray());
        }
        catch (JsonException)
        {
            throw new FactorInputException(string.Empty, "not valid JSON");
        }
        using (doc)
        {
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
                throw new FactorInputException(string.Empty, "must be a JSON object with chainId, device or group, validFrom, validUntil and version");
            if (!root.TryGetProperty("chainId", out var c) || c.ValueKind != JsonValueKind.Number || !c.TryGetUInt64(out var chain))
                throw new FactorInputException("chainId", "required, a whole number");
            var device = OptionalString(root, "device");
            var group = OptionalString(root, "group");
            if ((device is null) == (group is null))
                throw new FactorInputException("device", "exactly one of device or group is required");
            var from = Instant(root, "validFrom");
            var until = Instant(root, "validUntil");
            if (until <= from)
                throw new FactorInputException("validUntil", "must be after validFrom");
            if (!root.TryGetProperty("version", out var v) || v.ValueKind != JsonValueKind.Number || !v.TryGetInt64(out var version) || version < 1)
                throw new FactorInputException("version", "required, a whole number of at least 1");
            return new OperatorScope(chain, device, group, from, until, version);
        }

        static string? OptionalString(JsonElement root, string name) =>
            !root.TryGetProperty(name, out var e) || e.ValueKind == JsonValueKind.Null ? null
            : e.ValueKind == JsonValueKind.String && e.GetString()!.Length > 0 ? e.GetString()
            : throw new FactorInputException(name, "must be a non-empty string");

        static DateTimeOffset Instant(JsonElement root, string name) =>
            root.TryGetProperty(name, out var e) && e.ValueKind == JsonValueKind.String && FactorJson.TryParseTimestamp(e.GetString()!, out var t)
                ? t
                : throw new FactorInputException(name, "required, an ISO-8601 timestamp with an offset");
    }

    /// <summary>
    /// The events of an events payload: <c>{…scope…, "events":[…]}</c>. <see cref="FactorInputException"/> names a bad field.
    /// </summary>
    public static IReadOnlyList<FactorEvent> ReadEvents(byte[] payload)
    {
        using var doc = JsonDocument.Parse(payload);
        if (!doc.RootElement.TryGetProperty("events", out var events))
            throw new FactorInputException("events", "required");
        return FactorJson.ParseEvents(events, "events");
    }
}
