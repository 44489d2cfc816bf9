using EdgeMeter.Agent.Configuration;
using EdgeMeter.Agent.Metering;
using EdgeMeter.Agent.Status;
using EdgeMeter.Agent.Storage;
using EdgeMeter.Agent.Tests.Support;
using EdgeMeter.Crypto.Records;
using EdgeMeter.Protocols.Modbus;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace EdgeMeter.Agent.Tests.Metering;

public sealed class PollerTests
{
    [Fact]
    public async Task A_dead_meter_on_the_bus_costs_one_timeout_per_cycle_until_its_breaker_opens_and_never_a_record()
    {
        await using var simulated = SimulatedMeter.Start(1, ("import_active_energy", 1_234_000m), ("export_active_energy", 5_000m), ("active_power", 812.5m));
        var (map, endpoint) = (simulated.Map, simulated.Endpoint);
        MeterChannel[] meters =
        [
            new(new MeterOptions { Id = "live", Endpoint = endpoint, Unit = 1, Map = "eastron-sdm630", TimeoutMs = 2000 }, map),
            new(new MeterOptions { Id = "dead", Endpoint = endpoint, Unit = 9, Map = "eastron-sdm630", TimeoutMs = 100 }, map),
        ];
        using var dir = new TempDir();
        using var store = new RecordStore(dir.Path);
        await using var buses = new ModbusBuses(meters, TimeProvider.System);
        var poller = new MeterPoller(meters, buses, store, Records.Signer(dir.Path), () => TimeStatus.Synchronised,
            new PipelineMetrics(), TimeProvider.System, NullLogger<MeterPoller>.Instance);

        var perCycle = new List<IReadOnlyList<SignedReading>>();
        for (var i = 0; i < 6; i++)
            perCycle.Add(await poller.PollOnceAsync(CancellationToken.None));

        // Every cycle: the live meter's three default quantities, signed; the dead one never produces a record.
        Assert.All(perCycle, cycle => Assert.Equal(3, cycle.Count));
        Assert.All(perCycle.SelectMany(c => c), r => Assert.Equal("live", r.Reading!.MeterId));
        var energy = perCycle[0].Single(r => r.Reading!.Obis == "1-0:1.8.0*255").Reading!;
        Assert.Equal((1_234_000L, (sbyte)0, "Wh"), (energy.Value, energy.Scaler, energy.Unit));
        var power = perCycle[0].Single(r => r.Reading!.Obis == "1-0:16.7.0*255").Reading!;
        Assert.Equal((8125L, (sbyte)-1, "W"), (power.Value, power.Scaler, power.Unit));
        Assert.Equal(18UL, store.Head.Sequence);

        var dead = buses.Status["dead"];
        // Three failed cycles open the breaker (one timeout each, after the client's own retry); the other three are skipped.
        Assert.Equal(CircuitState.Open, dead.Breaker);
        Assert.Equal(3, dead.FailedReads);
        Assert.Equal(3, dead.SkippedReads);
        Assert.False(poller.Last("dead")!.Online);
        Assert.True(poller.Last("live")!.Online);
    }

    [Fact]
    public async Task With_a_commit_interval_cycles_are_signed_and_stored_together_and_an_orderly_stop_commits_the_rest()
    {
        await using var simulated = SimulatedMeter.Start(1, ("import_active_energy", 42_000m));
        MeterChannel[] meters = [new(new MeterOptions { Id = "m", Endpoint = simulated.Endpoint, Unit = 1, Map = "eastron-sdm630", TimeoutMs = 2000 }, simulated.Map)];
        using var dir = new TempDir();
        using var store = new RecordStore(dir.Path);
        await using var buses = new ModbusBuses(meters, TimeProvider.System);
        var metrics = new PipelineMetrics();
        var poller = new MeterPoller(meters, buses, store, Records.Signer(dir.Path), () => TimeStatus.Synchronised,
            metrics, TimeProvider.System, NullLogger<MeterPoller>.Instance) { CommitInterval = TimeSpan.FromHours(1) };

        // The first cycle commits (nothing was committed yet); the next three wait in memory.
        Assert.Equal(3, (await poller.PollOnceAsync(CancellationToken.None)).Count);
        for (var i = 0; i < 3; i++)
            Assert.Empty(await poller.PollOnceAsync(CancellationToken.None));
        Assert.Equal(3UL, store.Head.Sequence);
        Assert.Equal(3, metrics.Snapshot(0).Stored);

        var rest = poller.Commit();

        Assert.Equal(Enumerable.Range(4, 9).Select(i => (ulong)i), rest.Select(r => r.Record.Sequence));
        Assert.Equal(12UL, store.Head.Sequence);
        Assert.Equal(12, metrics.Snapshot(0).Stored);
        Assert.True(rest[0].Record.PrevHash.Span.SequenceEqual(store.ReadRange(3, 3)[0].Digest.Span));
    }

    [Fact]
    public async Task Right_after_boot_the_first_cycle_commits_and_the_interval_counts_from_that_commit()
    {
        await using var simulated = SimulatedMeter.Start(1, ("import_active_energy", 42_000m));
        MeterChannel[] meters = [new(new MeterOptions { Id = "m", Endpoint = simulated.Endpoint, Unit = 1, Map = "eastron-sdm630", TimeoutMs = 2000 }, simulated.Map)];
        using var dir = new TempDir();
        using var store = new RecordStore(dir.Path);
        await using var buses = new ModbusBuses(meters, TimeProvider.System);
        // The monotonic clock of a gateway that booted a moment ago: it reads 0 now.
        var boot = new BootClock();
        var poller = new MeterPoller(meters, buses, store, Records.Signer(dir.Path), () => TimeStatus.Synchronised,
            new PipelineMetrics(), boot, NullLogger<MeterPoller>.Instance) { CommitInterval = TimeSpan.FromSeconds(15) };

        Assert.Equal(3, (await poller.PollOnceAsync(CancellationToken.None)).Count);
        boot.Advance(TimeSpan.FromSeconds(14));
        Assert.Empty(await poller.PollOnceAsync(CancellationToken.None));
        boot.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(6, (await poller.PollOnceAsync(CancellationToken.None)).Count);
        Assert.Equal(9UL, store.Head.Sequence);
    }

    [Fact]
    public async Task Readings_held_for_the_ledger_s_head_are_signed_when_it_comes_not_a_poll_later()
    {
        await using var simulated = SimulatedMeter.Start(1, ("import_active_energy", 42_000m));
        MeterChannel[] meters = [new(new MeterOptions { Id = "m", Endpoint = simulated.Endpoint, Unit = 1, Map = "eastron-sdm630", TimeoutMs = 2000 }, simulated.Map)];
        using var dir = new TempDir();
        using var store = new RecordStore(dir.Path);
        await using var buses = new ModbusBuses(meters, TimeProvider.System);
        var metrics = new PipelineMetrics();
        var signer = Records.Signer(dir.Path);
        var poller = new MeterPoller(meters, buses, store, signer, () => TimeStatus.Synchronised,
            metrics, TimeProvider.System, NullLogger<MeterPoller>.Instance);
        var stored = new TaskCompletionSource<IReadOnlyList<SignedReading>>(TaskCreationOptions.RunContinuationsAsynchronously);
        poller.Stored += signed => stored.TrySetResult(signed);
        store.HoldSigningForLedgerHead(TimeSpan.FromMinutes(5));
        Assert.False(store.SigningReleased.IsCompleted);

        using var stop = new CancellationTokenSource();
        // One poll an hour: the next poll never comes during this test.
        var run = poller.RunAsync(TimeSpan.FromHours(1), stop.Token);
        for (int i = 0; i < 500 && poller.UnsignedCount == 0; i++)
            await Task.Delay(10);
        Assert.Equal(3, poller.UnsignedCount);
        Assert.Equal(0UL, store.Head.Sequence);
        Assert.False(stored.Task.IsCompleted);

        // The ledger's head: a new device, nothing held.
        store.ReconcileWithLedger(0, new byte[32], signer, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(), TimeStatus.Synchronised);

        var signed = await stored.Task.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal([1UL, 2UL, 3UL], signed.Select(r => r.Record.Sequence));
        Assert.Equal(3UL, store.Head.Sequence);
        Assert.Equal(0, poller.UnsignedCount);
        // The first-signed mark follows the commit that raised Stored: wait for it, bounded.
        for (int i = 0; i < 500 && metrics.FirstSignedSinceStartMs < 0; i++)
            await Task.Delay(10);
        Assert.True(metrics.FirstSignedSinceStartMs >= 0);
        await stop.CancelAsync();
        await run;
    }

    /// <summary>A monotonic clock that starts at 0, as the kernel's does at boot, and moves only when told.</summary>
    private sealed class BootClock : TimeProvider
    {
        private long _ticks;

        public override long TimestampFrequency => TimeSpan.TicksPerSecond;

        public override long GetTimestamp() => _ticks;

        public void Advance(TimeSpan by) => _ticks += by.Ticks;
    }
}

public sealed class PollerDiskFailureTests
{
    [Fact]
    public async Task While_the_disk_fails_unsigned_readings_stay_bounded_the_oldest_dropped_and_counted_and_nothing_is_numbered()
    {
        await using var simulated = SimulatedMeter.Start(1, ("import_active_energy", 42_000m));
        MeterChannel[] meters = [new(new MeterOptions { Id = "m", Endpoint = simulated.Endpoint, Unit = 1, Map = "eastron-sdm630", TimeoutMs = 2000 }, simulated.Map)];
        using var dir = new TempDir();
        var log = new BreakingStream();
        using var store = new RecordStore(new BreakingStream(), log) { SyncTimeout = TimeSpan.FromSeconds(30) }; // a failed write fails the waiting commit at once; the timeout is only for a disk that hangs
        await using var buses = new ModbusBuses(meters, TimeProvider.System);
        var metrics = new PipelineMetrics();
        var lines = new ListLoggerProvider();
        using var loggers = LoggerFactory.Create(b => b.AddProvider(lines));
        var poller = new MeterPoller(meters, buses, store, Records.Signer(dir.Path), () => TimeStatus.Synchronised,
            metrics, TimeProvider.System, loggers.CreateLogger<MeterPoller>()) { MaxUnsigned = 5 };
        Assert.Equal(3, (await poller.PollOnceAsync(CancellationToken.None)).Count);

        log.Break();
        for (var cycle = 0; cycle < 6; cycle++)
            await Assert.ThrowsAsync<IOException>(() => poller.PollOnceAsync(CancellationToken.None));

        // Six cycles of three readings while nothing could be stored: five kept, thirteen dropped and counted.
        Assert.Equal(5, poller.UnsignedCount);
        Assert.Equal(13, metrics.DroppedUnsigned);
        Assert.Equal(13, metrics.Snapshot(0).DroppedUnsigned);
        Assert.Equal(3UL, store.Head.Sequence); // the signed records stand; the failed commit numbered nothing
        Assert.Equal(3, metrics.Snapshot(0).Signed);
        Assert.Contains(lines.Lines, l => l == "Critical: STORAGE ALARM: the disk keeps failing; dropped 1 unsigned readings (1 in all), signed records are kept");
    }
}
