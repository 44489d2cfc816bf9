using System.Runtime.CompilerServices;
using EdgeMeter.Agent.Storage;
using EdgeMeter.Agent.Tests.Support;

namespace EdgeMeter.Agent.Tests.Storage;

/// <summary>
/// LiteDB 5.0.20 closes its engine when its file fails. Two things then go wrong unless the store steps around them:
/// disposing the engine waits forever for its dead log writer to empty its queue (an agent that could not stop), and
/// a commit the failure interrupted, with pages already handed to the writer, is left undisposed; its finalizer
/// throws ("discarded page must be writable") on the finalizer thread, which ends the process (CI saw the test host
/// die so). The second depends on when the writer fails, so these tests fail many large commits mid-way and make the
/// collector finalize what they leave; each wait is bounded, a hang fails the test.
/// </summary>
public sealed class FailedDiskTests
{
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task A_store_whose_disk_failed_mid_commit_closes_and_is_collected_without_hanging_or_ending_the_process(bool disposeIt)
    {
        var failures = await Task.Run(() =>
        {
            var failed = 0;
            for (var i = 0; i < 10; i++)
                failed += FailOnce(disposeIt);
            return failed;
        }).WaitAsync(TimeSpan.FromSeconds(120));
        Assert.Equal(10, failures);
        var collected = Task.Run(() =>
        {
            for (var i = 0; i < 3; i++)
            {
                GC.Collect();
                GC.WaitForPendingFinalizers();
            }
        });
        // A finalizer that throws ends the process; one that blocks fails the wait.
        await collected.WaitAsync(TimeSpan.FromSeconds(60));
        Assert.True(FaultedEngines.Count >= 10);
    }

    // Not inlined: nothing of the failed store stays on this frame's stack when the collector runs.
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static int FailOnce(bool disposeIt)
    {
        using var dir = new TempDir();
        var signer = Records.Signer(dir.Path);
        var log = new BreakingStream();
        var store = new RecordStore(new BreakingStream(), log) { SyncTimeout = TimeSpan.FromSeconds(30) };
        Assert.Equal(3, store.Append(Records.Drafts(3), signer).Count);
        // Mid-commit: the log writer fails while the committing thread is still handing it pages.
        log.BreakAfter(3);
        var failed = 0;
        try
        {
            store.Append(Records.Drafts(2000, firstValue: 5000), signer);
        }
        catch (IOException)
        {
            failed = 1;
        }
        if (disposeIt)
        {
            try
            {
                store.Dispose();
            }
            catch (Exception e) when (e is IOException or LiteDB.LiteException)
            {
                // Closing a failed engine may report the failure again; what matters is what the collector finds.
            }
        }
        return failed;
    }
}
