using System.Globalization;
using EdgeMeter.Agent.Configuration;
using EdgeMeter.Agent.Hosting;
using EdgeMeter.Agent.Tests.Pairing;
using EdgeMeter.Agent.Tests.Support;
using EdgeMeter.Crypto.Records;
using EdgeMeter.Economics;
using EdgeMeter.Protocols.Dlms;
using EdgeMeter.Protocols.Dlms.Simulator;
using Microsoft.Extensions.Logging.Abstractions;

namespace EdgeMeter.Agent.Tests.Metering;

/// <summary>
/// The load-profile read-back: the rows a DLMS meter captured while the gateway was down become signed records
/// marked as read back from the meter's memory, with the meter's own time, each row once.
/// </summary>
public sealed class DlmsProfileCatchUpTests
{
    private static readonly DateTimeOffset Start = new(2026, 3, 10, 12, 0, 0, TimeSpan.Zero);
    private const long WattHoursPerHour = 1200;
    private static readonly DateTimeOffset Epoch = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    /// <summary>What the simulated meter's import register holds at <paramref name="t"/> (its own definition).</summary>
    private static long ImportAt(DateTimeOffset t) => 5_000_000 + (long)((t - Epoch).TotalSeconds * WattHoursPerHour / 3600);

    private static AgentOptions Options(string dir, int port, string? loadProfile = "1.0.99.1.0.255") => new()
    {
        DataDirectory = dir,
        Http = new HttpOptions { Url = "" },
        Storage = new StorageOptions { CommitIntervalSeconds = 0 },
        Meters =
        [
            new MeterOptions
            {
                Id = "utility", Endpoint = $"tcp://127.0.0.1:{port}", Protocol = "dlms", TimeoutMs = 5000,
                Record = ["import_active_energy"],
                Dlms = new DlmsMeterOptions { Authentication = "none", LoadProfile = loadProfile },
            },
        ],
    };

    private static async Task<List<ReadingRecord>> RunOnceAsync(AgentOptions options, TimeProvider clock, int polls = 1)
    {
        await using var agent = new AgentRuntime(options, NullLoggerFactory.Instance, clock, displayMirror: TextWriter.Null);
        for (int i = 0; i < polls; i++)
            await agent.Poller.PollOnceAsync(CancellationToken.None);
        return [.. agent.Store.ReadRange(1, agent.Store.Head.Sequence).Select(r => r.Reading!)];
    }

    private static List<ReadingRecord> ReadBack(IEnumerable<ReadingRecord> records) =>
        [.. records.Where(r => r.Origin == RecordOrigin.MeterMemory)];

    [Fact]
    public async Task Rows_captured_while_the_gateway_was_down_are_signed_once_with_the_meter_s_time()
    {
        var clock = new ManualTimeProvider(Start);
        await using var server = DlmsSimulatorServer.Start(SimulatedDlmsMeter.Typical(new SimulatedMeterSecurity(), clock, WattHoursPerHour), DlmsFraming.Wrapper);
        using var dir = new TempDir();
        var options = Options(dir.Path, server.Port);

        // First start: nothing is read back, the series starts now.
        var first = await RunOnceAsync(options, clock, polls: 2);
        Assert.Equal(2, first.Count);
        Assert.All(first, r => Assert.Equal(RecordOrigin.Live, r.Origin));
        Assert.Equal(ImportAt(Start), first[^1].Value);
        Assert.Equal(Start.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture) + "\n",
            File.ReadAllText(Path.Combine(dir.Path, "dlms-utility.profile")));

        // Six hours without the gateway: the next start reads back exactly those 24 rows, one record per quarter hour,
        // the meter's values at the meter's times, before the cycle's live reading.
        clock.Advance(TimeSpan.FromHours(6));
        var second = await RunOnceAsync(options, clock);
        var back = ReadBack(second);
        Assert.Equal(24, back.Count);
        for (int i = 0; i < back.Count; i++)
        {
            var at = Start.AddMinutes(15 * (i + 1));
            Assert.Equal(at.ToUnixTimeMilliseconds(), back[i].MeterTimeMs);
            Assert.Equal((ImportAt(at), (sbyte)0, "Wh", "1-0:1.8.0*255"), (back[i].Value, back[i].Scaler, back[i].Unit, back[i].Obis));
            Assert.Equal(Start.AddHours(6).ToUnixTimeMilliseconds(), back[i].GatewayTimeMs);
        }
        Assert.Equal(Enumerable.Range(3, 24).Select(i => (ulong)i), back.Select(r => r.Sequence));
        Assert.Equal((RecordOrigin.Live, ImportAt(Start.AddHours(6))), (second[^1].Origin, second[^1].Value));

        // Another outage: the series goes on where it stopped, every quarter hour once.
        clock.Advance(TimeSpan.FromHours(2));
        var third = await RunOnceAsync(options, clock);
        var series = ReadBack(third).Select(r => r.MeterTimeMs).ToList();
        Assert.Equal(Enumerable.Range(1, 32).Select(i => Start.AddMinutes(15 * i).ToUnixTimeMilliseconds()), series);
    }

    [Fact]
    public async Task A_mark_file_that_a_power_cut_left_behind_the_store_does_not_sign_rows_twice()
    {
        var clock = new ManualTimeProvider(Start);
        await using var server = DlmsSimulatorServer.Start(SimulatedDlmsMeter.Typical(new SimulatedMeterSecurity(), clock, WattHoursPerHour), DlmsFraming.Wrapper);
        using var dir = new TempDir();
        var options = Options(dir.Path, server.Port);
        string mark = Path.Combine(dir.Path, "dlms-utility.profile");

        await RunOnceAsync(options, clock);
        string before = File.ReadAllText(mark);
        clock.Advance(TimeSpan.FromHours(2));
        await RunOnceAsync(options, clock);
        // The cut came after the commit of those 8 rows and before the mark's rename reached the medium.
        File.WriteAllText(mark, before);

        clock.Advance(TimeSpan.FromHours(1));
        var all = await RunOnceAsync(options, clock);

        var times = ReadBack(all).Select(r => r.MeterTimeMs).ToList();
        Assert.Equal(times.Distinct().Count(), times.Count);
        Assert.Equal(8 + 4, times.Count);
        Assert.Equal(Start.AddHours(3).ToUnixTimeMilliseconds(), times[^1]);
    }

    [Fact]
    public async Task A_meter_without_the_profile_still_gives_its_live_readings_and_the_read_back_is_retried_later()
    {
        var clock = new ManualTimeProvider(Start);
        await using var server = DlmsSimulatorServer.Start(SimulatedDlmsMeter.Typical(new SimulatedMeterSecurity(), clock, WattHoursPerHour), DlmsFraming.Wrapper);
        using var dir = new TempDir();

        var records = await RunOnceAsync(Options(dir.Path, server.Port, loadProfile: "1.0.99.2.0.255"), clock, polls: 3);

        Assert.Empty(ReadBack(records));
        Assert.Equal(3, records.Count);
        Assert.All(records, r => Assert.Equal(RecordOrigin.Live, r.Origin));
        Assert.False(File.Exists(Path.Combine(dir.Path, "dlms-utility.profile")));
    }

    [Fact]
    public void Read_back_rows_fill_the_intervals_of_the_outage_at_the_meter_s_time()
    {
        var acc = new IntervalAccumulator(15);
        ReadingRecord Reading(DateTimeOffset meterTime, DateTimeOffset gatewayTime, RecordOrigin origin) => new()
        {
            Device = "0x0000000000000000000000000000000000000001", Sequence = 1, PrevHash = new byte[32], MeterId = "utility",
            Obis = "1-0:1.8.0*255", Value = ImportAt(meterTime), Scaler = 0, Unit = "Wh", Source = EnergySource.GridImport, Clean = false,
            GatewayTimeMs = gatewayTime.ToUnixTimeMilliseconds(), MeterTimeMs = meterTime.ToUnixTimeMilliseconds(),
            TimeStatus = TimeStatus.Synchronised, Origin = origin,
        };

        // Live before the outage, the outage's rows read back an hour later, then live again.
        Assert.True(acc.Add(Reading(Start, Start, RecordOrigin.Live)));
        var readAt = Start.AddHours(1);
        for (int q = 1; q <= 4; q++)
            Assert.True(acc.Add(Reading(Start.AddMinutes(15 * q), readAt, RecordOrigin.MeterMemory)));
        // A row older than the register's last reading adds nothing.
        Assert.False(acc.Add(Reading(Start.AddMinutes(30), readAt, RecordOrigin.MeterMemory)));
        Assert.True(acc.Add(Reading(readAt.AddMinutes(15), readAt.AddMinutes(15), RecordOrigin.Live)));

        var intervals = acc.IntervalsBefore(readAt.AddMinutes(15).UtcTicks);
        Assert.Equal(Enumerable.Range(0, 5).Select(q => Start.AddMinutes(15 * q)), intervals.Select(i => i.Start));
        Assert.All(intervals, i => Assert.Equal(0.3m, i.ElecKwh));
    }
}
