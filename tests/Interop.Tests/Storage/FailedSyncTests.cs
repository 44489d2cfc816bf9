using EdgeMeter.Agent.Storage;

namespace EdgeMeter.Interop.Tests.Storage;

/// <summary>
/// A sync that fails (the power went during it, or the medium answers EIO) must never count as one. On cutfs, whose
/// held sync is answered with EIO after the cut.
/// </summary>
public sealed class FailedSyncTests
{
    [Fact]
    public async Task A_commit_whose_fsync_fails_is_not_durable_and_no_later_sync_makes_it_so()
    {
        await using var fs = await CutFs.MountAsync(Directory.CreateTempSubdirectory("edgemeter-failedsync-").FullName);
        using var fence = CommitFence.OpenFile(Path.Combine(fs.Mount, RecordStore.LogFileName));
        var page = new byte[8192];
        page[18] = 1; // LiteDB's "confirmed" flag: this page ends a commit
        fence.Write(page, 0, page.Length);
        Assert.Equal(1, fence.ConfirmsWritten);

        await fs.HoldNextSyncAsync(RecordStore.LogFileName);
        var sync = Task.Run(fence.Flush);
        await fs.WaitHeldAsync(TimeSpan.FromSeconds(10));
        await fs.CutHeldAsync();

        await Assert.ThrowsAsync<IOException>(() => sync);
        Assert.Equal(0, fence.ConfirmsSynced);
        var waited = Assert.Throws<IOException>(() => fence.WaitSynced(0, 1, TimeSpan.FromSeconds(30)));
        Assert.Contains("could not be synced", waited.Message, StringComparison.Ordinal);
        // The file system would sync now, but the page the failed sync dropped is gone: nothing may vouch for it.
        Assert.Throws<IOException>(fence.Flush);
        Assert.Equal(0, fence.ConfirmsSynced);
    }
}
