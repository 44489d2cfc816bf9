using EdgeMeter.Agent.Storage;
using EdgeMeter.Agent.Tests.Support;
using EdgeMeter.Crypto.Signing;

namespace EdgeMeter.Agent.Tests.Storage;

public sealed class RecordStoreTests
{
    [Fact]
    public void Append_numbers_from_one_and_links_each_record_to_the_previous_digest()
    {
        using var dir = new TempDir();
        var signer = Records.Signer(dir.Path);
        using var store = new RecordStore(dir.Path);

        var signed = store.Append(Records.Drafts(5), signer);

        Assert.Equal([1UL, 2, 3, 4, 5], signed.Select(s => s.Record.Sequence));
        Assert.True(signed[0].Record.PrevHash.Span.SequenceEqual(new byte[32]));
        for (var i = 1; i < signed.Count; i++)
            Assert.True(signed[i].Record.PrevHash.Span.SequenceEqual(signed[i - 1].Digest.Span), $"record {i + 1} does not link to {i}");
        Assert.All(signed, s => Assert.Equal(signer.Key.Address, s.Record.Device));
        var digest = new byte[32];
        ReadingTypedData.Digest(signer.Domain, signed[3].Record, digest);
        Assert.Equal(digest, signed[3].Digest.ToArray());
        Assert.True(SignatureRecovery.TryRecoverAddress(digest, signed[3].Signature.Span, out var address));
        Assert.Equal(signer.Key.Address, address);
    }

    [Fact]
    public void Reopened_store_continues_sequence_and_chain_without_reuse()
    {
        using var dir = new TempDir();
        var signer = Records.Signer(dir.Path);
        IReadOnlyList<EdgeMeter.Crypto.Records.SignedReading> first;
        using (var store = new RecordStore(dir.Path))
            first = store.Append(Records.Drafts(3), signer);

        using var reopened = new RecordStore(dir.Path);
        Assert.Equal(3UL, reopened.Head.Sequence);
        var next = reopened.Append(Records.Drafts(2, firstValue: 5000), signer);

        Assert.Equal([4UL, 5], next.Select(s => s.Record.Sequence));
        Assert.True(next[0].Record.PrevHash.Span.SequenceEqual(first[^1].Digest.Span));
        Assert.Equal(5, reopened.ReadRange(1, 100).Count);
        Assert.Equal(5, reopened.ReadRange(1, ulong.MaxValue).Count);
    }

    [Fact]
    public void Stored_records_read_back_field_for_field()
    {
        using var dir = new TempDir();
        var signer = Records.Signer(dir.Path);
        using var store = new RecordStore(dir.Path);
        var signed = store.Append(Records.Drafts(4), signer);

        var back = store.ReadRange(1, 4);

        Assert.Equal(4, back.Count);
        for (var i = 0; i < 4; i++)
        {
            var (a, b) = (signed[i].Record, back[i].Record);
            Assert.Equal(a with { PrevHash = default }, b with { PrevHash = default });
            Assert.Equal(a.PrevHash.ToArray(), b.PrevHash.ToArray());
            Assert.Equal(signed[i].Digest.ToArray(), back[i].Digest.ToArray());
            Assert.Equal(signed[i].Signature.ToArray(), back[i].Signature.ToArray());
        }
        Assert.Equal(1_780_000_000_000 - 1500, back[0].Reading!.MeterTimeMs);
        Assert.Equal(0, back[1].Reading!.MeterTimeMs);
    }

    [Fact]
    public void Confirmation_is_a_watermark_that_only_moves_forward()
    {
        using var dir = new TempDir();
        var signer = Records.Signer(dir.Path);
        using var store = new RecordStore(dir.Path);
        var appended = store.Append(Records.Drafts(10), signer);

        Assert.Equal(10, store.PendingCount);
        // Read from the middle of the stored block: the records before it are stepped over, the rest come back whole.
        var middle = store.ReadPending(6, 2);
        Assert.Equal([7UL, 8], middle.Select(r => r.Record.Sequence));
        for (var i = 0; i < middle.Count; i++)
        {
            Assert.Equal(appended[6 + i].Record, middle[i].Record with { PrevHash = appended[6 + i].Record.PrevHash });
            Assert.Equal(appended[6 + i].Record.PrevHash.ToArray(), middle[i].Record.PrevHash.ToArray());
            Assert.Equal(appended[6 + i].Digest.ToArray(), middle[i].Digest.ToArray());
            Assert.Equal(appended[6 + i].Signature.ToArray(), middle[i].Signature.ToArray());
        }
        Assert.Equal(4, store.Confirm(4));
        Assert.Equal(0, store.Confirm(2));
        Assert.Equal(6, store.PendingCount);
        Assert.Equal([5UL, 6, 7], store.ReadPending(0, 3).Select(r => r.Record.Sequence));
        Assert.Equal([8UL, 9, 10], store.ReadPending(7, 100).Select(r => r.Record.Sequence));
        Assert.Equal(6, store.Confirm(99));
        Assert.Equal(10UL, store.Head.ConfirmedThrough);
        Assert.Empty(store.ReadPending(0, 100));
    }

    [Fact]
    public void Reads_from_the_block_read_last_go_on_into_later_commits_and_never_return_a_pruned_block()
    {
        using var dir = new TempDir();
        var signer = Records.Signer(dir.Path);
        using var store = new RecordStore(dir.Path);
        store.Append(Records.Drafts(6), signer);
        store.Append(Records.Drafts(4, firstValue: 2000), signer);

        // Batch by batch through the first block and on into the second, as the uplink reads a backlog.
        Assert.Equal([3UL, 4], store.ReadRange(3, 4).Select(r => r.Record.Sequence));
        Assert.Equal([5UL, 6, 7], store.ReadPending(4, 3).Select(r => r.Record.Sequence));
        Assert.Equal([8UL, 9, 10], store.ReadRange(8, 100).Select(r => r.Record.Sequence));
        // A commit after the block read last is read too.
        var more = store.Append(Records.Drafts(3, firstValue: 3000), signer);
        Assert.Equal([9UL, 10, 11, 12, 13], store.ReadRange(9, 100).Select(r => r.Record.Sequence));
        Assert.Equal(more.Select(r => Convert.ToHexString(r.Signature.Span)), store.ReadRange(11, 13).Select(r => Convert.ToHexString(r.Signature.Span)));
        // The first block read last, then pruned: it is gone from reads as from the disk.
        store.Confirm(6);
        Assert.Equal([2UL], store.ReadRange(2, 2).Select(r => r.Record.Sequence));
        Assert.Equal(6, store.PruneConfirmed(long.MaxValue, 1000));
        Assert.Empty(store.ReadRange(1, 6));
        Assert.Equal([7UL, 8], store.ReadRange(2, 8).Select(r => r.Record.Sequence));
    }

    [Fact]
    public void Pruning_deletes_only_confirmed_records_a_whole_commit_at_a_time()
    {
        using var dir = new TempDir();
        var signer = Records.Signer(dir.Path);
        using var store = new RecordStore(dir.Path);
        store.Append(Records.Drafts(6), signer);
        store.Append(Records.Drafts(4, firstValue: 2000), signer);
        store.Confirm(8);

        // 1..6 are one confirmed commit; 7..10 share a commit with unconfirmed 9 and 10, so they stay.
        var pruned = store.PruneConfirmed(long.MaxValue, 1000);

        Assert.Equal(6, pruned);
        Assert.Equal([7UL, 8, 9, 10], store.ReadRange(1, 10).Select(r => r.Record.Sequence));
        Assert.Equal([8UL, 9], store.ReadRange(8, 9).Select(r => r.Record.Sequence));
        Assert.Equal(10UL, store.Head.Sequence);
    }

    [Fact]
    public void The_watermark_reaches_the_disk_on_dispose_and_the_head_comes_back_from_the_records()
    {
        using var dir = new TempDir();
        var signer = Records.Signer(dir.Path);
        using (var store = new RecordStore(dir.Path))
        {
            store.Append(Records.Drafts(10), signer);
            store.Confirm(4);
            store.Append(Records.Drafts(1, firstValue: 99), signer);
            store.Confirm(7);
        }

        using var reopened = new RecordStore(dir.Path);
        Assert.Equal((11UL, 7UL), (reopened.Head.Sequence, reopened.Head.ConfirmedThrough));
    }

    [Fact]
    public void The_origin_is_stored_and_blocks_written_before_it_read_as_live()
    {
        using var dir = new TempDir();
        var signer = Records.Signer(dir.Path);
        EdgeMeter.Crypto.Records.SignedReading old;
        using (var store = new RecordStore(dir.Path))
        {
            old = store.Append(Records.Drafts(1), signer)[0];
            var drafts = Records.Drafts(2, firstValue: 2000).Select(d => d with { Origin = EdgeMeter.Crypto.Records.RecordOrigin.MeterMemory }).ToList();
            store.Append(drafts, signer);
        }
        // Rewrite block 1 as a store of the previous layout wrote it: no "v" member, no origin byte.
        using (var db = new LiteDB.LiteDatabase(new LiteDB.ConnectionString { Filename = Path.Combine(dir.Path, RecordStore.FileName), Connection = LiteDB.ConnectionType.Direct }))
        {
            var blocks = db.GetCollection("blocks");
            var block = blocks.FindById(1L);
            Assert.Equal(2, block["v"].AsInt32);
            var body = block["b"].AsBinary.ToList();
            var r = old.Reading!;
            var originAt = 3 + r.MeterId.Length + r.Obis.Length + r.Unit.Length + 28;
            Assert.Equal(0, body[originAt]);
            body.RemoveAt(originAt);
            block["b"] = body.ToArray();
            block.Remove("v");
            blocks.Update(block);
        }

        using var reopened = new RecordStore(dir.Path);
        var back = reopened.ReadRange(1, 3);
        Assert.Equal([EdgeMeter.Crypto.Records.RecordOrigin.Live, EdgeMeter.Crypto.Records.RecordOrigin.MeterMemory, EdgeMeter.Crypto.Records.RecordOrigin.MeterMemory],
            back.Select(b => b.Reading!.Origin));
        Assert.Equal(old.Reading! with { PrevHash = default }, back[0].Reading! with { PrevHash = default });
        Assert.Equal(old.Signature.ToArray(), back[0].Signature.ToArray());
        var digest = new byte[32];
        ReadingTypedData.Digest(signer.Domain, back[1].Record, digest);
        Assert.Equal(digest, back[1].Digest.ToArray());
        Assert.True(back[1].Record.PrevHash.Span.SequenceEqual(back[0].Digest.Span));
    }
}
