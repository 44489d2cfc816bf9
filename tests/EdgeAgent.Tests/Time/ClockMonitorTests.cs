using EdgeMeter.Agent.Time;
using EdgeMeter.Crypto.Records;
using Xunit;

namespace EdgeMeter.Agent.Tests.Time;

public class ClockMonitorTests
{
    private sealed class FakeClock : IClockSource
    {
        public long MonotonicMs { get; set; } = 5_000;
        public long UtcNowMs { get; set; } = 1_767_225_600_000;
        public bool? KernelSynchronised { get; set; }

        public KernelClockState? ReadKernel() =>
            KernelSynchronised is bool synced ? new KernelClockState(synced, synced ? 0 : 5, synced ? 0 : 0x40, 1000, 100) : null;

        public void Advance(long ms, long wallExtraMs = 0)
        {
            MonotonicMs += ms;
            UtcNowMs += ms + wallExtraMs;
        }
    }

    [Fact]
    public void Reports_no_jump_while_wall_and_monotonic_clocks_advance_together()
    {
        var clock = new FakeClock { KernelSynchronised = true };
        var monitor = new ClockMonitor(clock, TimeSpan.FromSeconds(1));
        var jumps = new List<ClockJump>();
        monitor.ClockJumped += (_, j) => jumps.Add(j);

        for (int i = 0; i < 5; i++)
        {
            var stamp = monitor.Sample();
            Assert.Equal((clock.UtcNowMs, TimeStatus.Synchronised), (stamp.GatewayTimeMs, stamp.Status));
            clock.Advance(60_000, wallExtraMs: 5); // NTP slewing: a few ms per minute
        }
        Assert.Empty(jumps);
    }

    [Fact]
    public void Detects_a_backward_jump_and_marks_unsynchronised_readings_relative_without_restamping()
    {
        var clock = new FakeClock { KernelSynchronised = false };
        var monitor = new ClockMonitor(clock, TimeSpan.FromSeconds(1));
        var jumps = new List<ClockJump>();
        var statuses = new List<TimeStatus>();
        monitor.ClockJumped += (_, j) => jumps.Add(j);
        monitor.StatusChanged += (_, s) => statuses.Add(s);

        Assert.Equal(TimeStatus.Unsynchronised, monitor.Sample().Status);
        long before = clock.UtcNowMs;
        clock.Advance(10_000, wallExtraMs: -3_600_000);
        var stamp = monitor.Sample();

        Assert.Equal(before + 10_000 - 3_600_000, stamp.GatewayTimeMs);
        Assert.Equal(TimeStatus.Relative, stamp.Status);
        var jump = Assert.Single(jumps);
        Assert.Equal(-3_600_000, jump.JumpMs);
        Assert.Equal([TimeStatus.Unsynchronised, TimeStatus.Relative], statuses);
    }

    [Fact]
    public void Goes_synchronised_then_informative_when_ntp_sync_is_lost()
    {
        var clock = new FakeClock { KernelSynchronised = true };
        var monitor = new ClockMonitor(clock, TimeSpan.FromSeconds(1));
        Assert.Equal(TimeStatus.Synchronised, monitor.Sample().Status);
        clock.KernelSynchronised = false;
        clock.Advance(1000);
        Assert.Equal(TimeStatus.Informative, monitor.Sample().Status);
        clock.Advance(1000, wallExtraMs: 30_000);
        Assert.Equal(TimeStatus.Relative, monitor.Sample().Status);
        clock.KernelSynchronised = true;
        clock.Advance(1000);
        Assert.Equal(TimeStatus.Synchronised, monitor.Sample().Status);
    }

    [Fact]
    public void Treats_an_unreadable_kernel_state_as_unsynchronised()
    {
        var monitor = new ClockMonitor(new FakeClock { KernelSynchronised = null }, TimeSpan.FromSeconds(1));
        Assert.Equal(TimeStatus.Unsynchronised, monitor.Sample().Status);
    }

    [Theory]
    [InlineData(0L, 1_000L, null)]
    [InlineData(1_767_225_601_500L, 1_767_225_600_000L, 1_500L)]
    [InlineData(1_767_225_598_000L, 1_767_225_600_000L, -2_000L)]
    public void Computes_meter_minus_gateway_offset_only_when_the_meter_has_a_clock(long meter, long gateway, long? expected)
    {
        Assert.Equal(expected, ClockMonitor.MeterClockOffsetMs(meter, gateway));
    }

    [Fact]
    public void Reads_the_kernel_clock_state_through_adjtimex_on_linux()
    {
        Assert.Equal(OperatingSystem.IsLinux(), KernelClock.TryRead(out var state));
        if (OperatingSystem.IsLinux())
        {
            Assert.InRange(state.State, 0, 5);
            Assert.True(state.MaxErrorMicroseconds >= 0);
            Assert.Equal(state.State != 5 && (state.Status & 0x40) == 0, state.Synchronised);
        }
    }
}
