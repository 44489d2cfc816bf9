using EdgeMeter.Agent.Configuration;
using EdgeMeter.Agent.Ledger;
using EdgeMeter.Agent.Storage;
using EdgeMeter.Agent.Sync;
using EdgeMeter.Agent.Tests.Support;
using EdgeMeter.Crypto.Records;
using EdgeMeter.Economics;
using Microsoft.Extensions.Logging.Abstractions;

namespace EdgeMeter.Agent.Tests.Ledger;

public sealed class LedgerTests
{
    private sealed class Fixture : IDisposable
    {
        private readonly TempDir _dir = new();

        public Fixture()
        {
            Signer = Records.Signer(_dir.Path);
            Store = new RecordStore(_dir.File("agent"));
            Ledger = new DevLedger(new MqttOptions { Broker = "mqtt://127.0.0.1:1" }, _dir.File("ledger"), 31337, NullLogger<DevLedger>.Instance);
        }

        public EdgeMeter.Crypto.Signing.RecordSigner Signer { get; }
        public RecordStore Store { get; }
        public DevLedger Ledger { get; }
        public string Device => Signer.Key.Address;

        public IReadOnlyList<SignedReading> Sign(int n) => Store.Append(Records.Drafts(n), Signer);

        public byte[] Tx(IReadOnlyList<SignedReading> records) => TransactionCodec.Encode(TransactionCodec.Create(Device, 31337, records));

        public void Dispose()
        {
            Ledger.DisposeAsync().AsTask().GetAwaiter().GetResult();
            Store.Dispose();
            _dir.Dispose();
        }
    }

    [Fact]
    public void Accepts_consecutive_records_into_a_block_and_receipts_the_highest_sequence()
    {
        using var f = new Fixture();
        var records = f.Sign(20);

        var (receipt, _) = f.Ledger.HandleTransaction(f.Device, f.Tx(records));

        Assert.True(receipt.Accepted, receipt.Reason);
        Assert.Equal(20UL, receipt.AcceptedThrough);
        Assert.Equal(1, receipt.Block);
        var summary = Assert.Single(f.Ledger.Summarise());
        Assert.Equal((20L, 1UL, 20UL), (summary.Accepted, summary.Lowest, summary.Highest));
        Assert.Empty(summary.Gaps);
        Assert.Empty(summary.Duplicates);
    }

    [Fact]
    public async Task Readings_stream_back_in_order_across_spans_and_blocks_and_within_any_range()
    {
        using var dir = new TempDir();
        var signer = Records.Signer(dir.Path);
        using var store = new RecordStore(dir.File("agent"));
        var signed = store.Append(Records.Drafts(2 * LedgerStore.SpanMaxRecords + 117), signer);
        // Blocks of 3 (many spans per query), of 300 (one span and more per query), then one of 1,517 records: kept
        // in two spans, the first ending mid-block.
        await using (var ledger = new DevLedger(new MqttOptions { Broker = "mqtt://127.0.0.1:1" }, dir.File("ledger"), 31337, NullLogger<DevLedger>.Instance))
        {
            foreach (var chunk in signed.Take(300).Chunk(3).Append(signed.Skip(300).Take(300)).Append(signed.Skip(600)))
            {
                var (receipt, _) = ledger.HandleTransaction(signer.Key.Address, TransactionCodec.Encode(TransactionCodec.Create(signer.Key.Address, 31337, [.. chunk])));
                Assert.True(receipt.Accepted, receipt.Reason);
            }
        }
        using var ledgerStore = new LedgerStore(dir.File("ledger"));
        var spanEnd = 600UL + LedgerStore.SpanMaxRecords;
        foreach (var (first, last) in new (ulong, ulong)[] { (1, (ulong)signed.Count), (1, 300), (2, 2), (3, 4), (300, 301), (299, 601), (spanEnd, spanEnd + 1), (200, 1800), (2000, 6000), (5000, 6000), (0, 0) })
        {
            var expected = signed.Select(r => (ReadingRecord)r.Record).Where(r => r.Sequence >= first && r.Sequence <= last)
                .Select(r => (r.Sequence, r.Value, r.GatewayTimeMs, Convert.ToHexString(r.PrevHash.Span))).ToList();
            var read = ledgerStore.ReadReadings(signer.Key.Address, first, last)
                .Select(r => (r.Sequence, r.Value, r.GatewayTimeMs, Convert.ToHexString(r.PrevHash.Span))).ToList();
            Assert.Equal(expected, read);
        }
        // Every held digest is found, in any order of lookups, and nothing past the head or before seq 1.
        var held = ledgerStore.HeldDigests(signer.Key.Address);
        foreach (var r in signed.Reverse().Concat(signed.Where((_, i) => i % 7 == 0)))
            Assert.Equal(Convert.ToHexString(r.Digest.Span), Convert.ToHexString(held(r.Record.Sequence)!));
        Assert.Null(held(0));
        Assert.Null(held((ulong)signed.Count + 1));
        Assert.Null(ledgerStore.GetDigest("0x" + new string('0', 40), 1));
    }

    [Fact]
    public void A_transaction_resent_after_a_lost_receipt_is_not_counted_twice()
    {
        using var f = new Fixture();
        var records = f.Sign(10);
        var tx = f.Tx(records);

        var first = f.Ledger.HandleTransaction(f.Device, tx).Receipt;
        var again = f.Ledger.HandleTransaction(f.Device, tx).Receipt;
        // And an overlapping re-cut batch: 6..10 again plus 11..15.
        var more = f.Sign(5);
        var overlap = f.Ledger.HandleTransaction(f.Device, f.Tx([.. records.Skip(5), .. more])).Receipt;

        Assert.True(first.Accepted && again.Accepted && overlap.Accepted);
        Assert.Equal(10UL, again.AcceptedThrough);
        Assert.Equal(-1, again.Block);
        Assert.Equal(15UL, overlap.AcceptedThrough);
        var summary = Assert.Single(f.Ledger.Summarise());
        Assert.Equal(15, summary.Accepted);
        Assert.Empty(summary.Duplicates);
        Assert.Equal(2, f.Ledger.Height);
    }

    [Fact]
    public void A_resent_transaction_longer_than_a_span_is_all_duplicates_and_changes_nothing()
    {
        using var f = new Fixture();
        var records = f.Sign(LedgerStore.SpanMaxRecords + 50);
        var tx = f.Tx(records);

        var first = f.Ledger.HandleTransaction(f.Device, tx).Receipt;
        var again = f.Ledger.HandleTransaction(f.Device, tx).Receipt;
        // The last record re-signed with another value in the re-send: a conflict with the record held in the second
        // span, not a duplicate.
        var other = f.Signer.Sign((ReadingRecord)records[^1].Record with { Value = 7 });
        var forged = f.Tx([.. records.SkipLast(1), other]);

        Assert.True(first.Accepted && again.Accepted, again.Reason);
        Assert.Equal((ulong)records.Count, again.AcceptedThrough);
        Assert.Equal(-1, again.Block);
        var conflict = f.Ledger.HandleTransaction(f.Device, forged).Receipt;
        Assert.False(conflict.Accepted);
        Assert.Contains($"seq {records.Count}", conflict.Reason);
        var summary = Assert.Single(f.Ledger.Summarise());
        Assert.Equal(records.Count, summary.Accepted);
        Assert.Equal(((ulong)1, (ulong)records.Count), (summary.Lowest, summary.Highest));
        Assert.Empty(summary.Gaps);
        Assert.Equal(1, f.Ledger.Height);
    }

    [Fact]
    public void A_gap_is_rejected_and_the_receipt_says_where_the_ledger_stands()
    {
        using var f = new Fixture();
        var records = f.Sign(10);
        f.Ledger.HandleTransaction(f.Device, f.Tx(records.Take(4).ToList()));

        var receipt = f.Ledger.HandleTransaction(f.Device, f.Tx(records.Skip(6).ToList())).Receipt;

        Assert.False(receipt.Accepted);
        Assert.Equal(4UL, receipt.AcceptedThrough);
        Assert.Equal("gap: expected seq 5, got 7", receipt.Reason);
    }

    [Fact]
    public void An_altered_value_fails_the_signature_and_nothing_after_it_is_accepted()
    {
        using var f = new Fixture();
        var records = f.Sign(6).ToList();
        records[3] = records[3] with { Record = records[3].Reading! with { Value = records[3].Reading!.Value + 1 } };

        var receipt = f.Ledger.HandleTransaction(f.Device, f.Tx(records)).Receipt;

        Assert.False(receipt.Accepted);
        Assert.Equal(3UL, receipt.AcceptedThrough);
        Assert.Equal($"seq 4: signature does not recover to {f.Device}", receipt.Reason);
    }

    /// <summary>The record, re-signed by a key that is not the device's (its digest stays the device's record's).</summary>
    private static SignedReading SignedByStranger(SignedReading reading, byte fill)
    {
        using var stranger = EdgeMeter.Crypto.Keys.FileDeviceKey.FromSecret(Enumerable.Repeat(fill, 32).ToArray());
        var signature = new byte[65];
        stranger.SignDigest(reading.Digest.Span, signature);
        return reading with { Signature = signature };
    }

    [Fact]
    public void Once_the_device_key_is_known_a_record_signed_by_another_key_is_rejected()
    {
        using var f = new Fixture();
        var records = f.Sign(6).ToList();
        Assert.True(f.Ledger.HandleTransaction(f.Device, f.Tx(records.Take(3).ToList())).Receipt.Accepted);
        records[4] = SignedByStranger(records[4], 0x5A);

        var receipt = f.Ledger.HandleTransaction(f.Device, f.Tx(records.Skip(3).ToList())).Receipt;

        Assert.False(receipt.Accepted);
        Assert.Equal(4UL, receipt.AcceptedThrough);
        Assert.Equal($"seq 5: signature does not recover to {f.Device}", receipt.Reason);
    }

    [Fact]
    public void A_first_record_signed_by_another_key_is_rejected_and_does_not_stand_in_for_the_device_key()
    {
        using var f = new Fixture();
        var records = f.Sign(3).ToList();
        var forged = records.ToList();
        forged[0] = SignedByStranger(forged[0], 0x5B);

        var refused = f.Ledger.HandleTransaction(f.Device, f.Tx(forged)).Receipt;
        var honest = f.Ledger.HandleTransaction(f.Device, f.Tx(records)).Receipt;

        Assert.False(refused.Accepted);
        Assert.Equal(0UL, refused.AcceptedThrough);
        Assert.Equal($"seq 1: signature does not recover to {f.Device}", refused.Reason);
        Assert.True(honest.Accepted, honest.Reason);
        Assert.Equal(3UL, honest.AcceptedThrough);
    }

    [Fact]
    public void Records_sent_on_another_device_topic_are_rejected()
    {
        using var f = new Fixture();
        var receipt = f.Ledger.HandleTransaction("0x" + new string('1', 40), f.Tx(f.Sign(2))).Receipt;
        Assert.False(receipt.Accepted);
        Assert.StartsWith("transaction device", receipt.Reason, StringComparison.Ordinal);
        Assert.Empty(f.Ledger.Summarise());
    }

    [Fact]
    public void Malformed_payload_is_rejected_not_thrown()
    {
        using var f = new Fixture();
        var receipt = f.Ledger.HandleTransaction(f.Device, "{\"v\":1,\"records\":"u8.ToArray()).Receipt;
        Assert.False(receipt.Accepted);
        Assert.StartsWith("malformed transaction", receipt.Reason, StringComparison.Ordinal);
    }

    private static readonly FactorMonth March = new(2026, 3);

    /// <summary>
    /// Signed hourly readings of a grid meter and a clean PV meter, 1 kWh an hour each, from 11 days before March to
    /// an hour past its end; and the gateway's final claim for March over them (clean share 0.5: 20 tokens with the
    /// development defaults).
    /// </summary>
    private static (IReadOnlyList<SignedReading> Records, TokenClaim Claim) March2026(Fixture f)
    {
        var drafts = Records.HourlyGridAndPv(new DateTimeOffset(2026, 2, 18, 0, 0, 0, TimeSpan.Zero), new DateTimeOffset(2026, 4, 1, 1, 0, 0, TimeSpan.Zero));
        var records = f.Store.Append(drafts, f.Signer);
        var gateway = new IntervalAccumulator(15);
        foreach (var r in records)
            gateway.Add(r.Reading!);
        var p = FactorJson.ParseParams(System.Text.Encoding.UTF8.GetBytes(FactorParams.DevelopmentDefaultsJson));
        return (records, gateway.BuildClaimThrough(f.Device, March, p, [], 0m, new DateTimeOffset(2026, 4, 1, 0, 0, 0, TimeSpan.Zero)));
    }

    private static void Deliver(Fixture f, IReadOnlyList<SignedReading> records)
    {
        foreach (var chunk in records.Chunk(500))
            Assert.True(f.Ledger.HandleTransaction(f.Device, f.Tx(chunk)).Receipt.Accepted);
    }

    private static byte[] Raised(TokenClaim claim, long by) => System.Text.Encoding.UTF8.GetBytes(System.Text.Encoding.UTF8.GetString(claim.ToCanonicalJson())
        .Replace($"\"totalTokens\":{claim.Result.TotalTokens}}}", $"\"totalTokens\":{claim.Result.TotalTokens + by}}}", StringComparison.Ordinal));

    [Fact]
    public void A_claim_raised_by_one_token_is_rejected_with_both_figures_and_an_honest_one_credited()
    {
        using var f = new Fixture();
        var (records, claim) = March2026(f);
        Deliver(f, records);
        Assert.Equal(20, claim.Result.TotalTokens);

        var raised = f.Ledger.HandleClaim(f.Device, SignedEnvelope.Create(Raised(claim, 1), f.Signer.Key))!;

        Assert.False(raised.Accepted);
        Assert.Equal("claimed 21 tokens, recomputed 20; first difference result.totalTokens: claimed 21, recomputed 20", raised.Reason);
        Assert.Equal(0m, Assert.Single(f.Ledger.Summarise()).Balance);

        var honest = f.Ledger.HandleClaim(f.Device, SignedEnvelope.Create(claim.ToCanonicalJson(), f.Signer.Key))!;

        Assert.True(honest.Accepted, honest.Reason);
        Assert.Equal((20L, 20L), (honest.ClaimedTokens, honest.RecomputedTokens));
        var summary = Assert.Single(f.Ledger.Summarise());
        Assert.Equal(20m, summary.Balance);
        var row = Assert.Single(summary.Claims);
        Assert.Equal(("2026-03", true, "accepted", 20L, (long?)20L), (row.Month, row.Final, row.Status, row.Claimed, row.Recomputed));
    }

    [Fact]
    public void A_final_claim_sent_again_is_answered_again_and_counted_once()
    {
        using var f = new Fixture();
        var (records, claim) = March2026(f);
        Deliver(f, records);
        var envelope = SignedEnvelope.Create(claim.ToCanonicalJson(), f.Signer.Key);

        Assert.True(f.Ledger.HandleClaim(f.Device, envelope)!.Accepted);
        Assert.True(f.Ledger.HandleClaim(f.Device, envelope)!.Accepted);
        var other = f.Ledger.HandleClaim(f.Device, SignedEnvelope.Create(Raised(claim, -1), f.Signer.Key))!;

        Assert.False(other.Accepted);
        Assert.Equal("2026-03 is closed: the ledger already credited another final claim for it", other.Reason);
        Assert.Equal(20m, Assert.Single(f.Ledger.Summarise()).Balance);
    }

    [Fact]
    public void A_claim_over_readings_the_ledger_does_not_hold_yet_waits_for_them()
    {
        using var f = new Fixture();
        var (records, claim) = March2026(f);
        Deliver(f, records.Take(records.Count / 2).ToList());

        Assert.Null(f.Ledger.HandleClaim(f.Device, SignedEnvelope.Create(claim.ToCanonicalJson(), f.Signer.Key)));
        Assert.Equal("pending", Assert.Single(Assert.Single(f.Ledger.Summarise()).Claims).Status);

        Deliver(f, records.Skip(records.Count / 2).ToList());
        var verdict = Assert.Single(f.Ledger.RetryPendingClaims(f.Device));

        Assert.True(verdict.Accepted, verdict.Reason);
        Assert.Equal(20m, Assert.Single(f.Ledger.Summarise()).Balance);
    }

    [Fact]
    public void A_claim_signed_by_another_key_or_for_another_device_is_not_judged()
    {
        using var f = new Fixture();
        using var other = new TempDir();
        var stranger = Records.Signer(other.Path);
        var (records, claim) = March2026(f);
        Deliver(f, records);

        Assert.Null(f.Ledger.HandleClaim(f.Device, SignedEnvelope.Create(claim.ToCanonicalJson(), stranger.Key)));
        Assert.Null(f.Ledger.HandleClaim(f.Device, System.Text.Encoding.UTF8.GetBytes("{\"payload\":\"{}\",\"signature\":\"0x00\"}")));
        Assert.Null(f.Ledger.HandleClaim(stranger.Key.Address, SignedEnvelope.Create(claim.ToCanonicalJson(), stranger.Key)));
        Assert.Empty(Assert.Single(f.Ledger.Summarise()).Claims);
    }
}
