using System.IO.Ports;
using EdgeMeter.Interop.Tests.Modbus;
using EdgeMeter.Protocols.Dlms;
using EdgeMeter.Protocols.Dlms.Simulator;
using EdgeMeter.Protocols.Transport;

namespace EdgeMeter.Interop.Tests.Dlms;

/// <summary>Our client and our simulated meter on the two ends of a socat pty pair: HDLC on a real serial line driver.</summary>
public sealed class DlmsPtyTests
{
    [Theory]
    [InlineData(128)]
    [InlineData(32)]
    public async Task Client_reads_the_simulated_meter_over_hdlc_on_a_pty(int maxInfo)
    {
        await using var pty = await SocatPtyPair.StartAsync();
        var now = new DateTimeOffset(2026, 11, 24, 8, 0, 0, TimeSpan.Zero);
        var meter = SimulatedDlmsMeter.Typical(new SimulatedMeterSecurity { Password = "pty"u8.ToArray() }, new FixedTime(now), capturePeriodSeconds: 3600);
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var slave = new SerialByteChannel(pty.SlaveEnd, 9600, Parity.None, StopBits.One);
        var serving = DlmsSimulatorServer.ServeAsync(meter, slave, DlmsFraming.Hdlc, null, stop.Token);

        var master = new SerialByteChannel(pty.MasterEnd, 9600, Parity.None, StopBits.One);
        await using (var client = new DlmsClient(
            new HdlcTransport(master, HdlcAddress.Client(17), HdlcAddress.Server(1), TimeSpan.FromSeconds(10), new HdlcParameters(maxInfo, maxInfo, 1, 1)),
            new DlmsClientSettings { ClientAddress = 17, Authentication = DlmsAuthentication.Low, Password = "pty"u8.ToArray() }))
        {
            await client.ConnectAsync(stop.Token);
            var voltage = await client.ReadRegisterAsync(ObisCode.Parse("1.0.32.7.0.255"), stop.Token);
            var rows = await client.ReadProfileByRangeAsync(SimulatedDlmsMeter.LoadProfile, CosemDateTime.FromUtc(now.AddHours(-6)), CosemDateTime.FromUtc(now), stop.Token);
            await client.ReleaseAsync(stop.Token);
            await client.CloseAsync(stop.Token);

            Assert.Equal(230.0m, voltage.Value);
            Assert.Equal("230.0 V", voltage.ToString());
            Assert.Equal(7, rows.Count);
            Assert.Equal(now, CosemDateTime.From(rows[^1].Values[0]).ToDateTimeOffset());
        }

        await stop.CancelAsync();
        await slave.DisposeAsync();
        await serving;
    }

    private sealed class FixedTime(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;
    }
}
