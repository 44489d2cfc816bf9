using System.Text;
using EdgeMeter.Crypto.Files;

namespace EdgeMeter.Interop.Tests.Storage;

/// <summary>The power-cut file system itself (peers/cutfs.c), through the same .NET calls the agent makes.</summary>
public sealed class CutFsTests
{
    [Fact]
    public async Task A_write_without_fsync_is_gone_after_the_cut_and_the_old_content_is_back()
    {
        await using var fs = await CutFs.MountAsync(Temp());
        var file = Path.Combine(fs.Mount, "f");
        WriteSynced(file, "first");
        AtomicFile.SyncDirectory(fs.Mount);

        await File.WriteAllTextAsync(file, "second, never synced");
        WriteUnsyncedElsewhere(fs); // the last write, the one a cut may tear, goes to another file
        Assert.Equal("second, never synced", await File.ReadAllTextAsync(file));
        await fs.CutAsync();

        Assert.Equal("first", await File.ReadAllTextAsync(file));
        Assert.Equal("first", await File.ReadAllTextAsync(Path.Combine(fs.Backing, "f")));
        var counters = await fs.CountersAsync();
        Assert.Equal(1, counters["cuts"]);
        Assert.Equal(3, counters["dropped"]); // f's new data, scratch's data, scratch's name in the root
    }

    [Fact]
    public async Task A_write_with_fsync_is_there_after_the_cut_in_the_mount_and_on_the_medium()
    {
        await using var fs = await CutFs.MountAsync(Temp());
        var file = Path.Combine(fs.Mount, "f");
        WriteSynced(file, "first");
        AtomicFile.SyncDirectory(fs.Mount);

        WriteSynced(file, "second, synced");
        WriteUnsyncedElsewhere(fs);
        await fs.CutAsync();

        Assert.Equal("second, synced", await File.ReadAllTextAsync(file));
        Assert.Equal("second, synced", await File.ReadAllTextAsync(Path.Combine(fs.Backing, "f")));
    }

    [Fact]
    public async Task A_sync_under_way_at_the_cut_never_happens_and_its_caller_gets_an_error()
    {
        await using var fs = await CutFs.MountAsync(Temp());
        var file = Path.Combine(fs.Mount, "edgemeter-log.db");
        WriteSynced(file, "committed");
        AtomicFile.SyncDirectory(fs.Mount);
        await using var stream = new FileStream(file, FileMode.Open, FileAccess.Write);
        stream.Write(Encoding.ASCII.GetBytes("the next commit"));
        stream.Flush(); // to the file system, not to the medium
        WriteUnsyncedElsewhere(fs);

        await fs.HoldNextSyncAsync("edgemeter-log.db");
        // AtomicFile.Sync, not FileStream.Flush(true): .NET's Flush(true) returns normally when fsync fails.
        var sync = Task.Run(() => AtomicFile.Sync(stream));
        await fs.WaitHeldAsync(TimeSpan.FromSeconds(10));
        Assert.False(sync.IsCompleted);
        await fs.CutHeldAsync();

        await Assert.ThrowsAsync<IOException>(() => sync);
        Assert.Equal("committed", await File.ReadAllTextAsync(file));
    }

    [Fact]
    public async Task A_rename_without_an_fsync_of_the_directory_is_undone_by_the_cut_and_kept_with_one()
    {
        await using var fs = await CutFs.MountAsync(Temp());
        var old = Path.Combine(fs.Mount, "old");
        var renamed = Path.Combine(fs.Mount, "new");
        WriteSynced(old, "content");
        AtomicFile.SyncDirectory(fs.Mount);

        File.Move(old, renamed);
        Assert.Equal(["new"], Names(fs.Mount));
        await fs.CutAsync();
        Assert.Equal(["old"], Names(fs.Mount));
        Assert.Equal("content", await File.ReadAllTextAsync(old));

        File.Move(old, renamed);
        AtomicFile.SyncDirectory(fs.Mount);
        await fs.CutAsync();
        Assert.Equal(["new"], Names(fs.Mount));
        Assert.Equal(["new"], Names(fs.Backing));
        Assert.Equal("content", await File.ReadAllTextAsync(renamed));
    }

    [Fact]
    public async Task A_new_file_synced_but_not_its_directory_vanishes_and_so_does_a_new_directory()
    {
        await using var fs = await CutFs.MountAsync(Temp());
        WriteSynced(Path.Combine(fs.Mount, "data.db"), "synced data, name never synced");
        Directory.CreateDirectory(Path.Combine(fs.Mount, "dir"));
        WriteSynced(Path.Combine(fs.Mount, "dir", "inner"), "x");
        AtomicFile.SyncDirectory(Path.Combine(fs.Mount, "dir")); // the inner name, but not "dir" itself

        await fs.CutAsync();

        Assert.Empty(Names(fs.Mount));
        Assert.Empty(Names(fs.Backing));
        Assert.Equal(1, (await fs.CountersAsync())["dirsyncs"]);
    }

    [Fact]
    public async Task A_file_whose_name_was_synced_but_not_its_data_survives_empty()
    {
        await using var fs = await CutFs.MountAsync(Temp());
        await File.WriteAllTextAsync(Path.Combine(fs.Mount, "edgemeter.db"), "never synced");
        AtomicFile.SyncDirectory(fs.Mount);
        WriteUnsyncedElsewhere(fs);

        await fs.CutAsync();

        Assert.Equal(["edgemeter.db"], Names(fs.Mount).Where(n => n != "scratch"));
        Assert.Equal(0, new FileInfo(Path.Combine(fs.Mount, "edgemeter.db")).Length);
    }

    [Fact]
    public async Task The_last_unsynced_write_is_torn_at_page_boundaries_a_random_prefix_surviving()
    {
        // One 12 KB write at offset 1000 over a synced file of 'a's: pieces end at 4096, 8192, 12288 and 13288.
        var outcomes = new HashSet<int>();
        for (uint seed = 1; seed <= 8; seed++)
        {
            await using var fs = await CutFs.MountAsync(Temp(), seed);
            var file = Path.Combine(fs.Mount, "log");
            WriteSynced(file, new string('a', 20_000));
            AtomicFile.SyncDirectory(fs.Mount);
            await using (var stream = new FileStream(file, FileMode.Open, FileAccess.Write))
            {
                stream.Position = 1000;
                stream.Write(Encoding.ASCII.GetBytes(new string('b', 12_288)));
            }

            await fs.CutAsync();

            var after = await File.ReadAllTextAsync(file);
            Assert.Equal(20_000, after.Length);
            var survived = after.Skip(1000).TakeWhile(c => c == 'b').Count();
            Assert.Contains(survived, new[] { 0, 4096 - 1000, 8192 - 1000, 12288 - 1000, 12_288 });
            Assert.Equal(new string('a', 1000), after[..1000]);
            Assert.Equal(new string('a', 20_000 - 1000 - survived), after[(1000 + survived)..]);
            Assert.Equal(survived > 0 ? 1 : 0, (await fs.CountersAsync())["torn"]);
            outcomes.Add(survived);
        }
        Assert.True(outcomes.Count >= 2, "every seed tore the write the same way: " + string.Join(", ", outcomes));
    }

    private static string Temp() => Directory.CreateTempSubdirectory("edgemeter-cutfs-test-").FullName;

    private static string[] Names(string dir) => Directory.GetFileSystemEntries(dir).Select(Path.GetFileName).Order(StringComparer.Ordinal).ToArray()!;

    /// <summary>Write and fsync (what <c>FileStream.Flush(true)</c> does), then close.</summary>
    private static void WriteSynced(string path, string content)
    {
        using var stream = new FileStream(path, FileMode.Create, FileAccess.Write);
        stream.Write(Encoding.ASCII.GetBytes(content));
        stream.Flush(flushToDisk: true);
    }

    /// <summary>A write to a file of its own that is never synced, so that the cut tears this one and not the one tested.</summary>
    private static void WriteUnsyncedElsewhere(CutFs fs) => File.WriteAllText(Path.Combine(fs.Mount, "scratch"), "scratch");
}
