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

    /// <summary>
    /// Hourly drafts of a grid meter and a clean PV meter from <paramref name="start"/> to <paramref name="until"/>
    /// (those before <paramref name="from"/> left out, as if read by an earlier run): each register grows by its step
    /// (tenths of a Wh) an hour; the PV reading comes <paramref name="pvOffsetMs"/> after the grid one.
    /// </summary>
    public static List<ReadingRecord> HourlyGridAndPv(DateTimeOffset start, DateTimeOffset until, long gridStep = 10_000, long pvStep = 10_000, int pvOffsetMs = 1000, DateTimeOffset? from = null)
    {
        var drafts = new List<ReadingRecord>();
        for (var h = 0; start.AddHours(h) <= until; h++)
        {
            if (start.AddHours(h) < (from ?? start))
                continue;
            var ms = start.AddHours(h).ToUnixTimeMilliseconds();
            drafts.Add(Draft(100_000 + (h * gridStep), ms, "grid", EnergySource.GridImport));
            drafts.Add(Draft(500_000 + (h * pvStep), ms + pvOffsetMs, "pv", EnergySource.Pv));
        }
        return drafts;
    }

    /// <summary>A signer with a fresh file key in <paramref name="dir"/>.</summary>
    public static RecordSigner Signer(string dir, ulong chainId = 31337) =>
        new(FileDeviceKey.LoadOrCreate(Path.Combine(dir, "device.key")), Eip712Domain.ForReadings(chainId));
}
