using EdgeMeter.Agent.Configuration;
using EdgeMeter.Agent.Ledger;
using EdgeMeter.Agent.Storage;
using EdgeMeter.Agent.Sync;
using EdgeMeter.Agent.Tests.Support;
using EdgeMeter.Crypto.Keys;
using EdgeMeter.Crypto.Records;
using EdgeMeter.Crypto.Signing;
using EdgeMeter.Economics;
using Microsoft.Extensions.Logging.Abstractions;
using Xunit.Abstractions;

namespace EdgeMeter.Agent.Tests.Storage.PowerCut;

/// <summary>
/// The gateway's pipeline (key, record store, signer, uplink to the ledger) on a <see cref="CutDisk"/>: power cuts at
/// hundreds of random points, during commits, checkpoints and key creation, then a restart from what was synced.
/// </summary>
public sealed class PowerCutTests(ITestOutputHelper output)
{
    private const ulong ChainId = 31337;
    private const string KeyPath = "/data/device.key";
    private const string DataPath = "/data/edgemeter.db";
    private const string LogPath = "/data/edgemeter-log.db";

    /// <summary>
    /// Stores left behind by a cut, as a dead process leaves them: never disposed, and kept reachable so that the GC
    /// never finalizes them either. LiteDB's transaction finalizer throws on a store whose disk went away, and an
    /// exception on the finalizer thread would take the whole test host down.
    /// </summary>
    private static readonly System.Collections.Concurrent.ConcurrentBag<RecordStore> Abandoned = [];

    [Fact]
    public void LiteDB_has_synced_the_log_before_Append_returns_and_the_records_survive_a_cut_right_after()
    {
        var disk = new CutDisk(1);
        using var dir = new TempDir();
        var signer = Records.Signer(dir.Path);
        var store = new RecordStore(disk.Open(DataPath), disk.Open(LogPath));
        Abandoned.Add(store);
        var syncsBefore = disk.Syncs.GetValueOrDefault("edgemeter-log.db");

        var signed = store.Append(Records.Drafts(3), signer);

        // The durable flush is a call of its own, after the writes: nothing of the commit is only in the volatile copy.
        Assert.True(disk.Syncs.GetValueOrDefault("edgemeter-log.db") > syncsBefore);
        Assert.False(disk.HasUnsynced(LogPath));
        disk.CutNow("right after Append returned");
        disk.Reboot();
        using var reopened = new RecordStore(disk.Open(DataPath), disk.Open(LogPath));
        Assert.Equal(3UL, reopened.Head.Sequence);
        Assert.Equal(signed.Select(r => r.Digest.ToArray()), reopened.ReadRange(1, 3).Select(r => r.Digest.ToArray()));
    }

    /// <summary>Appends after a restart: small ones take LiteDB's free-page lists, which a commit restored in part had left wrong.</summary>
    private static readonly int[] After = [1, 2, 3, 5, 8, 13, 21];

    /// <summary>
    /// A cut at every write and sync of one commit, on stores of random histories (blocks filled in part or whole, a
    /// checkpoint just done, LiteDB's transaction numbers started again at 1, or not), each torn write leaving a
    /// different number of its sectors on the medium: the store comes back without the commit (it never returned) and
    /// goes on appending, checkpointing and reopening with one unbroken chain. With the confirming page written in one
    /// go (before 2026-12-02) it failed: "invalid segment position in index footer" on an append after the restart.
    /// </summary>
    [Fact]
    public void A_cut_at_every_write_of_a_commit_torn_anywhere_leaves_the_commit_out_and_the_store_appending()
    {
        ThreadPool.GetMinThreads(out var workers, out var io);
        ThreadPool.SetMinThreads(Math.Max(workers, 800), io);
        using var dir = new TempDir();
        var signer = Records.Signer(dir.Path);
        var random = new Random(20261202);
        var cuts = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var scenario = 0; scenario < 40; scenario++)
        {
            var history = Enumerable.Range(0, random.Next(1, 30)).Select(_ => (Size: random.Next(2) == 0 ? random.Next(1, 5) : random.Next(1, 60), Checkpoint: random.Next(7) == 0)).ToList();
            var checkpointFirst = random.Next(2) == 0;
            var size = random.Next(2) == 0 ? random.Next(1, 5) : random.Next(1, 60);
            var held = (ulong)history.Sum(h => h.Size);
            for (var step = 1; ; step++)
            {
                var disk = new CutDisk(1000 * scenario + step);
                var store = new RecordStore(disk.Open(DataPath), disk.Open(LogPath));
                Abandoned.Add(store); // never disposed: left as a dead process leaves it
                var value = 1000L;
                foreach (var (count, checkpoint) in history)
                {
                    store.Append(Records.Drafts(count, value), signer);
                    value += 10 * count;
                    if (checkpoint)
                        store.Checkpoint();
                }
                if (checkpointFirst)
                    store.Checkpoint();
                var before = store.ReadRange(1, held).Select(r => r.Digest.ToArray()).ToList();
                disk.CutAfter(step);
                RunUntilDoneOrCut(disk, () => store.Append(Records.Drafts(size, value), signer));
                if (!disk.Crashed)
                {
                    // The commit takes fewer steps than this: each of them was cut in the rounds before.
                    disk.CutNow("the commit done"); // the cut is still armed
                    break;
                }
                var cut = disk.Cuts[^1];
                cuts[cut] = cuts.GetValueOrDefault(cut) + 1;
                disk.Reboot();

                var context = $"scenario {scenario} ({history.Count} commits before, checkpoint first {checkpointFirst}), {size} records cut at step {step} ({cut})";
                using (var reopened = new RecordStore(disk.Open(DataPath), disk.Open(LogPath)))
                {
                    Assert.True(reopened.Head.Sequence == held, $"{context}: head {reopened.Head.Sequence}, {held} held");
                    Assert.Equal(before, reopened.ReadRange(1, held).Select(r => r.Digest.ToArray()));
                    // The store goes on: appends of every size around a checkpoint.
                    foreach (var n in After)
                        reopened.Append(Records.Drafts(n, value += 10 * n), signer);
                    reopened.Checkpoint();
                    reopened.Append(Records.Drafts(40, value + 10_000), signer);
                    Assert.Equal(held + (ulong)After.Sum() + 40, reopened.Head.Sequence);
                }
                disk.CutNow("checked");
                disk.Reboot();
                using var again = new RecordStore(disk.Open(DataPath), disk.Open(LogPath));
                var all = again.ReadRange(1, ulong.MaxValue);
                Assert.Equal(Enumerable.Range(1, (int)held + After.Sum() + 40).Select(i => (ulong)i), all.Select(r => r.Record.Sequence));
                Assert.Equal(before, all.Take((int)held).Select(r => r.Digest.ToArray()));
                for (var i = 1; i < all.Count; i++)
                    Assert.Equal(all[i - 1].Digest.ToArray(), all[i].Record.PrevHash.ToArray());
            }
        }
        output.WriteLine(string.Join(", ", cuts.Select(c => $"{c.Key} {c.Value}")));
        Assert.True(cuts.GetValueOrDefault("edgemeter-log.db write") > 100 && cuts.GetValueOrDefault("edgemeter-log.db sync") >= 40);
    }

    [Fact]
    public void A_cut_at_any_step_of_key_creation_leaves_no_key_or_the_whole_key_never_a_torn_one()
    {
        var outcomes = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var trial = 0; trial < 120; trial++)
        {
            var disk = new CutDisk(trial);
            disk.CutAfter(1 + trial % 6);
            string? created = null;
            RunUntilDoneOrCut(disk, () =>
            {
                using var key = FileDeviceKey.LoadOrCreate(KeyPath, disk);
                created = key.Address;
            });
            disk.Reboot();

            var existed = disk.Exists(KeyPath);
            using var after = FileDeviceKey.LoadOrCreate(KeyPath, disk);
            if (created is not null)
                Assert.Equal(created, after.Address);
            Assert.Equal(32, disk.ReadAllBytes(KeyPath).Length);
            var outcome = existed ? "kept" : "none";
            outcomes[outcome] = outcomes.GetValueOrDefault(outcome) + 1;
        }
        output.WriteLine(string.Join(", ", outcomes.Select(o => $"{o.Key}: {o.Value}")));
        Assert.True(outcomes.GetValueOrDefault("none") > 0 && outcomes.GetValueOrDefault("kept") > 0);
    }

    [Fact]
    public async Task Hundreds_of_random_cuts_lose_no_acknowledged_record_sign_no_sequence_twice_and_the_chain_resumes()
    {
        const int cuts = 300;
        // Threads that met a cut never run again; LiteDB's writer is a pool thread, so keep the pool from starving.
        ThreadPool.GetMinThreads(out var workers, out var io);
        ThreadPool.SetMinThreads(Math.Max(workers, 2 * cuts + 50), io);
        var random = new Random(20261201);
        var disk = new CutDisk(7);
        using var ledgerDir = new TempDir();
        await using var ledger = new DevLedger(new MqttOptions(), ledgerDir.Path, ChainId, NullLogger<DevLedger>.Instance);

        var sent = new Dictionary<ulong, byte[]>();      // every record that ever left the gateway, by sequence
        var committed = new Dictionary<ulong, byte[]>(); // every record whose Append returned
        ulong acknowledged = 0;                          // the ledger's head for the device
        var conflicts = new List<string>();
        var rejections = new List<string>();
        string? device = null;
        long value = 1;

        for (var round = 0; round <= cuts; round++)
        {
            var last = round == cuts;
            // What the ledger holds is acknowledged, even when the cut hit before its receipt reached the store.
            acknowledged = ledger.Summarise().SingleOrDefault()?.Highest ?? 0;
            if (!last)
                disk.CutAfter(random.Next(1, 120));
            RunUntilDoneOrCut(disk, () =>
            {
                RecordStore? store = null;
                try
                {
                    using var key = FileDeviceKey.LoadOrCreate(KeyPath, disk);
                    var signer = new RecordSigner(key, Eip712Domain.ForReadings(ChainId));
                    store = new RecordStore(disk.Open(DataPath), disk.Open(LogPath));
                    if (committed.Count > 0)
                        Assert.Equal(device, key.Address); // a key that signed a durable record is never replaced
                    CheckAfterRestart(store, committed, sent, acknowledged, $"round {round} after cuts {string.Join(" / ", disk.Cuts.TakeLast(3))}, syncs {string.Join(", ", disk.Syncs)}");

                    var steps = last ? 30 : random.Next(5, 25);
                    for (var step = 0; step < steps && !disk.Crashed; step++)
                    {
                        switch (random.Next(10))
                        {
                            case < 5:
                                foreach (var r in store.Append(Records.Drafts(random.Next(1, 8), value), signer))
                                {
                                    committed[r.Record.Sequence] = r.Digest.ToArray();
                                    device = r.Record.Device;
                                }
                                value += 10;
                                break;
                            case < 9:
                                acknowledged = Sync(store, ledger, key.Address, sent, conflicts, rejections, acknowledged);
                                break;
                            default:
                                store.Checkpoint();
                                break;
                        }
                    }
                    if (last)
                    {
                        // Power stays on: the gateway catches up by itself, from whatever the cuts left.
                        while (store.PendingCount > 0)
                            acknowledged = Sync(store, ledger, key.Address, sent, conflicts, rejections, acknowledged);
                        Assert.Equal(store.Head.Sequence, acknowledged);
                        Assert.True(acknowledged > 500, $"only {acknowledged} records reached the ledger");
                        var all = store.ReadRange(1, ulong.MaxValue);
                        Assert.Equal(Enumerable.Range(1, (int)acknowledged).Select(i => (ulong)i), all.Select(r => r.Record.Sequence));
                        for (var i = 0; i < all.Count; i++)
                        {
                            Assert.Equal(sent[all[i].Record.Sequence], all[i].Digest.ToArray());
                            Assert.Equal(i == 0 ? new byte[32] : all[i - 1].Digest.ToArray(), all[i].Record.PrevHash.ToArray());
                        }
                    }
                    else if (!disk.Crashed)
                    {
                        disk.CutNow("between operations");
                    }
                }
                finally
                {
                    if (!disk.Crashed)
                        store?.Dispose();
                    else if (store is not null)
                        Abandoned.Add(store);
                }
            });
            // After a cut nothing is disposed: the process is gone.
            disk.Reboot();
        }

        var summary = Assert.Single(ledger.Summarise());
        output.WriteLine($"{disk.Cuts.Count} cuts; ledger head {acknowledged}; " + string.Join(", ",
            disk.Cuts.GroupBy(Category).OrderBy(g => g.Key).Select(g => $"{g.Key}: {g.Count()}")));
        Assert.Empty(conflicts);
        Assert.Empty(rejections);
        Assert.Empty(summary.Gaps);
        Assert.Empty(summary.Duplicates);
        Assert.Equal(acknowledged, summary.Highest);
        Assert.Equal(cuts, disk.Cuts.Count);
        var categories = disk.Cuts.GroupBy(Category).ToDictionary(g => g.Key, g => g.Count());
        // A commit is its page writes and two syncs (not one a page), so fewer cuts land in it than in a checkpoint;
        // 20 of 300 still cut before, between and after its pages and at its syncs.
        Assert.True(categories.GetValueOrDefault("commit") >= 20, "cuts during commits: " + categories.GetValueOrDefault("commit"));
        Assert.True(categories.GetValueOrDefault("checkpoint") >= 25, "cuts during checkpoints: " + categories.GetValueOrDefault("checkpoint"));
        Assert.True(categories.GetValueOrDefault("key creation") >= 1, "cuts during key creation: " + categories.GetValueOrDefault("key creation"));
    }

    /// <summary>
    /// Runs one life of the gateway on its own thread until it ends or the power goes. After a cut LiteDB's
    /// committing thread may wait forever for its writer thread, which the cut killed: a process without power
    /// waits for nothing, so that thread is left behind (blocked, on streams that refuse everything).
    /// </summary>
    private static void RunUntilDoneOrCut(CutDisk disk, Action life)
    {
        System.Runtime.ExceptionServices.ExceptionDispatchInfo? failure = null;
        var process = new Thread(() =>
        {
            try
            {
                life();
            }
            catch (Exception e)
            {
                failure = System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(e);
            }
        })
        { IsBackground = true };
        process.Start();
        var waiting = 0;
        while (!process.Join(TimeSpan.FromMilliseconds(10)))
        {
            // After the cut the gateway's thread either stopped at the disk, or waits for LiteDB's writer, which did.
            waiting = disk.Crashed && (process.ThreadState & ThreadState.WaitSleepJoin) != 0 ? waiting + 1 : 0;
            if (disk.Crashed && (disk.IsFrozen(process) || waiting >= 5))
                return;
        }
        failure?.Throw();
    }

    private static string Category(string cut) =>
        cut.StartsWith("edgemeter-log.db", StringComparison.Ordinal) ? "commit"
        : cut.StartsWith("edgemeter.db", StringComparison.Ordinal) ? "checkpoint"
        : cut.StartsWith("device.key", StringComparison.Ordinal) ? "key creation"
        : "between operations";

    /// <summary>What a restart must find: every committed and every acknowledged record, unchanged.</summary>
    private static void CheckAfterRestart(RecordStore store, Dictionary<ulong, byte[]> committed, Dictionary<ulong, byte[]> sent, ulong acknowledged, string round)
    {
        var head = store.Head.Sequence;
        var committedHead = committed.Count == 0 ? 0 : committed.Keys.Max();
        Assert.True(head >= committedHead, $"{round}: committed records lost (head {head}, committed through {committedHead})");
        Assert.True(head >= acknowledged, $"{round}: acknowledged records lost (head {head}, ledger at {acknowledged})");
        var from = head > 64 ? head - 64 : 1;
        foreach (var r in store.ReadRange(from, head))
        {
            // A commit the cut interrupted after its sync is on the medium though Append never returned: it counts.
            if (!committed.TryAdd(r.Record.Sequence, r.Digest.ToArray()))
                Assert.Equal(committed[r.Record.Sequence], r.Digest.ToArray());
            if (sent.TryGetValue(r.Record.Sequence, out var digest))
                Assert.Equal(digest, r.Digest.ToArray());
        }
    }

    /// <summary>The uplink, without MQTT in between: pending records to the ledger, its receipt to the store.</summary>
    private static ulong Sync(RecordStore store, DevLedger ledger, string device, Dictionary<ulong, byte[]> sent,
        List<string> conflicts, List<string> rejections, ulong acknowledged)
    {
        var batch = store.ReadPending(0, 40);
        if (batch.Count == 0)
            return acknowledged;
        foreach (var r in batch)
        {
            var digest = r.Digest.ToArray();
            if (sent.TryGetValue(r.Record.Sequence, out var before) && !before.AsSpan().SequenceEqual(digest))
                conflicts.Add($"seq {r.Record.Sequence} signed twice with different content");
            sent[r.Record.Sequence] = digest;
        }
        var (receipt, _) = ledger.HandleTransaction(device, TransactionCodec.Encode(TransactionCodec.Create(device, ChainId, batch)));
        if (!receipt.Accepted)
            rejections.Add($"{receipt.TxId}: {receipt.Reason}");
        store.Confirm(receipt.AcceptedThrough);
        return Math.Max(acknowledged, receipt.AcceptedThrough);
    }
}
