using EdgeMeter.Agent.Storage;
using EdgeMeter.Agent.Tests.Support;

namespace EdgeMeter.Agent.Tests.Storage;

public sealed class CommitFenceTests
{
    /// <summary>Counts the syncs (flushes) that reach the medium.</summary>
    private sealed class CountingStream : MemoryStream
    {
        public int Syncs;

        public override void Flush() => Syncs++;
    }

    private static byte[] Page(bool confirms)
    {
        var page = new byte[8192];
        page[0] = 7;
        page[18] = confirms ? (byte)1 : (byte)0;
        return page;
    }

    /// <summary>Records what reaches the stream: each write (offset, length, the confirmed byte of a page's header) and each sync.</summary>
    private sealed class RecordingStream : MemoryStream
    {
        public List<string> Operations { get; } = [];

        public override void Write(byte[] buffer, int offset, int count)
        {
            Operations.Add($"write {Position}+{count} flag {buffer[offset + 18]}");
            base.Write(buffer, offset, count);
        }

        public override void Flush() => Operations.Add("sync");

        public override void SetLength(long value)
        {
            Operations.Add($"length {value}");
            base.SetLength(value);
        }
    }

    [Fact]
    public void A_log_syncs_a_commits_pages_before_its_confirming_sector_and_that_sector_at_the_flush()
    {
        var inner = new RecordingStream();
        using var fence = new CommitFence(inner, isLog: true);
        var first = Page(confirms: false);
        var last = Page(confirms: true);
        last[8191] = 9;

        fence.Write(first);
        fence.Flush(); // LiteDB's writer, its queue dry: nothing to sync yet
        fence.Write(last);
        Assert.Equal(16384, fence.Position);
        Assert.Equal(0, fence.ConfirmsSynced);
        fence.Flush();

        Assert.Equal(["write 0+8192 flag 0", "write 8192+8192 flag 0", "sync", "write 8192+512 flag 1", "sync"], inner.Operations);
        Assert.Equal(1, fence.ConfirmsSynced);
        Assert.Equal([.. first, .. last], inner.ToArray());
        Assert.Equal(1, last[18]); // LiteDB's buffer (shared with its readers) is left as it was

        // Nothing new: nothing to sync. A checkpoint's emptying of the log is synced at once, before any new page.
        fence.Flush();
        fence.SetLength(0);
        Assert.Equal(["length 0", "sync"], inner.Operations[^2..]);
        fence.Flush();
        Assert.Equal(7, inner.Operations.Count);
        // A write that is not one whole page is synced at the next flush.
        fence.Write(new byte[100]);
        fence.Flush();
        Assert.Equal("sync", inner.Operations[^1]);
    }

    [Fact]
    public void A_fence_for_a_data_file_syncs_every_flush()
    {
        var inner = new CountingStream();
        using var fence = new CommitFence(inner);
        fence.Write(Page(confirms: false));
        fence.Flush();
        fence.Flush();
        Assert.Equal(2, inner.Syncs);
    }

    [Fact]
    public void A_failed_write_fails_the_commits_waiting_for_a_sync_at_once()
    {
        var inner = new BreakingStream();
        inner.Break();
        using var fence = new CommitFence(inner, isLog: true);
        var before = fence.ConfirmsWritten;
        Assert.Throws<IOException>(() => fence.Write(Page(confirms: true)));
        // Not the timeout's message: the write's failure.
        var e = Assert.Throws<IOException>(() => fence.WaitSynced(before, 1, TimeSpan.FromMinutes(10)));
        Assert.Contains("EIO", e.Message);
        Assert.Throws<IOException>(() => fence.Flush());
    }

    [Fact]
    public void The_record_store_syncs_its_log_twice_per_commit_not_once_per_page()
    {
        using var dir = new TempDir();
        var signer = Records.Signer(dir.Path);
        var data = new CountingStream();
        var log = new CountingStream();
        using var store = new RecordStore(data, log);
        const int commits = 20;
        for (var i = 0; i < commits; i++)
            store.Append(Records.Drafts(500, firstValue: 1000 + 1000 * i), signer); // ~10 log pages a commit
        // LiteDB flushes when its queue runs dry, often several times a commit; a commit syncs twice: its pages, then
        // its confirming sector.
        Assert.InRange(log.Syncs, 2 * commits, 2 * commits + 2);
        Assert.True(log.Length >= commits * 5 * 8192L, $"log {log.Length} bytes: commits this small test nothing");
    }
}
