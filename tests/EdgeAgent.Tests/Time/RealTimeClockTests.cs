using EdgeMeter.Agent.Configuration;
using EdgeMeter.Agent.Tests.Pairing;
using EdgeMeter.Agent.Tests.Support;
using EdgeMeter.Agent.Time;
using EdgeMeter.Crypto.Records;
using Xunit;

namespace EdgeMeter.Agent.Tests.Time;

public sealed class RealTimeClockTests : IDisposable
{
    private sealed class FakeClock : IClockSource
    {
        public long MonotonicMs { get; set; } = 5_000;

        public long UtcNowMs { get; set; }

        public bool Synchronised { get; set; }

        public KernelClockState? ReadKernel() => new KernelClockState(Synchronised, Synchronised ? 0 : 5, Synchronised ? 0 : 0x40, 1000, 100);

        public void Advance(long ms)
        {
            MonotonicMs += ms;
            UtcNowMs += ms;
        }
    }

    // A gateway that booted without network: its system clock says the last shutdown, the RTC knows better.
    private static readonly DateTimeOffset SystemSays = new(2026, 11, 20, 8, 0, 0, TimeSpan.Zero);
    private static readonly DateTimeOffset RtcSays = new(2026, 12, 1, 0, 20, 9, TimeSpan.Zero);

    private readonly string _dev = Directory.CreateTempSubdirectory("edgemeter-rtc-").FullName;
    private readonly ListLogger<RealTimeClockTests> _log = new();
    private readonly SimulatedDs3231 _rtc = new();

    public RealTimeClockTests() => File.WriteAllText(Path.Combine(_dev, "i2c-1"), "");

    public void Dispose() => Directory.Delete(_dev, recursive: true);

    private RealTimeClock? Open(out DateTimeOffset time) =>
        RealTimeClock.Open(new RtcOptions(), _log, out time, (_, address) => address == RealTimeClock.Address ? _rtc : throw new IOException("no ACK"), _dev);

    [Fact]
    public void Reads_the_bcd_time_registers()
    {
        // 2026-12-01 00:20:09, a Tuesday, century bit set: written as the datasheet lays the registers out.
        new byte[] { 0x09, 0x20, 0x00, 0x02, 0x01, 0x92, 0x26 }.CopyTo(_rtc.Registers, 0);

        using var clock = Open(out var time);

        Assert.NotNull(clock);
        Assert.Equal(RtcSays, time);
        Assert.Equal(["Information: DS3231 real-time clock on I2C bus 1 reads 2026-12-01T00:20:09.0000000+00:00"], _log.Lines);
    }

    [Fact]
    public void Setting_writes_the_time_in_bcd_in_24_hour_mode()
    {
        _rtc.Load(RtcSays.UtcDateTime);
        using var clock = Open(out _)!;

        Assert.True(clock.TrySet(new DateTimeOffset(2027, 3, 15, 13, 45, 30, TimeSpan.Zero)));

        Assert.Equal(new byte[] { 0x30, 0x45, 0x13 }, _rtc.Registers[..3]);
        Assert.InRange(_rtc.Registers[3], 1, 7);
        Assert.Equal(new byte[] { 0x15, 0x83, 0x27 }, _rtc.Registers[4..7]);
        Assert.Equal(new DateTimeOffset(2027, 3, 15, 13, 45, 30, TimeSpan.Zero), clock.Read());
    }

    [Fact]
    public void An_rtc_that_lost_its_time_is_no_rtc()
    {
        // Month 0 cannot be: registers of a clock that never ran on its battery.
        _rtc.Registers[5] = 0x00;

        var clock = Open(out _);

        Assert.Null(clock);
        Assert.Equal(["Warning: No RTC: the DS3231 on I2C bus 1 holds no valid time (battery?); keeping the system clock"], _log.Lines);
    }

    [Fact]
    public void No_bus_and_no_answer_are_each_said_once()
    {
        var noBus = RealTimeClock.Open(new RtcOptions { I2cBus = 2 }, _log, out _, (_, _) => _rtc, _dev);
        _rtc.NoAck = true;
        var noAnswer = Open(out _);

        Assert.Null(noBus);
        Assert.Null(noAnswer);
        Assert.Equal(2, _log.Lines.Count);
        Assert.Equal($"Warning: No RTC: no I2C bus at {_dev}/i2c-2; keeping the system clock", _log.Lines[0]);
        Assert.StartsWith("Warning: No RTC: nothing answers on I2C bus 1 at address 0x68 (Error 121", _log.Lines[1], StringComparison.Ordinal);
    }

    [Fact]
    public void Without_network_time_records_take_the_rtc_time_and_are_informative_until_ntp_then_the_rtc_is_set()
    {
        _rtc.Load(RtcSays.UtcDateTime);
        var system = new FakeClock { UtcNowMs = SystemSays.ToUnixTimeMilliseconds() };
        var time = new ManualTimeProvider(SystemSays);

        var clocks = AgentClocks.Start(new RtcOptions(), system, time, _log, (_, _) => _rtc, _dev);
        var first = clocks.Monitor.Sample();

        Assert.Equal((RtcSays.ToUnixTimeMilliseconds(), TimeStatus.Informative), (first.GatewayTimeMs, first.Status));
        Assert.Equal(RtcSays, clocks.Time.GetUtcNow());
        Assert.True(clocks.Monitor.TimeFromRtc);

        // The network comes: timesyncd steps the system clock to the true time and the kernel reports sync.
        var ntp = RtcSays.AddSeconds(62).AddMilliseconds(250);
        system.Advance(60_000);
        system.UtcNowMs = ntp.ToUnixTimeMilliseconds();
        system.Synchronised = true;
        time.Advance(ntp - SystemSays);
        var synced = clocks.Monitor.Sample();

        Assert.Equal(TimeStatus.Synchronised, synced.Status);
        Assert.False(clocks.Monitor.TimeFromRtc);
        Assert.Equal(ntp, clocks.Time.GetUtcNow());
        Assert.Equal(new DateTimeOffset(2026, 12, 1, 0, 21, 11, TimeSpan.Zero), clocks.Rtc!.Read());
    }

    [Fact]
    public void Without_an_rtc_the_system_clock_and_todays_statuses_stay()
    {
        var system = new FakeClock { UtcNowMs = SystemSays.ToUnixTimeMilliseconds() };
        var time = new ManualTimeProvider(SystemSays);

        var clocks = AgentClocks.Start(new RtcOptions { I2cBus = -1 }, system, time, _log);

        Assert.Null(clocks.Rtc);
        Assert.Same(time, clocks.Time);
        Assert.Equal((SystemSays.ToUnixTimeMilliseconds(), TimeStatus.Unsynchronised), (clocks.Monitor.Sample().GatewayTimeMs, clocks.Monitor.Status));
        Assert.Equal(["Warning: No RTC: none configured (rtc.i2cBus is -1); keeping the system clock"], _log.Lines);
    }

    [Fact]
    public void With_network_time_at_start_the_rtc_is_only_set()
    {
        _rtc.Load(RtcSays.UtcDateTime);
        var now = new DateTimeOffset(2026, 12, 1, 0, 30, 0, TimeSpan.Zero);
        var system = new FakeClock { UtcNowMs = now.ToUnixTimeMilliseconds(), Synchronised = true };

        var clocks = AgentClocks.Start(new RtcOptions(), system, new ManualTimeProvider(now), _log, (_, _) => _rtc, _dev);
        var stamp = clocks.Monitor.Sample();

        Assert.Equal((now.ToUnixTimeMilliseconds(), TimeStatus.Synchronised), (stamp.GatewayTimeMs, stamp.Status));
        Assert.Equal(now, clocks.Rtc!.Read());
    }
}
