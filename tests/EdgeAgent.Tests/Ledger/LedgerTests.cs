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
        records[3] = records[3] with { Record = records[3].Record with { Value = records[3].Record.Value + 1 } };

        var receipt = f.Ledger.HandleTransaction(f.Device, f.Tx(records)).Receipt;

        Assert.False(receipt.Accepted);
        Assert.Equal(3UL, receipt.AcceptedThrough);
        Assert.Equal($"seq 4: signature does not recover to {f.Device}", receipt.Reason);
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

    private static byte[] Claim(string device, string month, long tokens) => System.Text.Encoding.UTF8.GetBytes(
        "{\"type\":\"edgemeter.token-claim\",\"version\":1,\"device\":\"" + device + "\",\"month\":\"" + month
        + "\",\"result\":{\"carbonTokens\":" + tokens + ",\"congestionTokens\":0,\"totalTokens\":" + tokens + "}}");

    [Fact]
    public void Balance_is_the_sum_of_each_month_latest_claim_signed_by_the_device()
    {
        using var f = new Fixture();

        Assert.Equal(12m, f.Ledger.HandleClaim(f.Device, SignedEnvelope.Create(Claim(f.Device, "2026-10", 12), f.Signer.Key)));
        Assert.Equal(17m, f.Ledger.HandleClaim(f.Device, SignedEnvelope.Create(Claim(f.Device, "2026-11", 5), f.Signer.Key)));
        // A newer claim for November replaces the earlier one rather than adding to it.
        Assert.Equal(21m, f.Ledger.HandleClaim(f.Device, SignedEnvelope.Create(Claim(f.Device, "2026-11", 9), f.Signer.Key)));
        Assert.Equal(21m, Assert.Single(f.Ledger.Summarise()).Balance);
    }

    [Fact]
    public void A_claim_signed_by_another_key_or_for_another_device_is_rejected()
    {
        using var f = new Fixture();
        using var other = new TempDir();
        var stranger = Records.Signer(other.Path);

        Assert.Null(f.Ledger.HandleClaim(f.Device, SignedEnvelope.Create(Claim(f.Device, "2026-11", 50), stranger.Key)));
        Assert.Null(f.Ledger.HandleClaim(f.Device, System.Text.Encoding.UTF8.GetBytes("{\"payload\":\"{}\",\"signature\":\"0x00\"}")));
        Assert.Null(f.Ledger.HandleClaim(stranger.Key.Address, SignedEnvelope.Create(Claim(f.Device, "2026-11", 50), stranger.Key)));
        Assert.Empty(f.Ledger.Summarise());
    }
}
