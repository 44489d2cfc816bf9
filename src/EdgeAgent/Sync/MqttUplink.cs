using System.Buffers;
using System.Text;
using EdgeMeter.Agent.Configuration;
using EdgeMeter.Agent.Status;
using EdgeMeter.Agent.Storage;
using EdgeMeter.Crypto.Records;
using EdgeMeter.Economics;
using Microsoft.Extensions.Logging;
using MQTTnet;
using MQTTnet.Protocol;

namespace EdgeMeter.Agent.Sync;

/// <summary>
/// Store-and-forward to the ledger over MQTT. Records leave the outbox only through the ledger's receipts
/// (<see cref="RecordStore.Confirm"/>); everything sent and not receipted is sent again after a reconnect or a
/// receipt timeout, which the ledger recognises per (device, sequence, digest), so nothing is lost or counted twice.
/// </summary>
/// <remarks>
/// Records go out strictly in sequence, batched into transactions of up to <see cref="MqttOptions.BatchMaxRecords"/>,
/// with up to <see cref="MqttOptions.MaxInFlight"/> transactions awaiting receipts. A day's backlog therefore drains
/// in a few hundred large messages; live readings wait at most for the backlog ahead of them, because the ledger
/// can only append them after it.
/// </remarks>
internal sealed partial class MqttUplink : IAsyncDisposable
{
    private static readonly TimeSpan ReceiptTimeout = TimeSpan.FromSeconds(30);

    private readonly MqttOptions _options;
    private readonly RecordStore _store;
    private readonly string _device;
    private readonly ulong _chainId;
    private readonly PipelineMetrics _metrics;
    private readonly BootCounter _boot;
    private readonly ILogger<MqttUplink> _log;
    private readonly IMqttClient _client;
    private readonly SemaphoreSlim _wake = new(0, int.MaxValue);
    private readonly Lock _gate = new();
    private readonly SortedDictionary<ulong, (string TxId, DateTime SentAt)> _inFlight = new();
    private ulong _sentThrough;
    private volatile bool _flush;
    private long _unverified;

    public MqttUplink(MqttOptions options, RecordStore store, string device, ulong chainId, PipelineMetrics metrics, BootCounter boot, ILogger<MqttUplink> log)
    {
        _options = options;
        _store = store;
        _device = device;
        _chainId = chainId;
        _metrics = metrics;
        _boot = boot;
        _log = log;
        _client = new MqttClientFactory().CreateMqttClient();
        _client.ApplicationMessageReceivedAsync += OnMessageAsync;
    }

    public bool Connected => _client.IsConnected;

    /// <summary>The MQTT version of the current connection (5 unless the broker only speaks 3.1.1).</summary>
    public MQTTnet.Formatter.MqttProtocolVersion ProtocolVersion { get; private set; }

    /// <summary>
    /// The ledger's address (<c>ledger.address</c>, <c>demo --ledger-address</c>, or the in-process ledger's): receipts,
    /// claim receipts and balances count only when signed by it. Never learnt from the broker. Null: none count.
    /// </summary>
    public string? LedgerAddress { get; set; }

    /// <summary>
    /// Signs the gap declaration when the ledger turns out to be ahead of the store (<see cref="RecordStore.ReconcileWithLedger"/>);
    /// null: the uplink only confirms what matches and never continues after the ledger's head.
    /// </summary>
    public EdgeMeter.Crypto.Signing.RecordSigner? Signer { get; init; }

    /// <summary>The time status a gap declaration is signed with.</summary>
    public Func<TimeStatus> TimeStatus { get; init; } = () => EdgeMeter.Crypto.Records.TimeStatus.Unsynchronised;

    /// <summary>Gap declarations this uplink signed because the ledger was ahead of the store.</summary>
    public long GapsDeclared => Interlocked.Read(ref _gapsDeclared);

    private long _gapsDeclared;
    private long _headRequestedMs;

    /// <summary>The chain's confirmed balance (closed months) from the last verified balance message.</summary>
    public decimal? ConfirmedBalance { get; private set; }

    /// <summary>When the ledger's last receipt arrived; null before the first.</summary>
    public DateTimeOffset? LastReceiptAt { get; private set; }

    /// <summary>Downlink messages on the receipt, claim-receipt and balance topics that were not signed by the ledger: ignored.</summary>
    public long UnverifiedDownlinks => Interlocked.Read(ref _unverified);

    /// <summary>Raised for every verified claim receipt.</summary>
    public event Action<ClaimReceipt>? ClaimReceiptReceived;

    /// <summary>Raised for every downlink message on events and params (payload bytes, topic); the factors layer checks signatures.</summary>
    public event Action<string, ReadOnlyMemory<byte>>? Downlink;

    /// <summary>Tells the sender that new records are on disk.</summary>
    public void Notify() => _wake.Release();

    /// <summary>From now on send partial batches at once (shutting down: no more live records will come).</summary>
    public void Flush()
    {
        _flush = true;
        _wake.Release();
    }

    /// <summary>Runs until cancelled: connect with backoff, drain, reconnect.</summary>
    public async Task RunAsync(CancellationToken ct)
    {
        var attempt = 0;
        while (!ct.IsCancellationRequested)
        {
            try
            {
                await ConnectAsync(ct).ConfigureAwait(false);
                attempt = 0;
                await SendLoopAsync(ct).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                break;
            }
            catch (Exception e)
            {
                LogUplinkDown(e.GetType().Name, e.Message);
            }

            attempt++;
            var delay = MqttConnection.Backoff(attempt);
            // Waiting out a backoff is not a hang: the watchdog hears from us again when it ends.
            LastAliveMs = Environment.TickCount64 + (long)delay.TotalMilliseconds;
            try
            {
                await Task.Delay(delay, ct).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }
        await StopAsync().ConfigureAwait(false);
    }

    /// <summary>When the send loop last turned (monotonic ms; a backoff counts until it ends), for the watchdog.</summary>
    public long LastAliveMs { get; private set; } = Environment.TickCount64;

    private async Task ConnectAsync(CancellationToken ct)
    {
        var will = StatusPayload("offline", _boot.Count);
        ProtocolVersion = await MqttConnection.ConnectAsync(_client, _options, ClientId, cleanStart: false, ct, Topics.Status(_device), will).ConfigureAwait(false);
        var subscribe = new MqttClientSubscribeOptionsBuilder()
            .WithTopicFilter(f => f.WithTopic(Topics.Receipt(_device)).WithAtLeastOnceQoS())
            .WithTopicFilter(f => f.WithTopic(Topics.Balance(_device)).WithAtLeastOnceQoS())
            .WithTopicFilter(f => f.WithTopic(Topics.ClaimReceipt(_device)).WithAtLeastOnceQoS())
            .WithTopicFilter(f => f.WithTopic(Topics.Events(_device)).WithAtLeastOnceQoS())
            .WithTopicFilter(f => f.WithTopic(Topics.Params(_device)).WithAtLeastOnceQoS())
            .WithTopicFilter(f => f.WithTopic(Topics.Head(_device)).WithAtLeastOnceQoS())
            .Build();
        await _client.SubscribeAsync(subscribe, ct).ConfigureAwait(false);
        // The retained head arrives with the subscription; ask as well, in case the broker lost it.
        _headRequestedMs = Environment.TickCount64;
        await PublishAsync(Topics.HeadRequest(_device), [], retain: false, ct).ConfigureAwait(false);
        await PublishAsync(Topics.Status(_device), StatusPayload("online", _boot.Count), retain: true, ct).ConfigureAwait(false);
        lock (_gate)
        {
            // Whatever was in flight before the reconnect may or may not have reached the ledger: send it again.
            _inFlight.Clear();
            _sentThrough = _store.Head.ConfirmedThrough;
        }
        LogConnected(_options.Broker, ProtocolVersion == MQTTnet.Formatter.MqttProtocolVersion.V500 ? "5" : "3.1.1", _store.PendingCount);
    }

    private string ClientId => "edgemeter-" + _device[2..18];

    private async Task SendLoopAsync(CancellationToken ct)
    {
        // Transactions are published one after another without waiting for each PUBACK (up to MaxInFlight of them
        // unacknowledged): waiting cost a broker round trip per 500 records, most of a backlog's drain. The client
        // writes packets in the order PublishAsync is called (its send lock is first come, first served), so the ledger
        // still gets them in sequence; what the broker refuses, or a lost connection, surfaces here and ends the loop.
        var publishes = new Queue<Task>();
        try
        {
            while (_client.IsConnected)
            {
                ct.ThrowIfCancellationRequested();
                LastAliveMs = Environment.TickCount64;
                while (publishes.Count > 0 && publishes.Peek().IsCompleted)
                    await publishes.Dequeue().ConfigureAwait(false);
                if (_store.SigningHeld && Environment.TickCount64 - _headRequestedMs >= 2000)
                {
                    // The ledger may have subscribed after our first request: ask again while signing waits for the answer.
                    _headRequestedMs = Environment.TickCount64;
                    await PublishAsync(Topics.HeadRequest(_device), [], retain: false, ct).ConfigureAwait(false);
                }
                var batch = NextBatch();
                if (batch is null)
                {
                    // Nothing to send, window full, or a live batch still filling: wait for new records, a receipt, or the fill deadline.
                    await _wake.WaitAsync(TimeSpan.FromMilliseconds(Math.Max(50, _options.BatchMaxDelayMs)), ct).ConfigureAwait(false);
                    ExpireStaleInFlight();
                    continue;
                }

                var tx = TransactionCodec.Create(_device, _chainId, batch);
                lock (_gate)
                {
                    _inFlight[tx.To] = (tx.Id, DateTime.UtcNow);
                    _sentThrough = tx.To;
                }
                if (publishes.Count >= _options.MaxInFlight)
                    await publishes.Dequeue().ConfigureAwait(false);
                publishes.Enqueue(PublishTransactionAsync(TransactionCodec.Encode(tx), batch.Count, ct));
            }
        }
        finally
        {
            // Publishes still under way when the loop ends (a reconnect sends their records again): observe their outcome.
            foreach (var publish in publishes)
                _ = publish.ContinueWith(static t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
        }
    }

    private async Task PublishTransactionAsync(byte[] payload, int records, CancellationToken ct)
    {
        await PublishAsync(Topics.Tx(_device), payload, retain: false, ct).ConfigureAwait(false);
        _metrics.AddPublished(records);
    }

    private IReadOnlyList<SignedReading>? NextBatch()
    {
        ulong after;
        lock (_gate)
        {
            if (_inFlight.Count >= _options.MaxInFlight)
                return null;
            after = Math.Max(_sentThrough, _store.Head.ConfirmedThrough);
        }
        var batch = _store.ReadPending(after, _options.BatchMaxRecords);
        if (batch.Count == 0)
            return null;
        if (batch.Count < _options.BatchMaxRecords && !_flush)
        {
            // A partial batch waits for more live records until its oldest record is BatchMaxDelayMs old.
            var ageMs = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() - batch[0].Record.GatewayTimeMs;
            if (ageMs < _options.BatchMaxDelayMs)
                return null;
        }
        return batch;
    }

    private void ExpireStaleInFlight()
    {
        lock (_gate)
        {
            if (_inFlight.Count == 0)
                return;
            var oldest = _inFlight.First();
            if (DateTime.UtcNow - oldest.Value.SentAt < ReceiptTimeout)
                return;
            LogReceiptTimeout(oldest.Value.TxId);
            _inFlight.Clear();
            _sentThrough = _store.Head.ConfirmedThrough;
        }
    }

    private Task OnMessageAsync(MqttApplicationMessageReceivedEventArgs e)
    {
        var topic = e.ApplicationMessage.Topic;
        var payload = e.ApplicationMessage.Payload.ToArray();
        try
        {
            if (topic == Topics.Receipt(_device))
            {
                if (FromLedger(topic, payload) is { } receipt)
                    HandleReceipt(TransactionCodec.DecodeReceipt(receipt));
            }
            else if (topic == Topics.Balance(_device))
            {
                if (FromLedger(topic, payload) is { } balance && BalanceCodec.Decode(balance) is var b && b.Device == _device)
                    ConfirmedBalance = b.Balance;
            }
            else if (topic == Topics.Head(_device))
            {
                if (FromLedger(topic, payload) is { } head && TransactionCodec.DecodeHead(head) is var h && h.Device == _device)
                    Reconcile(h.Sequence, h.Digest);
            }
            else if (topic == Topics.ClaimReceipt(_device))
            {
                if (FromLedger(topic, payload) is { } verdict && ClaimReceipt.Decode(verdict) is { } r && r.Device == _device)
                    ClaimReceiptReceived?.Invoke(r);
            }
            else
            {
                Downlink?.Invoke(topic, payload);
            }
        }
        catch (FormatException ex)
        {
            LogBadDownlink(topic, ex.Message);
        }
        return Task.CompletedTask;
    }

    /// <summary>The payload of a message signed by the ledger; null (counted, logged) for anything else.</summary>
    private byte[]? FromLedger(string topic, byte[] envelope)
    {
        string reason;
        if (LedgerAddress is not { } ledger)
            reason = "no ledger address is configured (ledger.address)";
        else if (SignedEnvelope.TryOpenFrom(envelope, ledger, out var payload, out reason))
            return payload;
        Interlocked.Increment(ref _unverified);
        LogUnverified(topic, reason);
        return null;
    }

    /// <summary>
    /// Confirms through the ledger's head when the store holds the same record there; otherwise continues after it with a
    /// gap declaration (the store is behind the ledger or holds another record at its head).
    /// </summary>
    private void Reconcile(ulong sequence, byte[] digest)
    {
        if (Signer is null)
            return;
        var (newly, gap) = _store.ReconcileWithLedger(sequence, digest, Signer, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(), TimeStatus());
        _metrics.AddConfirmed(newly);
        if (gap?.Record is GapRecord declared)
        {
            Interlocked.Increment(ref _gapsDeclared);
            _metrics.AddSigned(1);
            _metrics.AddStored(1);
            LogLedgerAhead(sequence, declared.FromSequence, declared.ToSequence, declared.Sequence);
            lock (_gate)
            {
                _inFlight.Clear();
                _sentThrough = _store.Head.ConfirmedThrough;
            }
            _wake.Release();
        }
    }

    private void HandleReceipt(Receipt receipt)
    {
        LastReceiptAt = DateTimeOffset.UtcNow;
        long newly;
        if (receipt.HeadDigest is { } head && Signer is not null)
        {
            // Confirm only what the ledger holds in the same form; anything else is a chain to continue after.
            Reconcile(receipt.AcceptedThrough, head);
            newly = 0;
        }
        else
        {
            newly = _store.Confirm(receipt.AcceptedThrough);
        }
        _metrics.AddConfirmed(newly);
        lock (_gate)
        {
            foreach (var key in _inFlight.Keys.Where(k => k <= receipt.AcceptedThrough).ToList())
                _inFlight.Remove(key);
            if (!receipt.Accepted)
            {
                // The ledger stopped at AcceptedThrough (a gap after a broker lost messages, say): resend from there.
                LogRejected(receipt.TxId, receipt.Reason ?? "", receipt.AcceptedThrough);
                _inFlight.Clear();
                _sentThrough = Math.Max(receipt.AcceptedThrough, _store.Head.ConfirmedThrough);
            }
        }
        _wake.Release();
    }

    /// <summary>Publishes a signed claim envelope (QoS 1). Throws when the uplink is down; the caller sends it again later.</summary>
    public Task PublishClaimAsync(byte[] envelope, CancellationToken ct) =>
        _client.IsConnected
            ? PublishAsync(Topics.Claim(_device), envelope, retain: false, ct)
            : throw new InvalidOperationException("uplink is not connected");

    private async Task PublishAsync(string topic, byte[] payload, bool retain, CancellationToken ct)
    {
        var message = new MqttApplicationMessageBuilder()
            .WithTopic(topic)
            .WithPayload(payload)
            .WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce)
            .WithRetainFlag(retain)
            .Build();
        var result = await _client.PublishAsync(message, ct).ConfigureAwait(false);
        if (!result.IsSuccess)
            throw new IOException($"publish to {topic} refused: {result.ReasonCode} {result.ReasonString}");
    }

    private byte[] StatusPayload(string state, long boot) => Encoding.UTF8.GetBytes(
        $"{{\"state\":\"{state}\",\"boot\":{boot},\"device\":\"{_device}\",\"time\":{DateTimeOffset.UtcNow.ToUnixTimeMilliseconds()}}}");

    private async Task StopAsync()
    {
        if (!_client.IsConnected)
            return;
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
            await PublishAsync(Topics.Status(_device), StatusPayload("offline", _boot.Count), retain: true, timeout.Token).ConfigureAwait(false);
            await _client.DisconnectAsync(new MqttClientDisconnectOptionsBuilder().Build(), timeout.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or MQTTnet.Exceptions.MqttCommunicationException)
        {
            // Shutting down; the broker publishes the will instead.
        }
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync().ConfigureAwait(false);
        _client.Dispose();
        _wake.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Uplink connected to {Broker} (MQTT {Version}); {Pending} records pending")]
    private partial void LogConnected(string broker, string version, long pending);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Uplink down ({Kind}): {Reason}")]
    private partial void LogUplinkDown(string kind, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "No receipt for transaction {TxId}; resending from the last confirmed record")]
    private partial void LogReceiptTimeout(string txId);

    [LoggerMessage(Level = LogLevel.Error, Message = "Ledger rejected transaction {TxId}: {Reason}; ledger holds through {Through}")]
    private partial void LogRejected(string txId, string reason, ulong through);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The ledger holds this device's chain through seq {LedgerSeq}, ahead of (or other than) this store: continuing after it; seqs {From}..{To} declared skipped by the gap declaration at seq {Seq}")]
    private partial void LogLedgerAhead(ulong ledgerSeq, ulong from, ulong to, ulong seq);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Ignored a downlink message on {Topic} not signed by the ledger: {Reason}")]
    private partial void LogUnverified(string topic, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Ignored malformed downlink message on {Topic}: {Reason}")]
    private partial void LogBadDownlink(string topic, string reason);
}
