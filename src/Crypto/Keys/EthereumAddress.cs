using EdgeMeter.Crypto.Hashing;

namespace EdgeMeter.Crypto.Keys;

/// <summary>Ethereum-style 20-byte addresses: the last 20 bytes of keccak-256 over the 64-byte public key X‖Y.</summary>
public static class EthereumAddress
{
    /// <summary>The 0x-prefixed lower-case hex address of an uncompressed secp256k1 public key (65 bytes, 0x04 first).</summary>
    /// <exception cref="ArgumentException">The key is not 65 bytes starting with 0x04.</exception>
    public static string FromPublicKey(ReadOnlySpan<byte> uncompressedPublicKey)
    {
        if (uncompressedPublicKey.Length != 65 || uncompressedPublicKey[0] != 0x04)
            throw new ArgumentException("An uncompressed public key is 65 bytes starting with 0x04.", nameof(uncompressedPublicKey));
        Span<byte> hash = stackalloc byte[32];
        Keccak256.Hash(uncompressedPublicKey[1..], hash);
        return "0x" + Convert.ToHexStringLower(hash[12..]);
    }

    /// <summary>Parses a 0x-prefixed 40-hex-digit address (any letter case) into 20 bytes.</summary>
    public static bool TryParse(string? text, Span<byte> address20)
    {
        if (text is null || text.Length != 42 || text[0] != '0' || (text[1] != 'x' && text[1] != 'X') || address20.Length < 20)
            return false;
        return Convert.FromHexString(text.AsSpan(2), address20, out _, out int written) == System.Buffers.OperationStatus.Done && written == 20;
    }

    /// <summary>The canonical form used in records: 0x-prefixed lower case. Throws <see cref="FormatException"/> for anything else.</summary>
    public static string Normalize(string text)
    {
        Span<byte> bytes = stackalloc byte[20];
        if (!TryParse(text, bytes))
            throw new FormatException($"'{text}' is not a 20-byte 0x address.");
        return "0x" + Convert.ToHexStringLower(bytes);
    }
}
