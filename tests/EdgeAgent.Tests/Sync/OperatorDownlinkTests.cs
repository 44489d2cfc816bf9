using System.Text;
using EdgeMeter.Agent.Configuration;
using EdgeMeter.Agent.Hosting;
using EdgeMeter.Agent.Sync;
using EdgeMeter.Agent.Tests.Support;
using EdgeMeter.Crypto.Keys;
using EdgeMeter.Economics;
using Microsoft.Extensions.Logging;
using MQTTnet;

namespace EdgeMeter.Agent.Tests.Sync;

/// <summary>The whole downlink path: broker, uplink subscription, signature check against the paired operator.</summary>
public sealed class OperatorDownlinkTests
{
    private static readonly byte[] OperatorSecret = Convert.FromHexString("4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318");

    private static string Params(int version, string device) => $$"""
        {"chainId":31337,"device":"{{device}}","validFrom":"2020-01-01T00:00:00Z","validUntil":"2100-01-01T00:00:00Z","version":{{version}},"timeZone":"UTC","role":"consumer","alpha":1,"beta":1,"gamma":3,"delta":0,
         "efGridKgPerKwh":0.4,"f1":0.1,"f2":0.3,"mu":100,"lambda":100,"nMax":50,
         "congestionSteps":[{"minKw":1,"factor":1}],"congestionThreshold":1,"tokensPerCongestionThreshold":5}
        """;

    [Fact]
    public async Task Over_mqtt_only_parameters_signed_by_the_paired_operator_change_anything()
    {
        await using var broker = await EmbeddedBroker.StartAsync();
        using var dir = new TempDir();
        var logs = new ListLoggerProvider();
        using var loggers = LoggerFactory.Create(b => b.AddProvider(logs));
        var options = new AgentOptions
        {
            DataDirectory = dir.Path,
            Mqtt = new MqttOptions { Broker = broker.Url },
            Http = new HttpOptions { Url = "" },
        };
        using var operatorKey = FileDeviceKey.FromSecret(OperatorSecret);
        using var stranger = FileDeviceKey.FromSecret(Convert.FromHexString("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"));
        await using var agent = new AgentRuntime(options, loggers, displayMirror: TextWriter.Null);
        var code = agent.Pairing.CodeForDisplay()!;
        Assert.Equal(EdgeMeter.Agent.Pairing.PairingResult.Paired, agent.Pairing.TryPair(code.Code, operatorKey.Address, "test community").Result);

        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var run = agent.RunAsync(stop.Token);
        await Until(() => agent.Uplink!.Connected, stop.Token);

        using var client = new MqttClientFactory().CreateMqttClient();
        await client.ConnectAsync(new MqttClientOptionsBuilder().WithTcpServer("127.0.0.1", broker.Port).Build(), stop.Token);
        var topic = Topics.Params(agent.Key.Address);
        async Task Send(byte[] payload) => await client.PublishAsync(new MqttApplicationMessageBuilder()
            .WithTopic(topic).WithPayload(payload).WithQualityOfServiceLevel(MQTTnet.Protocol.MqttQualityOfServiceLevel.AtLeastOnce).Build(), stop.Token);

        await Send(Encoding.UTF8.GetBytes(Params(5, agent.Key.Address)));
        await Send(SignedEnvelope.Create(Encoding.UTF8.GetBytes(Params(6, agent.Key.Address)), stranger));
        await Until(() => logs.Lines.Count(l => l.Contains("Rejected operator params", StringComparison.Ordinal)) == 2, stop.Token);
        Assert.Equal(0, agent.Factors.Params.Version);

        await Send(SignedEnvelope.Create(Encoding.UTF8.GetBytes(Params(7, agent.Key.Address)), operatorKey));
        // The version changes before the acceptance is logged: wait for the line, not only the state.
        await Until(() => agent.Factors.Params.Version == 7
            && logs.Lines.Contains("Information: Accepted operator parameters version 7"), stop.Token);

        Assert.Equal(3m, agent.Factors.Params.Gamma);
        var rejected = logs.Lines.Where(l => l.Contains("Rejected operator params", StringComparison.Ordinal)).ToList();
        Assert.Equal(
        [
            "Warning: Rejected operator params message: not a signed envelope (needs string fields payload and signature); nothing changed",
            $"Warning: Rejected operator params message: signed by {stranger.Address}, not by the paired operator {operatorKey.Address}; nothing changed",
        ], rejected);

        await stop.CancelAsync();
        await run;
    }

    private static async Task Until(Func<bool> condition, CancellationToken ct)
    {
        while (!condition())
            await Task.Delay(20, ct);
    }
}
