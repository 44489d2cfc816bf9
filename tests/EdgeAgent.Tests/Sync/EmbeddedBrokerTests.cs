using System.Globalization;
using System.Net;
using System.Net.Sockets;
using EdgeMeter.Agent.Sync;
using Xunit;

namespace EdgeMeter.Agent.Tests.Sync;

public sealed class EmbeddedBrokerTests
{
    [Fact]
    public async Task Demo_broker_listens_on_loopback_only_for_ipv4_and_ipv6()
    {
        await using var broker = await EmbeddedBroker.StartAsync();

        var listening = ListeningAddresses(broker.Port);

        Assert.Equal(["127.0.0.1", "::1"], listening.Order(StringComparer.Ordinal).ToArray());
        using var v6 = new TcpClient(AddressFamily.InterNetworkV6);
        await v6.ConnectAsync(IPAddress.IPv6Loopback, broker.Port);
        Assert.True(v6.Connected);
    }

    /// <summary>The local addresses of the kernel's listening TCP sockets on <paramref name="port"/> (/proc/net/tcp and tcp6).</summary>
    private static List<string> ListeningAddresses(int port)
    {
        var result = new List<string>();
        foreach (var file in new[] { "/proc/net/tcp", "/proc/net/tcp6" })
        {
            foreach (var line in File.ReadLines(file).Skip(1))
            {
                var fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                var local = fields[1].Split(':');
                if (fields[3] != "0A" || int.Parse(local[1], NumberStyles.HexNumber, CultureInfo.InvariantCulture) != port)
                {
                    continue;
                }

                // The kernel prints the address as 32-bit words in host (little-endian) order.
                var hex = local[0];
                var bytes = new byte[hex.Length / 2];
                for (int word = 0; word < bytes.Length / 4; word++)
                {
                    for (int b = 0; b < 4; b++)
                    {
                        bytes[word * 4 + b] = byte.Parse(hex.AsSpan(word * 8 + (3 - b) * 2, 2), NumberStyles.HexNumber, CultureInfo.InvariantCulture);
                    }
                }

                result.Add(new IPAddress(bytes).ToString());
            }
        }

        return result;
    }
}
