using System.Net;
using System.Net.Sockets;
using EdgeMeter.Agent.Configuration;
using EdgeMeter.Agent.Factors;
using EdgeMeter.Agent.Ledger;
using EdgeMeter.Agent.Status;
using EdgeMeter.Agent.Storage;
using EdgeMeter.Agent.Sync;
using EdgeMeter.Agent.Tests.Pairing;
using EdgeMeter.Agent.Tests.Support;
using EdgeMeter.Crypto.Records;
using EdgeMeter.Crypto.Signing;
using Microsoft.Extensions.Logging.Abstractions;

namespace EdgeMeter.Agent.Tests.Sync;

/// <summary>
/// The ended month's final claim goes through the durable outbox, the real uplink, a broker and the in-process
/// ledger, on a fake clock: a month's turn while the broker is down, and a restart across the month boundary, each
/// deliver it to the ledger exactly once.
/// </summary>
public sealed class MonthlyClaimsTests
{
    private static readonly DateTimeOffset AprilFirst = new(2026, 4, 1, 0, 0, 0, TimeSpan.Zero);

    /// <summary>Hourly grid and clean PV readings, 1 kWh an hour each, from 1 March (or <paramref name="from"/>) to <paramref name="until"/>.</summary>
    private static List<ReadingRecord> Drafts(DateTimeOffset from, DateTimeOffset until) =>
        Records.HourlyGridAndPv(new DateTimeOffset(2026, 3, 1, 0, 0, 0, TimeSpan.Zero), until, from: from);

    /// <summary>One run of the gateway's claim path over a data directory: store, factors, outbox, uplink, claims.</summary>
    private sealed class Gateway : IAsyncDisposable
    {
        private readonly CancellationTokenSource _stop = new();
        private readonly Task _uplinkRun;

        public Gateway(string dir, string broker, string ledgerAddress, TimeProvider clock)
        {
            Signer = Records.Signer(dir);
            Store = new RecordStore(dir);
            Factors = new FactorService(dir, 15, false, () => null, NullLogger<FactorService>.Instance) { Device = Signer.Key.Address, ChainId = 31337, Time = clock };
            Outbox = new ClaimOutbox(dir);
            Uplink = new MqttUplink(new MqttOptions { Broker = broker, BatchMaxDelayMs = 50 }, Store, Signer.Key.Address, 31337, new PipelineMetrics(),
                BootCounter.Increment(dir), NullLogger<MqttUplink>.Instance) { LedgerAddress = ledgerAddress };
            Claims = new MonthlyClaims(Factors, Outbox, Signer.Key, Uplink.PublishClaimAsync, clock, NullLogger<MonthlyClaims>.Instance);
            Uplink.ClaimReceiptReceived += Claims.OnReceipt;
            _uplinkRun = Uplink.RunAsync(_stop.Token);
        }

        public RecordSigner Signer { get; }
        public RecordStore Store { get; }
        public FactorService Factors { get; }
        public ClaimOutbox Outbox { get; }
        public MqttUplink Uplink { get; }
        public MonthlyClaims Claims { get; }

        public void Read(IReadOnlyList<ReadingRecord> drafts)
        {
            Factors.Add(Store.Append(drafts, Signer));
            Uplink.Notify();
        }

        /// <summary>What the agent's claim loop does each minute, until the outbox holds claims and all have their receipts.</summary>
        public async Task TickUntilReceiptedAsync(CancellationToken ct)
        {
            while (true)
            {
                Claims.BuildDue();
                if (Uplink.Connected)
                    await Claims.SendPendingAsync(ct);
                if (Outbox.All() is { Count: > 0 } all && all.All(c => c.Receipted))
                    return;
                await Task.Delay(200, ct);
            }
        }

        public async ValueTask DisposeAsync()
        {
            await _stop.CancelAsync();
            await _uplinkRun;
            await Uplink.DisposeAsync();
            Factors.SaveState();
            Store.Dispose();
            Outbox.Dispose();
            Signer.Key.Dispose();
            _stop.Dispose();
        }
    }

    private static int FreePort()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        return ((IPEndPoint)probe.LocalEndpoint).Port;
    }

    private static async Task<(DevLedger Ledger, Task Run)> StartLedgerAsync(string broker, string dir, CancellationToken ct)
    {
        var ledger = new DevLedger(new MqttOptions { Broker = broker }, dir, 31337, NullLogger<DevLedger>.Instance);
        await ledger.ConnectAsync(ct);
        return (ledger, ledger.RunAsync(ct));
    }

    [Fact]
    public async Task A_month_turn_while_the_broker_is_down_still_delivers_the_final_claim_once()
    {
        using var dir = new TempDir();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        var port = FreePort();
        var url = $"mqtt://127.0.0.1:{port}";
        var clock = new ManualTimeProvider(AprilFirst.AddMinutes(30));
        // The ledger's key exists before the broker is up: the gateway is configured with its address.
        string ledgerAddress;
        using (var key = EdgeMeter.Crypto.Keys.FileDeviceKey.LoadOrCreate(Path.Combine(dir.File("ledger"), LedgerStore.KeyFileName)))
            ledgerAddress = key.Address;

        await using var gateway = new Gateway(dir.File("agent"), url, ledgerAddress, clock);
        gateway.Read(Drafts(DateTimeOffset.MinValue, AprilFirst.AddHours(1)));

        // Midnight has passed and the broker is down: the claim is built and kept, and cannot be sent.
        Assert.Equal(1, gateway.Claims.BuildDue());
        Assert.Equal(0, await gateway.Claims.SendPendingAsync(timeout.Token));
        var stored = Assert.Single(gateway.Outbox.All());
        Assert.Equal(("2026-03", false), (stored.Month, stored.Receipted));
        Assert.True(stored.TotalTokens > 0);

        await using var broker = await EmbeddedBroker.StartAsync(port);
        var (ledger, ledgerRun) = await StartLedgerAsync(url, dir.File("ledger"), timeout.Token);
        await using (ledger)
        {
            await gateway.TickUntilReceiptedAsync(timeout.Token);

            var summary = Assert.Single(ledger.Summarise());
            var claim = Assert.Single(summary.Claims);
            Assert.Equal(("2026-03", true, "accepted", (long?)stored.TotalTokens), (claim.Month, claim.Final, claim.Status, claim.Recomputed));
            Assert.Equal(stored.TotalTokens, summary.Balance);
            Assert.True(Assert.Single(gateway.Outbox.All()).Accepted);
            // Nothing is left to send, and a claim the broker delivers again is not counted again.
            Assert.Equal(0, await gateway.Claims.SendPendingAsync(timeout.Token));
            await gateway.Uplink.PublishClaimAsync(stored.Envelope, timeout.Token);
            await Task.Delay(500, timeout.Token);
            Assert.Equal(stored.TotalTokens, Assert.Single(ledger.Summarise()).Balance);
            Assert.Single(Assert.Single(ledger.Summarise()).Claims);
            await timeout.CancelAsync();
            await ledgerRun;
        }
    }

    [Fact]
    public async Task A_restart_across_the_month_boundary_delivers_the_final_claim_once_and_carries_the_congestion_carry()
    {
        using var dir = new TempDir();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        await using var broker = await EmbeddedBroker.StartAsync();
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(timeout.Token);
        var (ledger, ledgerRun) = await StartLedgerAsync(broker.Url, dir.File("ledger"), stop.Token);
        await using (ledger)
        {
            var clock = new ManualTimeProvider(AprilFirst.AddHours(-4));
            await using (var before = new Gateway(dir.File("agent"), broker.Url, ledger.Address, clock))
            {
                before.Read(Drafts(DateTimeOffset.MinValue, AprilFirst.AddHours(-4)));
                Assert.Equal(0, before.Claims.BuildDue());
            }

            // Power comes back after midnight: the first start builds the ended month's claim and delivers it.
            clock.Advance(TimeSpan.FromHours(6));
            await using (var after = new Gateway(dir.File("agent"), broker.Url, ledger.Address, clock))
            {
                after.Read(Drafts(AprilFirst.AddHours(-3), AprilFirst.AddHours(1)));
                await after.TickUntilReceiptedAsync(timeout.Token);
                Assert.Equal(after.Outbox.Latest()!.CarryOut, after.Factors.CongestionCarryIn);
            }

            // Another restart: nothing is built or sent twice.
            await using (var again = new Gateway(dir.File("agent"), broker.Url, ledger.Address, clock))
            {
                Assert.Equal(0, again.Claims.BuildDue());
                Assert.Equal(0, await again.Claims.SendPendingAsync(timeout.Token));
            }

            var summary = Assert.Single(ledger.Summarise());
            var claim = Assert.Single(summary.Claims);
            Assert.Equal(("2026-03", true, "accepted"), (claim.Month, claim.Final, claim.Status));
            Assert.Equal(claim.Claimed, claim.Recomputed);
            Assert.True(claim.Claimed > 0);
            Assert.Equal(claim.Claimed, summary.Balance);
            await stop.CancelAsync();
            await ledgerRun;
        }
    }
}
