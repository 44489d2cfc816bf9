using EdgeMeter.Agent.Configuration;
using EdgeMeter.Agent.Demo;
using EdgeMeter.Agent.Sync;
using EdgeMeter.Agent.Tests.Support;
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
}
