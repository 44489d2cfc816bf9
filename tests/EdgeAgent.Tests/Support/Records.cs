using EdgeMeter.Crypto.Keys;
using EdgeMeter.Crypto.Records;
using EdgeMeter.Crypto.Signing;

namespace EdgeMeter.Agent.Tests.Support;

/// <summary>Drafts and signers for tests.</summary>
internal static class Records
{
    public static ReadingRecord Draft(long value, long gatewayTimeMs = 1_780_000_000_000, string meter = "grid", EnergySource source = EnergySource.GridImport) => new()
    {
        Device = "",
        Sequence = 0,
        PrevHash = ReadOnlyMemory<byte>.Empty,
        MeterId = meter,
        Obis = "1-0:1.8.0*255",
        Value = value,
        Scaler = -1,
        Unit = "Wh",
        Source = source,
        Clean = source is EnergySource.Pv or EnergySource.Wind,
        GatewayTimeMs = gatewayTimeMs,
        MeterTimeMs = value % 2 == 0 ? gatewayTimeMs - 1500 : 0,
        TimeStatus = TimeStatus.Synchronised,
    };

    public static IReadOnlyList<ReadingRecord> Drafts(int count, long firstValue = 1000, long firstTimeMs = 1_780_000_000_000) =>
        Enumerable.Range(0, count).Select(i => Draft(firstValue + i, firstTimeMs + i * 1000L)).ToList();

    /// <summary>A signer with a fresh file key in <paramref name="dir"/>.</summary>
    public static RecordSigner Signer(string dir, ulong chainId = 31337) =>
        new(FileDeviceKey.LoadOrCreate(Path.Combine(dir, "device.key")), Eip712Domain.ForReadings(chainId));
}
