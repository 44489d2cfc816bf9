using EdgeMeter.Crypto.Keys;
using EdgeMeter.Crypto.Records;

namespace EdgeMeter.Crypto.Signing;

/// <summary>Signs reading records with the device key under one EIP-712 domain. Does not own the key.</summary>
public sealed class RecordSigner(IDeviceKey key, Eip712Domain domain)
{
    /// <summary>The domain records are signed under.</summary>
    public Eip712Domain Domain { get; } = domain;

    /// <summary>The signing key.</summary>
    public IDeviceKey Key { get; } = key;

    /// <summary>Computes the digest of a reading or a gap declaration and signs it.</summary>
    /// <exception cref="ArgumentException">The record names another device than the key's, or cannot be encoded (or is a malformed gap declaration).</exception>
    public SignedReading Sign(ChainRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        if (!string.Equals(record.Device, Key.Address, StringComparison.OrdinalIgnoreCase))
            throw new ArgumentException($"The record names device {record.Device} but the key is {Key.Address}.", nameof(record));

        if (record is GapRecord gap && gap.Malformation() is { } why)
            throw new ArgumentException($"Will not sign a malformed gap declaration: {why}.", nameof(record));

        var digest = new byte[32];
        ReadingTypedData.Digest(Domain, record, digest);
        var signature = new byte[65];
        Key.SignDigest(digest, signature);
        return new SignedReading(record, digest, signature);
    }
}
