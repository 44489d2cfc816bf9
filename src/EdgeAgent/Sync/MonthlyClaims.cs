using EdgeMeter.Agent.Factors;
using EdgeMeter.Agent.Storage;
using EdgeMeter.Crypto.Keys;
using EdgeMeter.Economics;
using Microsoft.Extensions.Logging;

namespace EdgeMeter.Agent.Sync;

/// <summary>
/// The closed months' final claims through the durable <see cref="ClaimOutbox"/>: built at the month's turn, or at
/// the first start after it, once every active meter has reported past the month's end; stored; sent and sent again
/// until the ledger's signed receipt. Each month's congestion carry goes into the next (and into the running month's
/// provisional figures).
/// </summary>
internal sealed partial class MonthlyClaims
{
    private readonly FactorService _factors;
    private readonly ClaimOutbox _outbox;
    private readonly IDeviceKey _key;
    private readonly Func<byte[], CancellationToken, Task> _publish;
    private readonly TimeProvider _time;
    private readonly ILogger<MonthlyClaims> _log;

    /// <param name="factors">The live factors: accumulator, parameters, events.</param>
    /// <param name="outbox">Where final claims wait for their receipts.</param>
    /// <param name="key">The device key claims are signed with.</param>
    /// <param name="publish">Sends a signed claim; throws when it cannot (the claim stays in the outbox).</param>
    /// <param name="time">Clock that says when a month has closed.</param>
    /// <param name="log">Log sink.</param>
    public MonthlyClaims(FactorService factors, ClaimOutbox outbox, IDeviceKey key, Func<byte[], CancellationToken, Task> publish, TimeProvider time, ILogger<MonthlyClaims> log)
    {
        _factors = factors;
        _outbox = outbox;
        _key = key;
        _publish = publish;
        _time = time;
        _log = log;
        if (outbox.Latest() is { } latest)
            factors.CongestionCarryIn = latest.CarryOut;
    }

    /// <summary>Builds and stores the final claims of the months that closed; returns how many.</summary>
    public int BuildDue()
    {
        var p = _factors.Params;
        var acc = _factors.Accumulator;
        if (acc.CompleteThrough is not { } complete)
            return 0;
        var current = FactorMonth.Of(_time.GetUtcNow(), p.TimeZone);
        var latest = _outbox.Latest();
        FactorMonth month;
        if (latest is not null && FactorMonth.TryParse(latest.Month, out var last))
            month = last.Next();
        else if (acc.IntervalsBefore(long.MaxValue) is [var first, ..])
            month = FactorMonth.Of(first.Start, p.TimeZone);
        else
            return 0;

        var built = 0;
        var carry = latest?.CarryOut ?? 0m;
        while (Before(month, current))
        {
            var end = month.Next().StartIn(p.TimeZone);
            if (complete < end)
                break; // a meter has not reported past the month's end yet: its last interval is not complete
            var claim = acc.BuildClaimThrough(_key.Address, month, p, _factors.Events, carry, end);
            if (claim.Result.IntervalCount > 0)
            {
                var payload = claim.ToCanonicalJson();
                var entry = new OutboxClaim(month.ToString(), SignedEnvelope.Create(payload, _key), ClaimReceipt.HashOf(payload),
                    claim.Result.TotalTokens, claim.Result.CongestionCarryOut, false, false, null);
                if (_outbox.Add(entry))
                {
                    built++;
                    carry = entry.CarryOut;
                    _factors.CongestionCarryIn = carry;
                    LogBuilt(entry.Month, entry.TotalTokens, carry);
                }
            }
            month = month.Next();
        }
        return built;
    }

    /// <summary>Sends every stored claim that has no receipt yet, oldest first; returns how many went out.</summary>
    public async Task<int> SendPendingAsync(CancellationToken ct)
    {
        var sent = 0;
        foreach (var claim in _outbox.All().Where(c => !c.Receipted))
        {
            try
            {
                await _publish(claim.Envelope, ct).ConfigureAwait(false);
                sent++;
                LogSent(claim.Month, claim.TotalTokens);
            }
            catch (Exception e) when (e is IOException or InvalidOperationException or MQTTnet.Exceptions.MqttCommunicationException)
            {
                LogNotSent(claim.Month, e.Message);
                break;
            }
        }
        return sent;
    }

    /// <summary>Takes the ledger's (verified) verdict on a claim: a final claim leaves the outbox's pending set.</summary>
    public void OnReceipt(ClaimReceipt receipt)
    {
        ArgumentNullException.ThrowIfNull(receipt);
        var final = _outbox.MarkReceipted(receipt.Month, receipt.ClaimHash, receipt.Accepted, receipt.RecomputedTokens);
        if (!receipt.Accepted)
            LogRejected(receipt.Month, receipt.Reason ?? "", final);
        else if (final)
            LogAccepted(receipt.Month, receipt.RecomputedTokens);
    }

    private static bool Before(FactorMonth a, FactorMonth b) => a.Year < b.Year || (a.Year == b.Year && a.Month < b.Month);

    [LoggerMessage(Level = LogLevel.Information, Message = "Final claim for {Month} stored in the outbox: {Tokens} tokens, congestion carry {Carry} into the next month")]
    private partial void LogBuilt(string month, long tokens, decimal carry);

    [LoggerMessage(Level = LogLevel.Information, Message = "Sent final claim for {Month}: {Tokens} tokens")]
    private partial void LogSent(string month, long tokens);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Final claim for {Month} not sent, it stays in the outbox: {Reason}")]
    private partial void LogNotSent(string month, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Ledger credited the final claim for {Month}: {Tokens} tokens")]
    private partial void LogAccepted(string month, long tokens);

    [LoggerMessage(Level = LogLevel.Error, Message = "Ledger rejected the claim for {Month}: {Reason} (final {Final})")]
    private partial void LogRejected(string month, string reason, bool final);
}
