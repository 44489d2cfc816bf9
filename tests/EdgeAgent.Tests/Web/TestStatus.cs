using EdgeMeter.Agent.Status;
using EdgeMeter.Crypto.Records;
using EdgeMeter.Economics;

namespace EdgeMeter.Agent.Tests.Web;

/// <summary>A status source whose snapshot the test sets.</summary>
internal sealed class FakeStatusSource(AgentStatus current) : IAgentStatusSource
{
    public AgentStatus Current { get; set; } = current;
}

/// <summary>Realistic snapshots: a household with a grid meter and a PV meter.</summary>
internal static class TestStatus
{
    public const string DeviceAddress = "0x90f8bf6a479f320ead074411a4b0e7944ea8c9c1";

    public static readonly DateTimeOffset At = new(2025, 6, 14, 9, 30, 0, TimeSpan.Zero);

    public static AgentStatus Household(
        decimal? balance = 123m,
        bool uplink = true,
        bool paired = true,
        decimal gridW = 2340m,
        decimal pvW = 1200m,
        bool pvOnline = true) => new()
        {
            DeviceAddress = DeviceAddress,
            Version = "0.1.0",
            Timestamp = At,
            TimeStatus = TimeStatus.Synchronised,
            Meters =
            [
                new MeterStatus { MeterId = "grid", Source = EnergySource.GridImport, Clean = false, Online = true, LastReadingAt = At, ActivePowerW = gridW, EnergyKwh = 10234.5m, Requests = 100, Timeouts = 1, Errors = 0 },
                new MeterStatus { MeterId = "pv-roof", Source = EnergySource.Pv, Clean = true, Online = pvOnline, LastReadingAt = At, ActivePowerW = pvW, EnergyKwh = 3120.25m, Requests = 100, Timeouts = 0, Errors = 2 },
            ],
            Counters = new PipelineCounters(200, 200, 199, 180, 150, 19),
            UplinkConnected = uplink,
            ConfirmedBalance = balance,
            Provisional = new ProvisionalTokens
            {
                Month = "2025-06",
                CleanShare = 0.64m,
                FDemand = 0.82m,
                FSupply = 1.1m,
                CongestionFactor = 0.95m,
                CarbonTokens = 9,
                CongestionTokens = 3,
                TotalTokens = 12,
            },
            Pairing = paired
                ? new PairingStatus(true, "0xabcdef0123456789abcdef0123456789abcdef01", "Sunny Street", At.AddDays(-3))
                : new PairingStatus(false, null, null, null),
        };
}
