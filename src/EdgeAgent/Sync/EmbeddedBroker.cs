using System.Net;
using System.Net.Sockets;
using MQTTnet.Server;

namespace EdgeMeter.Agent.Sync;

/// <summary>
/// An MQTT broker in-process on loopback, 127.0.0.1 and [::1] only (MQTTnet.Server), for <c>edgemeter demo</c> when no broker is given.
/// Persistent sessions so that the demo ledger and agent keep their QoS 1 messages across reconnects.
/// </summary>
internal sealed class EmbeddedBroker : IAsyncDisposable
{
    private readonly MqttServer _server;

    private EmbeddedBroker(MqttServer server, int port)
    {
        _server = server;
        Port = port;
    }

    public int Port { get; }

    public string Url => $"mqtt://127.0.0.1:{Port}";

    public static async Task<EmbeddedBroker> StartAsync(int port = 0)
    {
        if (port == 0)
            port = FreeLoopbackPort();
        var options = new MqttServerOptionsBuilder()
            .WithDefaultEndpoint()
            // Loopback only, on both families: MQTTnet otherwise also listens on [::], open to the LAN without authentication.
            .WithDefaultEndpointBoundIPAddress(IPAddress.Loopback)
            .WithDefaultEndpointBoundIPV6Address(IPAddress.IPv6Loopback)
            .WithDefaultEndpointPort(port)
            .WithPersistentSessions()
            .WithMaxPendingMessagesPerClient(100_000)
            .Build();
        var server = new MqttServerFactory().CreateMqttServer(options);
        await server.StartAsync().ConfigureAwait(false);
        return new EmbeddedBroker(server, port);
    }

    /// <summary>A port the kernel just gave out on loopback; MQTTnet cannot report the port it bound to 0.</summary>
    internal static int FreeLoopbackPort()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        return ((IPEndPoint)probe.LocalEndpoint).Port;
    }

    public async ValueTask DisposeAsync()
    {
        await _server.StopAsync().ConfigureAwait(false);
        _server.Dispose();
    }
}
