namespace EdgeMeter.Crypto.Signing;

/// <summary>The EIP-712 domain: <c>EIP712Domain(string name,string version,uint256 chainId)</c>.</summary>
/// <param name="Name">Always "EdgeMeter" for readings.</param>
/// <param name="Version">Encoding version, "1".</param>
/// <param name="ChainId">The chain the records are meant for.</param>
public sealed record Eip712Domain(string Name, string Version, ulong ChainId)
{
    /// <summary>The domain for reading records on a given chain.</summary>
    public static Eip712Domain ForReadings(ulong chainId) => new("EdgeMeter", "1", chainId);
}
