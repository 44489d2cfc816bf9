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

    [Fact]
    public void A_log_that_syncs_commits_only_skips_a_flush_that_covers_only_unconfirmed_pages()
    {
        var inner = new CountingStream();
        using var fence = new CommitFence(inner, syncCommitsOnly: true);
        fence.Write(Page(confirms: false));
        fence.Write(Page(confirms: false));
        fence.Flush();
        Assert.Equal(0, inner.Syncs);
        Assert.Equal(0, fence.ConfirmsWritten);

        fence.Write(Page(confirms: true));
        fence.Flush();
        Assert.Equal(1, inner.Syncs);
        Assert.Equal(1, fence.ConfirmsSynced);

        // Nothing new: nothing to sync.
        fence.Flush();
        Assert.Equal(1, inner.Syncs);

        // A size change and a write that is not one whole page are synced as before.
        fence.SetLength(8192 * 2);
        fence.Flush();
        Assert.Equal(2, inner.Syncs);
        fence.Write(new byte[100]);
        fence.Flush();
        Assert.Equal(3, inner.Syncs);
        Assert.Equal(16384 + 100, inner.Length);
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
        using var fence = new CommitFence(inner, syncCommitsOnly: true);
        var before = fence.ConfirmsWritten;
        Assert.Throws<IOException>(() => fence.Write(Page(confirms: true)));
        // Not the timeout's message: the write's failure.
        var e = Assert.Throws<IOException>(() => fence.WaitSynced(before, 1, TimeSpan.FromMinutes(10)));
        Assert.Contains("EIO", e.Message);
        Assert.Throws<IOException>(() => fence.Flush());
    }

    [Fact]
    public void The_record_store_syncs_its_log_once_per_commit_not_once_per_page()
    {
        using var dir = new TempDir();
        var signer = Records.Signer(dir.Path);
        var data = new CountingStream();
        var log = new CountingStream();
        using var store = new RecordStore(data, log);
        const int commits = 20;
        for (var i = 0; i < commits; i++)
            store.Append(Records.Drafts(500, firstValue: 1000 + 1000 * i), signer); // ~10 log pages a commit
        // LiteDB flushes when its queue runs dry, often several times a commit; only the commit's last flush syncs.
        Assert.InRange(log.Syncs, commits, commits + 2);
        Assert.True(log.Length >= commits * 5 * 8192L, $"log {log.Length} bytes: commits this small test nothing");
    }
}
