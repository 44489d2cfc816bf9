namespace EdgeMeter.Crypto.Keys;

/// <summary>
/// The gateway's signing identity. The private key never leaves the implementation: a file key today,
/// a secure element (ATECC608) or TPM tomorrow.
/// </summary>
public interface IDeviceKey : IDisposable
{
    /// <summary>Ethereum-style address, 0x-prefixed lower-case hex of keccak-256(pubkey)[12..].</summary>
    string Address { get; }

    /// <summary>Uncompressed secp256k1 public key, 65 bytes starting with 0x04.</summary>
    ReadOnlyMemory<byte> PublicKey { get; }

    /// <summary>Signs a 32-byte digest: RFC 6979 deterministic k, low-S, r‖s‖v with v = 27 + recovery id.</summary>
    void SignDigest(ReadOnlySpan<byte> digest32, Span<byte> signature65);
}
