using System.Text;
using EdgeMeter.Agent.Configuration;
using EdgeMeter.Agent.Display;
using EdgeMeter.Agent.Hosting;
using EdgeMeter.Agent.Sync;
using EdgeMeter.Agent.Tests.Support;
using EdgeMeter.Crypto.Keys;
using EdgeMeter.Economics;
using Microsoft.Extensions.Logging;
using MQTTnet;

namespace EdgeMeter.Agent.Tests.Sync;

/// <summary>
/// Receipts and balances count only when signed by the configured ledger: through a broker, a client without the
/// ledger's key changes nothing on the gateway, its page or its LCD; the ledger's own messages do.
/// </summary>
public sealed class LedgerDownlinkTests
{
    private static readonly byte[] LedgerSecret = Convert.FromHexString("8da4ef21b864d2cc526dbdb2a120bd2874c36c9d0a1fb7f8c63d7f7a8b41de8f");
    private static readonly byte[] StrangerSecret = Convert.FromHexString("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef");
    private static readonly byte[] OperatorSecret = Convert.FromHexString("4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318");

    [Fact]
    public async Task Receipts_and_balances_from_a_client_without_the_ledger_key_change_nothing_on_gateway_page_or_lcd()
    {
        await using var broker = await EmbeddedBroker.StartAsync();
        using var dir = new TempDir();
        var logs = new ListLoggerProvider();
        using var loggers = LoggerFactory.Create(b => b.AddProvider(logs));
        using var ledgerKey = FileDeviceKey.FromSecret(LedgerSecret);
        using var stranger = FileDeviceKey.FromSecret(StrangerSecret);
        using var operatorKey = FileDeviceKey.FromSecret(OperatorSecret);
        var options = new AgentOptions
        {
            DataDirectory = dir.Path,
            Mqtt = new MqttOptions { Broker = broker.Url },
            Http = new HttpOptions { Url = "http://127.0.0.1:0" },
            Ledger = new LedgerOptions { Address = ledgerKey.Address },
        };
        await using var agent = new AgentRuntime(options, loggers, displayMirror: TextWriter.Null);
        var code = agent.Pairing.CodeForDisplay()!;
        agent.Store.Append(Records.Drafts(5), agent.Signer);

        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var run = agent.RunAsync(stop.Token);
        await Until(() => agent.Uplink!.Connected && agent.Metrics.Snapshot(0).Published == 5 && agent.Web is not null, stop.Token);
        // The owner pairs through the page, as a customer does: the page's status is the owner's only.
        using var owner = new HttpClient(new HttpClientHandler { CookieContainer = new System.Net.CookieContainer() }) { BaseAddress = agent.Web!.BoundUrl };
        using (var paired = await owner.PostAsync("/api/pair", new StringContent(
            $$"""{"code":"{{code.Code}}","operatorAddress":"{{operatorKey.Address}}","label":"test community"}""", Encoding.UTF8, "application/json"), stop.Token))
            Assert.Equal(System.Net.HttpStatusCode.OK, paired.StatusCode);

        using var client = new MqttClientFactory().CreateMqttClient();
        await client.ConnectAsync(new MqttClientOptionsBuilder().WithTcpServer("127.0.0.1", broker.Port).Build(), stop.Token);
        async Task Send(string topic, byte[] payload, bool retain = false) => await client.PublishAsync(new MqttApplicationMessageBuilder()
            .WithTopic(topic).WithPayload(payload).WithRetainFlag(retain)
            .WithQualityOfServiceLevel(MQTTnet.Protocol.MqttQualityOfServiceLevel.AtLeastOnce).Build(), stop.Token);
        var device = agent.Key.Address;
        var receipt = TransactionCodec.EncodeReceipt(new Receipt("1-5-forged", true, 5, 1, null));
        var balance = BalanceCodec.Encode(device, 999m, 1);

        await Send(Topics.Receipt(device), receipt);
        await Send(Topics.Receipt(device), SignedEnvelope.Create(receipt, stranger));
        await Send(Topics.Balance(device), balance, retain: true);
        await Send(Topics.Balance(device), SignedEnvelope.Create(balance, stranger), retain: true);
        await Until(() => agent.Uplink!.UnverifiedDownlinks == 4, stop.Token);

        Assert.Equal(0UL, agent.Store.Head.ConfirmedThrough);
        Assert.Equal(5, agent.Store.PendingCount);
        Assert.Equal(0, agent.Metrics.Snapshot(0).Confirmed);
        Assert.Null(agent.Current.ConfirmedBalance);
        Assert.Contains("\"confirmedBalance\":null", await owner.GetStringAsync("/api/status", stop.Token), StringComparison.Ordinal);
        Assert.Equal($"{LcdCharset.Token}-- confirmed", Lcd(agent));
        var ignored = logs.Lines.Where(l => l.Contains("not signed by the ledger", StringComparison.Ordinal)).ToList();
        Assert.Equal(4, ignored.Count);
        Assert.Equal(2, ignored.Count(l => l.EndsWith($"signed by {stranger.Address}, not by {ledgerKey.Address}", StringComparison.Ordinal)));

        // The same messages signed by the ledger do count: the test above could have failed.
        await Send(Topics.Balance(device), SignedEnvelope.Create(BalanceCodec.Encode(device, 7m, 2), ledgerKey), retain: true);
        await Send(Topics.Receipt(device), SignedEnvelope.Create(receipt, ledgerKey));
        await Until(() => agent.Current.ConfirmedBalance == 7m && agent.Store.Head.ConfirmedThrough == 5, stop.Token);
        Assert.Contains("\"confirmedBalance\":7", await owner.GetStringAsync("/api/status", stop.Token), StringComparison.Ordinal);
        Assert.Equal($"{LcdCharset.Token}7 confirmed", Lcd(agent));
        Assert.Equal(4, agent.Uplink!.UnverifiedDownlinks);

        await stop.CancelAsync();
        await run;
    }

    private static string Lcd(AgentRuntime agent) =>
        DisplayPresenter.BuildPages(new PageInput(agent.Current, null, agent.Pairing.GetState(), false, DateTimeOffset.UtcNow,
            new EnergyToday(null, null, DateTimeOffset.UtcNow, false)), 16).First(p => p.Id == "balance").Line1;

    private static async Task Until(Func<bool> condition, CancellationToken ct)
    {
        while (!condition())
            await Task.Delay(20, ct);
    }
}
