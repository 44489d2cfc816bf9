namespace EdgeMeter.Agent.Sync;

/// <summary>
/// The MQTT topic tree; see Sync/README.md for payloads. <c>{device}</c> is the device address (0x + 40 hex, lower case).
/// </summary>
internal static class Topics
{
    public const string Root = "edgemeter";

    /// <summary>Uplink: a signed transaction (batch of signed records). QoS 1; re-sending is idempotent.</summary>
    public static string Tx(string device) => $"{Root}/{device}/tx";

    /// <summary>Uplink: retained online/offline status with birth counter; also the last will.</summary>
    public static string Status(string device) => $"{Root}/{device}/status";

    /// <summary>Uplink: a signed token claim.</summary>
    public static string Claim(string device) => $"{Root}/{device}/claim";

    /// <summary>Downlink: the ledger's verdict on a transaction.</summary>
    public static string Receipt(string device) => $"{Root}/{device}/receipt";

    /// <summary>Downlink: the ledger's signed verdict on a claim (<c>ClaimReceipt</c>).</summary>
    public static string ClaimReceipt(string device) => $"{Root}/{device}/claim-receipt";

    /// <summary>Downlink: the chain's confirmed token balance (retained).</summary>
    public static string Balance(string device) => $"{Root}/{device}/balance";

    /// <summary>
    /// Downlink: the ledger's head of the device's chain (retained, ledger-signed): the highest sequence number it holds and
    /// that record's digest. A gateway whose store is behind it continues after it with a gap declaration.
    /// </summary>
    public static string Head(string device) => $"{Root}/{device}/head";

    /// <summary>Uplink: asks the ledger to publish <see cref="Head"/> again (empty payload), at every connect.</summary>
    public static string HeadRequest(string device) => $"{Root}/{device}/head-request";

    /// <summary>Downlink: congestion and demand-response events, operator-signed.</summary>
    public static string Events(string device) => $"{Root}/{device}/events";

    /// <summary>Downlink: factor parameters, operator-signed.</summary>
    public static string Params(string device) => $"{Root}/{device}/params";

    /// <summary>The ledger's subscriptions: every device's transactions and claims.</summary>
    public const string AllTx = Root + "/+/tx";
    public const string AllClaims = Root + "/+/claim";
    public const string AllHeadRequests = Root + "/+/head-request";

    /// <summary>The device segment of a topic <c>edgemeter/{device}/...</c>, or null.</summary>
    public static string? DeviceOf(string topic)
    {
        var parts = topic.Split('/');
        return parts.Length == 3 && parts[0] == Root ? parts[1] : null;
    }
}
