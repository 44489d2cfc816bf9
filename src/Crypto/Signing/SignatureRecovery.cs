using EdgeMeter.Crypto.Curves;
using EdgeMeter.Crypto.Keys;

namespace EdgeMeter.Crypto.Signing;

/// <summary>ecrecover: the address that produced a 65-byte signature over a digest.</summary>
public static class SignatureRecovery
{
    /// <summary>Recovers the signer's address (0x lower-case hex); false for a malformed or high-S signature.</summary>
    public static bool TryRecoverAddress(ReadOnlySpan<byte> digest32, ReadOnlySpan<byte> signature65, out string address)
    {
        Span<byte> publicKey = stackalloc byte[65];
        if (Secp256k1Signer.TryRecoverPublicKey(digest32, signature65, publicKey))
        {
            address = EthereumAddress.FromPublicKey(publicKey);
            return true;
        }
        address = string.Empty;
        return false;
    }

    /// <summary>Recovers the signer's uncompressed public key (65 bytes); false for a malformed or high-S signature.</summary>
    public static bool TryRecoverPublicKey(ReadOnlySpan<byte> digest32, ReadOnlySpan<byte> signature65, out byte[] publicKey65)
    {
        publicKey65 = new byte[65];
        if (Secp256k1Signer.TryRecoverPublicKey(digest32, signature65, publicKey65))
            return true;
        publicKey65 = [];
        return false;
    }
}
