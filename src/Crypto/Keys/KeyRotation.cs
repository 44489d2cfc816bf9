using System.Text;
using EdgeMeter.Crypto.Hashing;
using EdgeMeter.Crypto.Signing;

namespace EdgeMeter.Crypto.Keys;

/// <summary>A statement by the old key that the device continues under a new address.</summary>
/// <param name="Previous">The retiring address (the signer).</param>
/// <param name="Next">The new address.</param>
/// <param name="TimeMs">When the rotation happened, Unix milliseconds UTC.</param>
/// <param name="LastSequence">The last sequence number signed by the old key; the new key's chain continues after it.</param>
/// <param name="Signature">r‖s‖v by the old key over the EIP-712 digest.</param>
public sealed record KeyRotationStatement(string Previous, string Next, ulong TimeMs, ulong LastSequence, ReadOnlyMemory<byte> Signature);

/// <summary>
/// Key rotation as EIP-712 typed data, <c>KeyRotation(address previous,address next,uint64 time,uint64 lastSeq)</c>
/// under the readings domain, signed by the old key: a verifier (or a contract) that trusts the old address
/// can follow the chain to the new one.
/// </summary>
public static class KeyRotation
{
    /// <summary>The EIP-712 type string of the statement.</summary>
    public const string TypeString = "KeyRotation(address previous,address next,uint64 time,uint64 lastSeq)";

    private static readonly byte[] TypeHash = Keccak256.Hash(Encoding.ASCII.GetBytes(TypeString));

    /// <summary>Has <paramref name="oldKey"/> sign that <paramref name="newKey"/> takes over after <paramref name="lastSequence"/>.</summary>
    public static KeyRotationStatement Create(IDeviceKey oldKey, IDeviceKey newKey, Eip712Domain domain, ulong timeMs, ulong lastSequence)
    {
        ArgumentNullException.ThrowIfNull(oldKey);
        ArgumentNullException.ThrowIfNull(newKey);
        var digest = new byte[32];
        Digest(domain, oldKey.Address, newKey.Address, timeMs, lastSequence, digest);
        var signature = new byte[65];
        oldKey.SignDigest(digest, signature);
        return new KeyRotationStatement(oldKey.Address, newKey.Address, timeMs, lastSequence, signature);
    }

    /// <summary>True when the statement's signature recovers to its <see cref="KeyRotationStatement.Previous"/> address.</summary>
    public static bool Verify(KeyRotationStatement statement, Eip712Domain domain)
    {
        ArgumentNullException.ThrowIfNull(statement);
        var digest = new byte[32];
        try
        {
            Digest(domain, statement.Previous, statement.Next, statement.TimeMs, statement.LastSequence, digest);
        }
        catch (ArgumentException)
        {
            return false;
        }
        return SignatureRecovery.TryRecoverAddress(digest, statement.Signature.Span, out var recovered) &&
               string.Equals(recovered, statement.Previous, StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>The EIP-712 digest of a rotation statement.</summary>
    public static void Digest(Eip712Domain domain, string previous, string next, ulong timeMs, ulong lastSequence, Span<byte> digest32)
    {
        Span<byte> encoded = stackalloc byte[5 * 32];
        encoded.Clear();
        TypeHash.CopyTo(encoded);
        if (!EthereumAddress.TryParse(previous, encoded[(32 + 12)..64]) || !EthereumAddress.TryParse(next, encoded[(64 + 12)..96]))
            throw new ArgumentException("Addresses must be 20-byte 0x hex.");
        Eip712.WriteUInt64(timeMs, encoded[96..128]);
        Eip712.WriteUInt64(lastSequence, encoded[128..160]);
        Span<byte> buffer = stackalloc byte[66];
        buffer[0] = 0x19;
        buffer[1] = 0x01;
        ReadingTypedData.DomainSeparator(domain).CopyTo(buffer[2..34]);
        Keccak256.Hash(encoded, buffer[34..66]);
        Keccak256.Hash(buffer, digest32);
    }
}
