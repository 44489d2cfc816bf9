using EdgeMeter.Agent.Configuration;
using EdgeMeter.Agent.Hosting;
using EdgeMeter.Agent.Tests.Support;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace EdgeMeter.Agent.Tests.Hosting;

public sealed class SupervisionTests
{
    /// <summary>Bounds the wait, so that a loop that hides its failure fails the test instead of hanging it.</summary>
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);

    private static AgentOptions Options(string dir, string endpoint) => new()
    {
        DataDirectory = dir,
        Http = new HttpOptions { Url = "" },
        Storage = new StorageOptions { CommitIntervalSeconds = 0 },
        Meters = [new MeterOptions { Id = "grid", Endpoint = endpoint, Unit = 1, Map = "eastron-sdm630", TimeoutMs = 2000 }],
    };

    [Fact]
    public async Task A_failing_poller_stops_the_agent_with_one_line_naming_the_loop_and_the_error()
    {
        await using var meter = SimulatedMeter.Start(1, ("active_power", 1200m));
        using var dir = new TempDir();
        var lines = new ListLoggerProvider();
        using var loggers = LoggerFactory.Create(b => b.AddProvider(lines));
        await using var agent = new AgentRuntime(Options(dir.Path, meter.Endpoint), loggers, displayMirror: TextWriter.Null);
        agent.TimeStatusNow = () => throw new InvalidOperationException("clock source gone");
        using var stop = new CancellationTokenSource();

        var e = await Assert.ThrowsAsync<LoopFailedException>(() => agent.RunAsync(stop.Token).WaitAsync(Bound));

        Assert.Equal("poller", e.Loop);
        Assert.False(stop.IsCancellationRequested);
        var critical = Assert.Single(lines.Lines, l => l.StartsWith("Critical:", StringComparison.Ordinal));
        Assert.Equal("Critical: The poller loop failed, stopping the agent: InvalidOperationException: clock source gone", critical);
    }

    [Fact]
    public async Task Edgemeter_run_exits_1_when_a_loop_fails_and_0_on_an_orderly_stop()
    {
        await using var meter = SimulatedMeter.Start(1, ("active_power", 1200m));
        using var dir = new TempDir();
        var options = Options(dir.Path, meter.Endpoint);

        var failed = await AgentHost.RunAsync(options, CancellationToken.None,
            r => r.TimeStatusNow = () => throw new InvalidOperationException("clock source gone")).WaitAsync(Bound);
        Assert.Equal(1, failed);

        using var stop = new CancellationTokenSource();
        var running = AgentHost.RunAsync(options, stop.Token, r => r.Poller.Stored += _ => stop.Cancel());
        Assert.Equal(0, await running.WaitAsync(Bound));
    }

    [Fact]
    public async Task Edgemeter_run_exits_1_when_the_agent_cannot_start_its_page()
    {
        await using var meter = SimulatedMeter.Start(1, ("active_power", 1200m));
        using var dir = new TempDir();
        // Another program holds the page's port: the agent cannot start, and must not exit 0 (systemd would not restart it).
        using var taken = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        taken.Start();
        var port = ((System.Net.IPEndPoint)taken.LocalEndpoint).Port;
        var options = Options(dir.Path, meter.Endpoint);
        options.Http.Url = $"http://127.0.0.1:{port}";

        Assert.Equal(1, await AgentHost.RunAsync(options, CancellationToken.None).WaitAsync(Bound));
    }

    [Fact]
    public async Task The_first_failure_cancels_the_other_loops_and_names_its_loop()
    {
        var otherCancelled = false;
        var e = await Assert.ThrowsAsync<LoopFailedException>(() => Supervision.RunAsync(
        [
            new("idle", async ct =>
            {
                try
                {
                    await Task.Delay(Timeout.Infinite, ct);
                }
                finally
                {
                    otherCancelled = ct.IsCancellationRequested;
                }
            }),
            new("uplink", async _ =>
            {
                await Task.Yield();
                throw new IOException("socket gone");
            }),
        ], CancellationToken.None).WaitAsync(Bound));

        Assert.Equal("uplink", e.Loop);
        Assert.Equal("uplink loop failed: IOException: socket gone", e.Message);
        Assert.True(otherCancelled);
    }

    [Fact]
    public void The_watchdog_pings_only_while_every_stage_progresses_and_logs_a_stall_once()
    {
        string? stalled = null;
        var pings = 0;
        var lines = new ListLoggerProvider();
        using var loggers = LoggerFactory.Create(b => b.AddProvider(lines));
        var dog = new Watchdog(TimeSpan.FromSeconds(60), _ => stalled, () => pings++, loggers.CreateLogger<Watchdog>());

        Assert.True(dog.Check());
        stalled = "poller";
        Assert.False(dog.Check());
        Assert.False(dog.Check());
        stalled = null;
        Assert.True(dog.Check());

        Assert.Equal(2, pings);
        Assert.Equal(
        [
            "Error: Watchdog: no progress in the poller for 60 s; not telling systemd we are alive",
            "Information: Watchdog: the poller makes progress again",
        ], lines.Lines);
    }

    [Theory]
    [InlineData("30000000", null, 30.0)]
    [InlineData("30000000", "1", null)]
    [InlineData(null, null, null)]
    [InlineData("0", null, null)]
    [InlineData("-5", null, null)]
    public void The_watchdog_interval_comes_from_WATCHDOG_USEC_for_this_process_only(string? usec, string? pid, double? seconds)
    {
        var interval = Watchdog.IntervalFromEnvironment(name => name switch
        {
            "WATCHDOG_USEC" => usec,
            "WATCHDOG_PID" => pid,
            _ => null,
        });
        Assert.Equal(seconds, interval?.TotalSeconds);
    }

    [Fact]
    public async Task A_runtime_whose_stages_progress_is_not_stalled_and_an_old_poll_is()
    {
        await using var meter = SimulatedMeter.Start(1, ("active_power", 1200m));
        using var dir = new TempDir();
        await using var agent = new AgentRuntime(Options(dir.Path, meter.Endpoint), NullLoggerFactory.Instance, displayMirror: TextWriter.Null);
        await agent.Poller.PollOnceAsync(CancellationToken.None);

        Assert.Null(agent.StalledStage(TimeSpan.FromMinutes(1)));
        Assert.Equal("poller", agent.StalledStage(TimeSpan.FromMilliseconds(-1)));
    }
}
