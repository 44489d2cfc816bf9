namespace EdgeMeter.Agent.Sync;

/// <summary>Signed token claims on the claim topic. (Wired to the factors component when it lands.)</summary>
internal static class ClaimCodec
{
    public static bool TryVerify(ReadOnlySpan<byte> payload, string device, out string month, out long totalTokens, out string reason)
    {
        month = "";
        totalTokens = 0;
        reason = "claims are not accepted yet";
        return false;
    }
}
