using EdgeMeter.Protocols.Modbus;
using EdgeMeter.Protocols.Transport;

namespace EdgeMeter.Protocols.Tests.Modbus;

/// <summary>A clock that moves only when the test says so (for breaker periods).</summary>
internal sealed class ManualClock : TimeProvider
{
    private DateTimeOffset _now = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    public override DateTimeOffset GetUtcNow() => _now;

    public void Advance(TimeSpan by) => _now += by;
}

public sealed class BusSchedulerTests
{
    private static readonly RegisterMap Map = RegisterMapCatalog.LoadBuiltin("eastron-sdm630");

    private static ModbusRegisterBank LiveMeter()
    {
        var bank = new ModbusRegisterBank();
        TcpRoundTripTests.FillGaps(bank, Map);
        bank.SetQuantity(Map, "voltage_l1", 230.1m);
        bank.SetQuantity(Map, "import_active_energy", 1000m);
        return bank;
    }

    [Fact]
    public async Task Dead_unit_costs_the_live_unit_at_most_one_timeout_per_cycle_and_none_once_its_breaker_is_open()
    {
        var (master, slave) = InMemoryByteChannel.CreatePair();
        var live = LiveMeter();
        await using var server = new ModbusRtuServer(slave, new Dictionary<byte, ModbusRegisterBank> { [1] = live });
        server.Start();
        await using var client = ModbusClient.Create(master, ModbusFraming.Rtu, ModbusClientOptions.Default);
        var clock = new ManualClock();
        using var scheduler = new ModbusBusScheduler(client, clock);
        var options = new ModbusDeviceOptions { Timeout = TimeSpan.FromMilliseconds(150), FailureThreshold = 3, OpenDuration = TimeSpan.FromMinutes(1) };
        scheduler.AddDevice("dead", 2, Map, options);
        scheduler.AddDevice("live", 1, Map, options);

        var timeoutsPerCycle = new List<long>();
        long before = 0;
        for (int cycle = 1; cycle <= 8; cycle++)
        {
            var results = await scheduler.PollOnceAsync(CancellationToken.None);
            var liveResult = Assert.Single(results, r => r.Device == "live");
            Assert.True(liveResult.Succeeded, $"cycle {cycle}: {liveResult.Error?.Message}");
            Assert.Equal(2301, liveResult.Readings!.Single(q => q.Quantity == "voltage_l1").Mantissa);
            long now = client.GetStatistics(2).Timeouts;
            timeoutsPerCycle.Add(now - before);
            before = now;
        }

        // Three failing cycles with one timeout each open the breaker; after that the dead unit is not asked at all.
        Assert.Equal(new long[] { 1, 1, 1, 0, 0, 0, 0, 0 }, timeoutsPerCycle);
        Assert.Equal(3, client.GetStatistics(2).Requests);
        Assert.Equal(CircuitState.Open, scheduler.GetStatus().Single(s => s.Device == "dead").Breaker);
        Assert.Equal(5, scheduler.GetStatus().Single(s => s.Device == "dead").SkippedReads);
        Assert.Equal(0, client.GetStatistics(1).Timeouts);

        // After the open period one trial read is made; it fails and re-opens the breaker for another period.
        clock.Advance(TimeSpan.FromMinutes(1));
        Assert.Equal(CircuitState.HalfOpen, scheduler.GetStatus().Single(s => s.Device == "dead").Breaker);
        await scheduler.PollOnceAsync(CancellationToken.None);
        await scheduler.PollOnceAsync(CancellationToken.None);
        Assert.Equal(4, client.GetStatistics(2).Timeouts);
        Assert.Equal(CircuitState.Open, scheduler.GetStatus().Single(s => s.Device == "dead").Breaker);
    }

    [Fact]
    public async Task Breaker_closes_again_when_the_unit_comes_back()
    {
        var (master, slave) = InMemoryByteChannel.CreatePair();
        var units = new Dictionary<byte, ModbusRegisterBank>();
        await using var server = new ModbusRtuServer(slave, units);
        server.Start();
        await using var client = ModbusClient.Create(master, ModbusFraming.Rtu, ModbusClientOptions.Default);
        var clock = new ManualClock();
        using var scheduler = new ModbusBusScheduler(client, clock);
        scheduler.AddDevice("m", 3, Map, new ModbusDeviceOptions { Timeout = TimeSpan.FromMilliseconds(150), FailureThreshold = 1, OpenDuration = TimeSpan.FromSeconds(10) });

        Assert.False((await scheduler.PollOnceAsync(CancellationToken.None))[0].Succeeded);
        Assert.True((await scheduler.PollOnceAsync(CancellationToken.None))[0].Skipped);

        units[3] = LiveMeter();
        clock.Advance(TimeSpan.FromSeconds(10));
        var back = (await scheduler.PollOnceAsync(CancellationToken.None))[0];
        Assert.True(back.Succeeded);
        Assert.Equal(1000, back.Readings!.Single(q => q.Quantity == "import_active_energy").Mantissa);
        Assert.Equal(CircuitState.Closed, scheduler.GetStatus()[0].Breaker);
    }

    [Fact]
    public void Half_open_allows_exactly_one_trial()
    {
        var clock = new ManualClock();
        var breaker = new CircuitBreaker(2, TimeSpan.FromSeconds(5), clock);
        breaker.RecordFailure();
        Assert.Equal(CircuitState.Closed, breaker.State);
        breaker.RecordFailure();
        Assert.Equal(CircuitState.Open, breaker.State);
        Assert.False(breaker.TryAcquire());
        clock.Advance(TimeSpan.FromSeconds(5));
        Assert.True(breaker.TryAcquire());
        Assert.False(breaker.TryAcquire());
        breaker.RecordSuccess();
        Assert.Equal(CircuitState.Closed, breaker.State);
        Assert.Equal(0, breaker.ConsecutiveFailures);
    }
}
