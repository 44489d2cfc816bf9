using EdgeMeter.Agent.Configuration;
using EdgeMeter.Agent.Ledger;
using EdgeMeter.Agent.Storage;
using EdgeMeter.Agent.Tests.Support;
using EdgeMeter.Crypto.Records;
using EdgeMeter.Crypto.Signing;
using EdgeMeter.Economics;
using Microsoft.Extensions.Logging.Abstractions;

namespace EdgeMeter.Agent.Tests.Ledger;

/// <summary>
/// The ledger is ahead of the gateway (issue 9, item 4): the store continues after the ledger's head with a gap
/// declaration, never signing a number again; the development ledger accepts the declaration, marks it in its dump,
/// and refuses every conflict.
/// </summary>
public sealed class GapDeclarationTests : IDisposable
{
    private const ulong ChainId = 31337;
    private readonly TempDir _dir = new();
    private readonly RecordSigner _signer;
    private readonly DevLedger _ledger;

    public GapDeclarationTests()
    {
        _signer = Records.Signer(_dir.Path, ChainId);
        _ledger = new DevLedger(new MqttOptions { Broker = "mqtt://127.0.0.1:1" }, _dir.File("ledger"), ChainId, NullLogger<DevLedger>.Instance);
    }

    public void Dispose()
    {
        _ledger.DisposeAsync().AsTask().GetAwaiter().GetResult();
        _dir.Dispose();
    }

    private string Device => _signer.Key.Address;

    private Receipt Send(IReadOnlyList<SignedReading> records) =>
        _ledger.HandleTransaction(Device, TransactionCodec.Encode(TransactionCodec.Create(Device, ChainId, records))).Receipt;

    /// <summary>A store that signed 1..6, was copied, signed 7..10 (all on the ledger), and was then restored from the copy.</summary>
    private (RecordStore Restored, IReadOnlyList<SignedReading> OnLedger) RestoredStore(ulong reserve)
    {
        var live = _dir.File("gateway");
        var backup = _dir.File("backup");
        var onLedger = new List<SignedReading>();
        using (var store = new RecordStore(live))
            onLedger.AddRange(store.Append(Records.Drafts(6), _signer));
        Directory.CreateDirectory(backup);
        foreach (var file in Directory.GetFiles(live))
            File.Copy(file, Path.Combine(backup, Path.GetFileName(file)));
        using (var store = new RecordStore(live))
            onLedger.AddRange(store.Append(Records.Drafts(4, firstValue: 7000), _signer));
        var receipt = Send(onLedger);
        Assert.True(receipt.Accepted, receipt.Reason);
        Assert.Equal(onLedger[^1].Digest.ToArray(), receipt.HeadDigest);
        return (new RecordStore(backup) { LedgerAheadReserve = reserve }, onLedger);
    }

    [Fact]
    public void A_restored_store_continues_after_the_ledgers_head_with_one_gap_and_the_ledger_keeps_one_chain()
    {
        var (store, onLedger) = RestoredStore(reserve: 5);
        using (store)
        {
            Assert.Equal(6UL, store.Head.Sequence);
            var head = onLedger[^1];

            var (confirmed, gap) = store.ReconcileWithLedger(10, head.Digest.Span, _signer, 1_780_000_100_000, TimeStatus.Synchronised);

            Assert.Equal(0, confirmed);
            var declared = Assert.IsType<GapRecord>(gap!.Record);
            // Skips 11..15 (the reserve after the ledger's head), is itself seq 16, and links to the ledger's seq 10.
            Assert.Equal((16UL, 11UL, 15UL, GapReason.LedgerAhead), (declared.Sequence, declared.FromSequence, declared.ToSequence, declared.Reason));
            Assert.Equal(head.Digest.ToArray(), declared.PrevHash.ToArray());
            Assert.Equal((16UL, 10UL), (store.Head.Sequence, store.Head.ConfirmedThrough));
            Assert.Equal(1, store.PendingCount);

            var next = store.Append(Records.Drafts(3, firstValue: 9000), _signer);
            Assert.Equal([17UL, 18, 19], next.Select(r => r.Record.Sequence));
            Assert.Equal(gap.Digest.ToArray(), next[0].Record.PrevHash.ToArray());
            Assert.Equal(4, store.PendingCount);
            var pending = store.ReadPending(0, 100);
            Assert.Equal([16UL, 17, 18, 19], pending.Select(r => r.Record.Sequence));

            var receipt = Send(pending);
            Assert.True(receipt.Accepted, receipt.Reason);
            Assert.Equal(19UL, receipt.AcceptedThrough);
            Assert.Equal((4L, (SignedReading?)null), store.ReconcileWithLedger(receipt.AcceptedThrough, receipt.HeadDigest, _signer, 0, TimeStatus.Synchronised));
            Assert.Equal(0, store.PendingCount);
        }

        var summary = Assert.Single(_ledger.Summarise());
        Assert.Equal((14L, 1UL, 19UL), (summary.Accepted, summary.Lowest, summary.Highest));
        Assert.Empty(summary.Gaps);
        Assert.Empty(summary.Duplicates);
        Assert.Equal(new LedgerGap(16, 11, 15, GapReason.LedgerAhead), Assert.Single(summary.DeclaredGaps));
    }

    [Fact]
    public void A_store_that_signed_numbers_the_ledger_holds_abandons_them_and_skips_past_its_own_head()
    {
        var (store, onLedger) = RestoredStore(reserve: 3);
        using (store)
        {
            // Signed offline before the ledger's head arrived: 7..12 collide with the ledger's 7..10.
            var collided = store.Append(Records.Drafts(6, firstValue: 5000), _signer);
            Assert.NotEqual(onLedger[9].Digest.ToArray(), collided[3].Digest.ToArray());
            var rejected = Send(collided);
            Assert.False(rejected.Accepted);
            Assert.Equal("seq 7: conflicts with the record the ledger holds", rejected.Reason);

            var (_, gap) = store.ReconcileWithLedger(rejected.AcceptedThrough, rejected.HeadDigest, _signer, 1_780_000_100_000, TimeStatus.Synchronised);

            var declared = Assert.IsType<GapRecord>(gap!.Record);
            Assert.Equal((16UL, 11UL, 15UL), (declared.Sequence, declared.FromSequence, declared.ToSequence));
            Assert.Equal(1, store.PendingCount);
            // The receipt of another conflicting batch, still on its way, names the same head: no second declaration.
            Assert.Equal((0L, (SignedReading?)null), store.ReconcileWithLedger(rejected.AcceptedThrough, rejected.HeadDigest, _signer, 1_780_000_101_000, TimeStatus.Synchronised));
            Assert.Equal(16UL, store.Head.Sequence);
            // 11 and 12 lie in the declared range: abandoned, never sent.
            Assert.Equal([16UL], store.ReadPending(0, 100).Select(r => r.Record.Sequence));
            Assert.True(Send(store.ReadPending(0, 100)).Accepted);
        }
        // Reopened, the store still knows what it declared.
        using (var reopened = new RecordStore(_dir.File("backup")))
        {
            Assert.Equal((16UL, 10UL), (reopened.Head.Sequence, reopened.Head.ConfirmedThrough));
            Assert.Equal([16UL], reopened.ReadPending(0, 100).Select(r => r.Record.Sequence));
            Assert.Equal(1, reopened.PendingCount);
            Assert.Equal(17UL, reopened.Append(Records.Drafts(1), _signer)[0].Record.Sequence);
        }
        Assert.Equal(new LedgerGap(16, 11, 15, GapReason.LedgerAhead), Assert.Single(Assert.Single(_ledger.Summarise()).DeclaredGaps));
    }

    [Fact]
    public void A_store_in_step_with_the_ledger_only_confirms()
    {
        using var store = new RecordStore(_dir.File("gateway"));
        var records = store.Append(Records.Drafts(5), _signer);
        Send(records.Take(3).ToList());
        var (confirmed, gap) = store.ReconcileWithLedger(3, records[2].Digest.Span, _signer, 0, TimeStatus.Synchronised);
        Assert.Equal((3L, (SignedReading?)null), (confirmed, gap));
        Assert.Equal((5UL, 3UL, 2L), (store.Head.Sequence, store.Head.ConfirmedThrough, store.PendingCount));
        Assert.Equal((0L, (SignedReading?)null), store.ReconcileWithLedger(0, new byte[32], _signer, 0, TimeStatus.Synchronised));
    }

    [Fact]
    public void The_ledger_refuses_every_conflict_around_a_gap_declaration()
    {
        using var store = new RecordStore(_dir.File("gateway"));
        var records = store.Append(Records.Drafts(5), _signer);
        Assert.True(Send(records).Accepted);
        GapRecord Gap(ulong from, ulong to, ReadOnlyMemory<byte> prev) => new()
        {
            Device = Device, Sequence = to + 1, FromSequence = from, ToSequence = to, Reason = GapReason.StoreLost,
            GatewayTimeMs = 1_780_000_100_000, TimeStatus = TimeStatus.Synchronised, PrevHash = prev,
        };

        // A declaration over records the ledger holds (4..8 while it holds through 5).
        var overlapping = _signer.Sign(Gap(4, 8, records[2].Digest));
        var receipt = Send([overlapping]);
        Assert.False(receipt.Accepted);
        Assert.Equal("seq 9: conflict: declares seqs 4..8 missing, but the chain holds them through seq 5", receipt.Reason);
        Assert.Equal(5UL, receipt.AcceptedThrough);
        Assert.Equal(records[4].Digest.ToArray(), receipt.HeadDigest);

        // A declaration whose link is not the ledger's head.
        var misLinked = _signer.Sign(Gap(6, 8, records[3].Digest));
        Assert.Equal("seq 9: previous-hash does not match seq 5", Send([misLinked]).Reason);

        // Accepted: 6..8 skipped, linked to 5. Then the same seq with other content, and a record in the declared range.
        var gap = _signer.Sign(Gap(6, 8, records[4].Digest));
        Assert.True(Send([gap]).Accepted);
        var other = _signer.Sign(Gap(6, 8, records[4].Digest) with { Reason = GapReason.LedgerAhead });
        Assert.Equal("seq 9: conflicts with the record the ledger holds", Send([other]).Reason);
        var inRange = _signer.Sign(Records.Draft(1) with { Device = Device, Sequence = 7, PrevHash = records[4].Digest });
        Assert.Equal("seq 7: the chain is past it (through seq 9) and holds no record with it (a declared gap)", Send([inRange]).Reason);
        // The declaration sent again is a re-send.
        var again = Send([gap]);
        Assert.True(again.Accepted);
        Assert.Equal(-1, again.Block);

        var summary = Assert.Single(_ledger.Summarise());
        Assert.Equal((6L, 9UL), (summary.Accepted, summary.Highest));
        Assert.Empty(summary.Gaps);
        Assert.Equal(new LedgerGap(9, 6, 8, GapReason.StoreLost), Assert.Single(summary.DeclaredGaps));
    }
}
