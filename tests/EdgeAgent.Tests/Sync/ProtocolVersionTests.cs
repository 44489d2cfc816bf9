using System.Net;
using System.Net.Sockets;
using EdgeMeter.Agent.Configuration;
using EdgeMeter.Agent.Demo;
using EdgeMeter.Agent.Sync;
using EdgeMeter.Agent.Tests.Support;
using EdgeMeter.Economics;
using Microsoft.Extensions.Logging.Abstractions;

namespace EdgeMeter.Agent.Tests.Sync;

public sealed class ProtocolVersionTests
{
    [Theory]
    [InlineData("5")]
    [InlineData("311")]
    public async Task The_whole_path_works_over_MQTT_5_and_3_1_1(string protocol)
    {
        await using var broker = await EmbeddedBroker.StartAsync();
        using var dir = new TempDir();
        var settings = new DemoSettings
        {
            DataDirectory = dir.Path,
            HttpUrl = "http://127.0.0.1:0",
            ExitAfter = TimeSpan.FromSeconds(4),
            ExternalBroker = new MqttOptions { Broker = broker.Url, Protocol = protocol },
        };

        var result = await new DemoRunner(settings, NullLoggerFactory.Instance).RunAsync(CancellationToken.None);

        Assert.True(result.Confirmed >= 6, $"confirmed {result.Confirmed}");
        Assert.Equal(result.Signed, result.Confirmed);
    }

    [Fact]
    public async Task A_broker_that_refuses_MQTT_5_gets_3_1_1_and_the_records_still_arrive()
    {
        await using var broker = await EmbeddedBroker.StartAsync();
        using var front = new V311OnlyFront(broker.Port);
        using var dir = new TempDir();
        var settings = new DemoSettings
        {
            DataDirectory = dir.Path,
            HttpUrl = "http://127.0.0.1:0",
            ExitAfter = TimeSpan.FromSeconds(4),
            ExternalBroker = new MqttOptions { Broker = $"mqtt://127.0.0.1:{front.Port}", Protocol = "5" },
        };

        var result = await new DemoRunner(settings, NullLoggerFactory.Instance).RunAsync(CancellationToken.None);

        Assert.True(front.RefusedV5 >= 2, $"{front.RefusedV5} refused MQTT 5 handshakes"); // the agent's and the ledger's
        Assert.True(front.AcceptedV311 >= 2, $"{front.AcceptedV311} MQTT 3.1.1 connections");
        Assert.True(result.Confirmed >= 6, $"confirmed {result.Confirmed}");
        Assert.Equal(result.Signed, result.Confirmed);
    }

    /// <summary>
    /// Stands in for a 3.1.1-only broker: answers an MQTT 5 CONNECT with CONNACK "unacceptable protocol version" and
    /// closes, as MQTT 5 section 3.1.2.2 describes; forwards 3.1.1 connections to the real broker behind it.
    /// </summary>
    private sealed class V311OnlyFront : IDisposable
    {
        private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
        private readonly int _backend;
        private readonly CancellationTokenSource _stop = new();
        private int _refused;
        private int _accepted;

        public V311OnlyFront(int backendPort)
        {
            _backend = backendPort;
            _listener.Start();
            _ = AcceptLoopAsync();
        }

        public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;
        public int RefusedV5 => Volatile.Read(ref _refused);
        public int AcceptedV311 => Volatile.Read(ref _accepted);

        private async Task AcceptLoopAsync()
        {
            try
            {
                while (true)
                {
                    var client = await _listener.AcceptTcpClientAsync(_stop.Token);
                    _ = HandleAsync(client);
                }
            }
            catch (OperationCanceledException)
            {
            }
        }

        private async Task HandleAsync(TcpClient client)
        {
            using var _ = client;
            var s = client.GetStream();
            // Fixed header, remaining length (varint), then protocol name "MQTT" and the protocol level.
            var head = new List<byte> { await ReadByte(s) };
            int length = 0, shift = 0;
            byte b;
            do
            {
                b = await ReadByte(s);
                head.Add(b);
                length |= (b & 0x7F) << shift;
                shift += 7;
            }
            while ((b & 0x80) != 0);
            var body = new byte[length];
            await s.ReadExactlyAsync(body, _stop.Token);
            if (body[6] == 5)
            {
                Interlocked.Increment(ref _refused);
                await s.WriteAsync(new byte[] { 0x20, 0x02, 0x00, 0x01 }, _stop.Token);
                return;
            }
            Interlocked.Increment(ref _accepted);
            using var upstream = new TcpClient();
            await upstream.ConnectAsync(IPAddress.Loopback, _backend, _stop.Token);
            var u = upstream.GetStream();
            await u.WriteAsync(head.ToArray(), _stop.Token);
            await u.WriteAsync(body, _stop.Token);
            await Task.WhenAny(s.CopyToAsync(u, _stop.Token), u.CopyToAsync(s, _stop.Token));
        }

        private async Task<byte> ReadByte(NetworkStream s)
        {
            var one = new byte[1];
            await s.ReadExactlyAsync(one, _stop.Token);
            return one[0];
        }

        public void Dispose()
        {
            _stop.Cancel();
            _listener.Stop();
            _stop.Dispose();
        }
    }
}
