using System.Buffers;
using EdgeMeter.Agent.Configuration;
using EdgeMeter.Agent.Sync;
using EdgeMeter.Crypto.Keys;
using EdgeMeter.Crypto.Records;
using EdgeMeter.Crypto.Signing;
using EdgeMeter.Economics;
using Microsoft.Extensions.Logging;
using MQTTnet;
using MQTTnet.Protocol;

namespace EdgeMeter.Agent.Ledger;

/// <summary>
/// A single-node chain for development, demos and tests (production uses the operator's chain). It subscribes to
/// every device's transactions, verifies and orders them into hash-linked blocks, and answers with receipts and
/// balances. Messages are judged and stored one at a time in arrival order, and acknowledged to the broker only after
/// the durable write: a crash before it means the broker delivers the transaction again. A transaction's signatures
/// are checked (against the device's known key, <see cref="KnownSigners"/>) while the ones before it are stored.
/// </summary>
/// <remarks>
/// Tokens follow from the readings, not from what a device says: every claim is recomputed with the economics library
/// from the signed readings the ledger holds and the operator-signed parameters and events in force, and credited only
/// when the recomputation gives the same claim. Receipts and balances are signed with the ledger's own key
/// (<see cref="LedgerStore.KeyFileName"/>), whose address gateways are configured with.
/// </remarks>
internal sealed partial class DevLedger : IAsyncDisposable
{
    private readonly MqttOptions _options;
    private readonly ulong _chainId;
    private readonly LedgerStore _store;
    private readonly ILogger<DevLedger> _log;
    private readonly IMqttClient _client;
    private readonly Lock _gate = new();
    private readonly IDeviceKey _key;
    private readonly string? _operator;
    private readonly TimeProvider _time;
    // Each device's key, recovered from its first signature: later ones are verified against it, not recovered.
    private readonly KnownSigners _signers = new();
    private readonly Lock _orderGate = new();
    private readonly SemaphoreSlim _pipeline = new(PipelineDepth, PipelineDepth);
    private Task _ordered = Task.CompletedTask;
    // Per device, transactions received and not yet handled: the head is published when a device's count drops to 0.
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, int> _queuedTransactions = new(StringComparer.Ordinal);

    /// <summary>Opens the ledger's store and key in <paramref name="dataDirectory"/> (the key is created on first start).</summary>
    /// <param name="options">Broker connection.</param>
    /// <param name="dataDirectory">Where <c>ledger.db</c> and <c>ledger.key</c> live.</param>
    /// <param name="chainId">The chain id records and operator messages must name.</param>
    /// <param name="log">Log sink.</param>
    /// <param name="operatorAddress">Whose signature on parameters and events the ledger accepts; null: only the library's development defaults, no events.</param>
    /// <param name="time">Clock for operator validity windows.</param>
    public DevLedger(MqttOptions options, string dataDirectory, ulong chainId, ILogger<DevLedger> log, string? operatorAddress = null, TimeProvider? time = null)
    {
        _options = options;
        _chainId = chainId;
        _log = log;
        _operator = operatorAddress;
        _time = time ?? TimeProvider.System;
        _store = new LedgerStore(dataDirectory);
        _key = FileDeviceKey.LoadOrCreate(Path.Combine(dataDirectory, LedgerStore.KeyFileName));
        _client = new MqttClientFactory().CreateMqttClient();
        _client.ApplicationMessageReceivedAsync += OnMessageAsync;
    }

    public long Height => _store.Height;

    /// <summary>The address of the key receipts and balances are signed with; gateways take it from their configuration.</summary>
    public string Address => _key.Address;

    /// <summary>Connects and keeps the connection up until cancelled.</summary>
    public async Task RunAsync(CancellationToken ct)
    {
        LogAddress(Address);
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
            .WithTopicFilter(f => f.WithTopic(Topics.AllHeadRequests).WithAtLeastOnceQoS())
            .WithTopicFilter(f => f.WithTopic(Topics.Root + "/+/params").WithAtLeastOnceQoS())
            .WithTopicFilter(f => f.WithTopic(Topics.Root + "/+/events").WithAtLeastOnceQoS())
            .Build(), ct).ConfigureAwait(false);
        LogConnected(_options.Broker, _store.Height, Address);
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
        // Messages are judged and stored one at a time, in arrival order, and acknowledged to the broker only after
        // that (a crash before it means the broker delivers them again). A transaction's signatures do not depend on
        // the chain, so they are checked on the thread pool while the transactions before it are still being stored:
        // the callback returns at once, and up to PipelineDepth transactions are in the ledger at a time.
        e.AutoAcknowledge = false;
        // A place in the pipeline first (released when the message has been handled), so the broker waits when it is full.
        await _pipeline.WaitAsync().ConfigureAwait(false);
        Task<PreparedTransaction>? prepared = null;
        if (topic == Topics.Tx(device))
        {
            _queuedTransactions.AddOrUpdate(device, 1, (_, n) => n + 1);
            prepared = Task.Run(() => Prepare(device, payload));
        }
        lock (_orderGate)
            _ordered = InOrderAsync(_ordered, topic, device, payload, prepared, e);
    }

    /// <summary>Transactions in the ledger at once: their signatures checked while earlier ones are stored.</summary>
    private const int PipelineDepth = 4;

    private async Task InOrderAsync(Task previous, string topic, string device, byte[] payload, Task<PreparedTransaction>? prepared, MqttApplicationMessageReceivedEventArgs e)
    {
        try
        {
            // The previous message's task never faults (everything is caught below); ordering is all it gives.
            await previous.ConfigureAwait(false);
            if (prepared is not null)
            {
                bool last;
                try
                {
                    var (receipt, _) = HandleTransaction(device, await prepared.ConfigureAwait(false));
                    await PublishAsync(Topics.Receipt(device), SignedEnvelope.Create(TransactionCodec.EncodeReceipt(receipt), _key), retain: false).ConfigureAwait(false);
                }
                finally
                {
                    last = _queuedTransactions.AddOrUpdate(device, 0, (_, n) => n - 1) == 0;
                }
                // The retained head and balance once a device's transactions stop coming, not after each of a backlog's
                // hundreds (every receipt carries the head anyway): the last transaction of a burst publishes them.
                if (last)
                {
                    await PublishHeadAsync(device).ConfigureAwait(false);
                    // Readings a waiting claim named may have just arrived.
                    foreach (var verdict in RetryPendingClaims(device))
                        await PublishAsync(Topics.ClaimReceipt(device), SignedEnvelope.Create(verdict.Encode(), _key), retain: false).ConfigureAwait(false);
                    await PublishBalanceAsync(device).ConfigureAwait(false);
                }
            }
            else if (topic == Topics.Claim(device))
            {
                if (HandleClaim(device, payload) is { } verdict)
                {
                    await PublishAsync(Topics.ClaimReceipt(device), SignedEnvelope.Create(verdict.Encode(), _key), retain: false).ConfigureAwait(false);
                    await PublishBalanceAsync(device).ConfigureAwait(false);
                }
            }
            else if (topic == Topics.HeadRequest(device))
            {
                await PublishHeadAsync(device).ConfigureAwait(false);
            }
            else if (topic == Topics.Params(device) || topic == Topics.Events(device))
            {
                HandleOperatorMessage(device, topic[(topic.LastIndexOf('/') + 1)..], payload);
            }
            await e.AcknowledgeAsync(CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            // Not acknowledged: the broker delivers the message again after a reconnect, and the ledger answers a re-sent
            // transaction as a duplicate. The messages behind it go on (this task never faults).
            LogNotHandled(topic, ex.GetType().Name, ex.Message);
        }
        finally
        {
            _pipeline.Release();
        }
    }

    /// <summary>The device's head on the ledger, signed (seq 0 with a zero digest before its first record).</summary>
    internal byte[] HeadEnvelope(string device)
    {
        lock (_gate)
        {
            var state = _store.GetDevice(device);
            return SignedEnvelope.Create(TransactionCodec.EncodeHead(new LedgerHead(device, state.Sequence, state.Digest, _store.Height)), _key);
        }
    }

    private Task PublishHeadAsync(string device) => PublishAsync(Topics.Head(device), HeadEnvelope(device), retain: true);

    private Task PublishBalanceAsync(string device)
    {
        byte[] message;
        lock (_gate)
        {
            var (confirmed, provisional, month) = _store.Balance(device);
            message = BalanceCodec.Encode(device, confirmed, _store.Height, provisional, month);
        }
        return PublishAsync(Topics.Balance(device), SignedEnvelope.Create(message, _key), retain: true);
    }

    /// <summary>
    /// A transaction decoded, its signatures checked and its records laid out as the store keeps them (or why it could
    /// not be decoded), before the chain rules.
    /// </summary>
    internal sealed record PreparedTransaction(Transaction? Tx, SignatureCheck? Signatures, string? DecodeError)
    {
        public IReadOnlyDictionary<ulong, KeptRecord> Content { get; init; } = new Dictionary<ulong, KeptRecord>();
    }

    /// <summary>Decodes a transaction and checks its signatures: what needs neither the store nor the chain head.</summary>
    internal PreparedTransaction Prepare(string device, byte[] payload)
    {
        try
        {
            var tx = TransactionCodec.Decode(payload);
            var content = new Dictionary<ulong, KeptRecord>(tx.Records.Count);
            foreach (var r in tx.Records)
                content.TryAdd(r.Record.Sequence, new KeptRecord(r.Record, LedgerStore.MessageJson(r.Record)));
            return new PreparedTransaction(tx, TransactionValidator.CheckSignatures(tx, device, _chainId, _signers), null) { Content = content };
        }
        catch (FormatException ex)
        {
            return new PreparedTransaction(null, null, ex.Message);
        }
    }

    private static byte[]? HeadDigestOf(DeviceState state) => state.Sequence == 0 ? null : state.Digest;

    internal (Receipt Receipt, decimal? Balance) HandleTransaction(string device, byte[] payload) =>
        HandleTransaction(device, Prepare(device, payload));

    internal (Receipt Receipt, decimal? Balance) HandleTransaction(string device, PreparedTransaction prepared)
    {
        lock (_gate)
        {
            var state = _store.GetDevice(device);
            if (prepared.Tx is not { } tx)
            {
                LogRejected("?", device, prepared.DecodeError ?? "");
                return (new Receipt("?", false, state.Sequence, -1, prepared.DecodeError) { HeadDigest = HeadDigestOf(state) }, null);
            }

            var result = TransactionValidator.Validate(tx, device, _chainId, state.Sequence, state.Digest, _store.HeldDigests(device), prepared.Signatures!);
            long block = -1;
            if (result.Accepted.Count > 0)
            {
                state = state with
                {
                    Sequence = result.Accepted[^1].Sequence,
                    Digest = result.Accepted[^1].Digest,
                    Accepted = state.Accepted + result.Accepted.Count,
                };
                block = _store.AppendBlock(tx.Id, state, result.Accepted, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(), prepared.Content);
            }
            if (result.Rejection is not null)
                LogRejected(tx.Id, device, result.Rejection);
            else
                LogAccepted(tx.Id, device, result.Accepted.Count, result.Duplicates, block);
            return (new Receipt(tx.Id, result.Rejection is null, state.Sequence, block, result.Rejection) { HeadDigest = HeadDigestOf(state) }, state.Balance);
        }
    }

    /// <summary>
    /// Judges a signed claim: recomputes it from the readings the ledger holds over the sequence range it names, with
    /// the parameters and events in force and the previous month's recomputed carry, and credits it only when the
    /// recomputation is the same claim. Null when there is nothing to answer yet: the signature does not hold, or
    /// the ledger does not hold all the readings (the claim waits and is judged when they arrive).
    /// </summary>
    internal ClaimReceipt? HandleClaim(string device, byte[] envelope)
    {
        lock (_gate)
        {
            if (!ClaimCodec.TryVerify(envelope, device, out var claim, out var reason))
            {
                LogClaimRejected(device, "?", reason);
                return null;
            }
            var month = claim!.Month.ToString();
            var hash = ClaimReceipt.HashOf(claim.Payload);
            var existing = _store.GetClaim(device, month);
            if (existing is { Final: true, Status: "accepted" })
            {
                // A re-sent final claim (the receipt was lost) is answered again but never counted twice.
                return existing.ClaimHash == hash
                    ? new ClaimReceipt(device, month, hash, true, existing.Claimed, existing.Recomputed ?? 0, null)
                    : Reject(claim, hash, existing.Recomputed ?? 0, $"{month} is closed: the ledger already credited another final claim for it");
            }
            var (first, last) = claim.SequenceSpan;
            if (last > _store.GetDevice(device).Sequence)
            {
                _store.PutClaim(new ClaimRow(device, month, false, "pending", claim.TotalTokens, null, $"waiting for readings through seq {last}", null, hash,
                    System.Text.Encoding.UTF8.GetString(envelope)));
                LogClaimWaiting(device, month, last);
                return null;
            }
            if (claim.IntervalMinutes <= 0 || 1440 % claim.IntervalMinutes != 0)
                return Reject(claim, hash, 0, "intervalMinutes: must divide a day");

            var p = ParamsInForce(device);
            var events = EventsInForce(device);
            // The carry flows from the newest earlier closed month the ledger judged (months without a claim pass it on).
            var carryIn = _store.Claims(device).LastOrDefault(c => c.Final && c.CarryOut is not null && string.CompareOrdinal(c.Month, month) < 0)?.CarryOut ?? 0m;
            var recomputed = ClaimCodec.Recompute(claim, first == 0 ? [] : _store.StreamReadings(device, first, last), p, events, carryIn);
            var mismatch = ClaimCodec.Compare(claim, recomputed);
            var row = new ClaimRow(device, month, recomputed.IsFinal, mismatch is null ? "accepted" : "rejected", claim.TotalTokens,
                recomputed.Result.TotalTokens, mismatch, recomputed.Result.CongestionCarryOut, hash, System.Text.Encoding.UTF8.GetString(envelope));
            _store.PutClaim(row);
            if (mismatch is not null)
            {
                LogClaimRejected(device, month, mismatch);
                return new ClaimReceipt(device, month, hash, false, claim.TotalTokens, recomputed.Result.TotalTokens, mismatch);
            }
            LogClaimAccepted(device, month, recomputed.Result.TotalTokens, row.Final);
            return new ClaimReceipt(device, month, hash, true, claim.TotalTokens, recomputed.Result.TotalTokens, null);
        }

        ClaimReceipt Reject(ClaimHeader claim, string hash, long recomputed, string why)
        {
            LogClaimRejected(device, claim.Month.ToString(), why);
            return new ClaimReceipt(device, claim.Month.ToString(), hash, false, claim.TotalTokens, recomputed, why);
        }
    }

    /// <summary>Judges the device's waiting claims again (after new readings arrived); the verdicts reached.</summary>
    internal IReadOnlyList<ClaimReceipt> RetryPendingClaims(string device)
    {
        List<ClaimRow> pending;
        lock (_gate)
            pending = [.. _store.Claims(device).Where(c => c.Status == "pending")];
        var verdicts = new List<ClaimReceipt>();
        foreach (var row in pending)
        {
            if (HandleClaim(device, System.Text.Encoding.UTF8.GetBytes(row.Envelope)) is { } verdict)
                verdicts.Add(verdict);
        }
        return verdicts;
    }

    /// <summary>
    /// Takes operator parameters or events for a device when they are signed by the configured operator, for this
    /// chain and device, within their window, with a newer version; anything else is refused and logged.
    /// </summary>
    internal bool HandleOperatorMessage(string device, string kind, byte[] envelope)
    {
        if (_operator is null)
        {
            LogOperatorRefused(kind, device, "the ledger has no operator address configured");
            return false;
        }
        lock (_gate)
        {
            var inForce = _store.OperatorPayload(device, kind)?.Version ?? 0;
            if (!OperatorMessage.TryOpen(envelope, _operator, _chainId, device, null, _time.GetUtcNow(), inForce, out var payload, out var scope, out var reason))
            {
                LogOperatorRefused(kind, device, reason);
                return false;
            }
            try
            {
                if (kind == "params")
                {
                    FactorJson.ParseParams(payload);
                    _store.PutOperatorPayload(device, kind, scope!.Version, payload);
                }
                else
                {
                    var merged = EventsInForce(device).ToList();
                    foreach (var ev in OperatorMessage.ReadEvents(payload))
                    {
                        if (!merged.Any(x => x.Id == ev.Id))
                            merged.Add(ev);
                    }
                    _store.PutOperatorPayload(device, kind, scope!.Version, FactorJson.WriteEvents(merged));
                }
            }
            catch (FactorInputException e)
            {
                LogOperatorRefused(kind, device, e.Message);
                return false;
            }
            return true;
        }
    }

    private FactorParams ParamsInForce(string device) =>
        FactorJson.ParseParams(_store.OperatorPayload(device, "params")?.Payload ?? System.Text.Encoding.UTF8.GetBytes(FactorParams.DevelopmentDefaultsJson));

    private IReadOnlyList<FactorEvent> EventsInForce(string device) =>
        _store.OperatorPayload(device, "events") is { } e ? FactorJson.ParseEvents(e.Payload) : [];

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
        Task ordered;
        lock (_orderGate)
            ordered = _ordered;
        await ordered.ConfigureAwait(false);
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
        _key.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Ledger connected to {Broker} at height {Height}; ledger address: {Address}")]
    private partial void LogConnected(string broker, long height, string address);

    [LoggerMessage(Level = LogLevel.Information, Message = "ledger address: {Address}")]
    private partial void LogAddress(string address);

    [LoggerMessage(Level = LogLevel.Information, Message = "Claim for {Month} from {Device} waits for readings through seq {Through}")]
    private partial void LogClaimWaiting(string device, string month, ulong through);

    [LoggerMessage(Level = LogLevel.Information, Message = "Credited claim for {Month} from {Device}: {Tokens} tokens (final {Final})")]
    private partial void LogClaimAccepted(string device, string month, long tokens, bool final);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Refused operator {Kind} for {Device}: {Reason}")]
    private partial void LogOperatorRefused(string kind, string device, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Ledger did not handle a message on {Topic} ({Kind}): {Reason}; the broker delivers it again")]
    private partial void LogNotHandled(string topic, string kind, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Ledger connection down: {Reason}")]
    private partial void LogDown(string reason);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Accepted tx {TxId} from {Device}: {Count} new, {Duplicates} duplicate, block {Block}")]
    private partial void LogAccepted(string txId, string device, int count, int duplicates, long block);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Rejected tx {TxId} from {Device}: {Reason}")]
    private partial void LogRejected(string txId, string device, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Rejected claim for {Month} from {Device}: {Reason}")]
    private partial void LogClaimRejected(string device, string month, string reason);
}
