using System.Buffers;
using EdgeMeter.Agent.Configuration;
using EdgeMeter.Agent.Sync;
using EdgeMeter.Economics;
using Microsoft.Extensions.Logging;
using MQTTnet;
using MQTTnet.Protocol;

namespace EdgeMeter.Agent.Ledger;

/// <summary>
/// A single-node chain for development, demos and tests (production uses the operator's chain). It subscribes to
/// every device's transactions, verifies and orders them into hash-linked blocks, and answers with receipts and
/// balances. Messages are handled one at a time inside the MQTT callback, so the broker's acknowledgement follows
/// the durable write: a crash before it means the broker delivers the transaction again.
/// </summary>
internal sealed partial class DevLedger : IAsyncDisposable
{
    private readonly MqttOptions _options;
    private readonly ulong _chainId;
    private readonly LedgerStore _store;
    private readonly ILogger<DevLedger> _log;
    private readonly IMqttClient _client;
    private readonly Lock _gate = new();

    public DevLedger(MqttOptions options, string dataDirectory, ulong chainId, ILogger<DevLedger> log)
    {
        _options = options;
        _chainId = chainId;
        _log = log;
        _store = new LedgerStore(dataDirectory);
        _client = new MqttClientFactory().CreateMqttClient();
        _client.ApplicationMessageReceivedAsync += OnMessageAsync;
    }

    public long Height => _store.Height;

    /// <summary>Connects and keeps the connection up until cancelled.</summary>
    public async Task RunAsync(CancellationToken ct)
    {
        var attempt = 0;
        while (!ct.IsCancellationRequested)
        {
            try
            {
                if (!_client.IsConnected)
                {
                    await ConnectAsync(ct).ConfigureAwait(false);
                    attempt = 0;
                }
                await Task.Delay(TimeSpan.FromMilliseconds(500), ct).ConfigureAwait(false);
                continue;
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                break;
            }
            catch (Exception e)
            {
                LogDown(e.Message);
            }
            attempt++;
            try
            {
                await Task.Delay(MqttConnection.Backoff(attempt), ct).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }
    }

    /// <summary>Connects once (persistent session) and subscribes.</summary>
    public async Task ConnectAsync(CancellationToken ct)
    {
        await MqttConnection.ConnectAsync(_client, _options, "edgemeter-ledger", cleanStart: false, ct).ConfigureAwait(false);
        await _client.SubscribeAsync(new MqttClientSubscribeOptionsBuilder()
            .WithTopicFilter(f => f.WithTopic(Topics.AllTx).WithAtLeastOnceQoS())
            .WithTopicFilter(f => f.WithTopic(Topics.AllClaims).WithAtLeastOnceQoS())
            .Build(), ct).ConfigureAwait(false);
        LogConnected(_options.Broker, _store.Height);
    }

    public IReadOnlyList<DeviceSummary> Summarise()
    {
        lock (_gate)
            return _store.Summarise();
    }

    private async Task OnMessageAsync(MqttApplicationMessageReceivedEventArgs e)
    {
        var topic = e.ApplicationMessage.Topic;
        var device = Topics.DeviceOf(topic);
        if (device is null)
            return;
        var payload = e.ApplicationMessage.Payload.ToArray();
        if (topic == Topics.Tx(device))
        {
            var (receipt, balance) = HandleTransaction(device, payload);
            await PublishAsync(Topics.Receipt(device), TransactionCodec.EncodeReceipt(receipt), retain: false).ConfigureAwait(false);
            if (balance is { } b)
                await PublishAsync(Topics.Balance(device), BalanceCodec.Encode(device, b, _store.Height), retain: true).ConfigureAwait(false);
        }
        else if (topic == Topics.Claim(device))
        {
            var balance = HandleClaim(device, payload);
            if (balance is { } b)
                await PublishAsync(Topics.Balance(device), BalanceCodec.Encode(device, b, _store.Height), retain: true).ConfigureAwait(false);
        }
    }

    internal (Receipt Receipt, decimal? Balance) HandleTransaction(string device, byte[] payload)
    {
        lock (_gate)
        {
            var state = _store.GetDevice(device);
            Transaction tx;
            try
            {
                tx = TransactionCodec.Decode(payload);
            }
            catch (FormatException ex)
            {
                LogRejected("?", device, ex.Message);
                return (new Receipt("?", false, state.Sequence, -1, ex.Message), null);
            }

            var result = TransactionValidator.Validate(tx, device, _chainId, state.Sequence, state.Digest, seq => _store.GetDigest(device, seq));
            long block = -1;
            if (result.Accepted.Count > 0)
            {
                state = state with
                {
                    Sequence = result.Accepted[^1].Sequence,
                    Digest = result.Accepted[^1].Digest,
                    Accepted = state.Accepted + result.Accepted.Count,
                };
                block = _store.AppendBlock(tx.Id, state, result.Accepted, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
            }
            if (result.Rejection is not null)
                LogRejected(tx.Id, device, result.Rejection);
            else
                LogAccepted(tx.Id, device, result.Accepted.Count, result.Duplicates, block);
            return (new Receipt(tx.Id, result.Rejection is null, state.Sequence, block, result.Rejection), state.Balance);
        }
    }

    internal decimal? HandleClaim(string device, byte[] payload)
    {
        lock (_gate)
        {
            if (!ClaimCodec.TryVerify(payload, device, out var month, out var tokens, out var reason))
            {
                LogClaimRejected(device, reason);
                return null;
            }
            return _store.ApplyClaim(device, month, tokens, System.Text.Encoding.UTF8.GetString(payload));
        }
    }

    private async Task PublishAsync(string topic, byte[] payload, bool retain)
    {
        var message = new MqttApplicationMessageBuilder()
            .WithTopic(topic)
            .WithPayload(payload)
            .WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce)
            .WithRetainFlag(retain)
            .Build();
        try
        {
            await _client.PublishAsync(message, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception e) when (e is MQTTnet.Exceptions.MqttCommunicationException or OperationCanceledException or InvalidOperationException)
        {
            // The device resends after its receipt timeout; the ledger answers the re-send as a duplicate.
            LogDown(e.Message);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_client.IsConnected)
        {
            try
            {
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
                await _client.DisconnectAsync(new MqttClientDisconnectOptionsBuilder().Build(), timeout.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is OperationCanceledException or MQTTnet.Exceptions.MqttCommunicationException)
            {
            }
        }
        _client.Dispose();
        lock (_gate)
            _store.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Ledger connected to {Broker} at height {Height}")]
    private partial void LogConnected(string broker, long height);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Ledger connection down: {Reason}")]
    private partial void LogDown(string reason);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Accepted tx {TxId} from {Device}: {Count} new, {Duplicates} duplicate, block {Block}")]
    private partial void LogAccepted(string txId, string device, int count, int duplicates, long block);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Rejected tx {TxId} from {Device}: {Reason}")]
    private partial void LogRejected(string txId, string device, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Rejected claim from {Device}: {Reason}")]
    private partial void LogClaimRejected(string device, string reason);
}
