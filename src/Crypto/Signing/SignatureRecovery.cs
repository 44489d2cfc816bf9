namespace EdgeMeter.Crypto.Signing;

/// <summary>ecrecover: the address that produced a 65-byte signature over a digest.</summary>
public static class SignatureRecovery
{
    /// <summary>Recovers the signer's address (0x lower-case hex); false for a malformed or high-S signature.</summary>
    public static bool TryRecoverAddress(ReadOnlySpan<byte> digest32, ReadOnlySpan<byte> signature65, out string address) =>
        throw new NotImplementedException("contract stub: crypto helper");
}
