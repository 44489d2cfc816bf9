using EdgeMeter.Agent.Ledger;
using EdgeMeter.Crypto.Keys;

namespace EdgeMeter.Interop.Tests.Support;

/// <summary>
/// The development ledger's key, made before the ledger process starts, so that a gateway started beside it
/// (<c>demo --no-ledger --ledger-address</c>) is configured with its address, as an operator would configure it.
/// </summary>
internal static class LedgerKey
{
    public static string Address(string ledgerData)
    {
        Directory.CreateDirectory(ledgerData);
        using var key = FileDeviceKey.LoadOrCreate(Path.Combine(ledgerData, LedgerStore.KeyFileName));
        return key.Address;
    }
}
