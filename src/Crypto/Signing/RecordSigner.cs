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

    /// <summary>Computes the digest and signs it.</summary>
    public SignedReading Sign(ReadingRecord record) => throw new NotImplementedException("contract stub: crypto helper");
}
