using System.Diagnostics;

namespace EdgeMeter.Interop.Tests.Support;

/// <summary>
/// The FUSE file system of peers/cutfs.c, mounted for one test: it passes through to a backing directory (the
/// medium) but keeps every write apart until it is synced, and at <see cref="CutAsync"/> throws away whatever was
/// not synced (a file's data: until an fsync of the file; a name: until an fsync of its directory), keeping a random
/// page-granular prefix of the last unsynced write. Compiled once per test run with gcc and pkg-config fuse3.
/// </summary>
internal sealed class CutFs : IAsyncDisposable
{
    private static readonly Lazy<Task<string>> Binary = new(CompileAsync);
    private readonly Process _process;
    private readonly Task<string> _stderr;

    private CutFs(Process process, string backing, string mount)
    {
        _process = process;
        _stderr = process.StandardError.ReadToEndAsync();
        Backing = backing;
        Mount = mount;
    }

    /// <summary>The medium: what a power cut now would leave.</summary>
    public string Backing { get; }

    /// <summary>Where the file system is mounted.</summary>
    public string Mount { get; }

    /// <summary>Mounts a cutfs over an empty <c>medium</c> folder in <paramref name="dir"/> at <c>dir/mnt</c>.</summary>
    /// <param name="seed">Chooses how much of a torn write survives each cut.</param>
    public static async Task<CutFs> MountAsync(string dir, uint seed = 1)
    {
        var binary = await Binary.Value;
        var backing = Directory.CreateDirectory(Path.Combine(dir, "medium")).FullName;
        var mount = Directory.CreateDirectory(Path.Combine(dir, "mnt")).FullName;
        var info = new ProcessStartInfo(binary)
        {
            RedirectStandardInput = true, // the "cut" for a held sync
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in new[] { backing, mount, seed.ToString(System.Globalization.CultureInfo.InvariantCulture) })
            info.ArgumentList.Add(arg);
        var process = Process.Start(info) ?? throw new InvalidOperationException("could not start " + binary);
        var fs = new CutFs(process, backing, mount);
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        string? line;
        try
        {
            line = await process.StandardOutput.ReadLineAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            line = null;
        }
        if (line != "READY")
        {
            await fs.DisposeAsync();
            throw new InvalidOperationException($"cutfs did not mount at {mount} ('{line}'): {await fs._stderr}");
        }
        return fs;
    }

    /// <summary>The power cut: afterwards the mount shows only what was synced (and maybe part of the last write).</summary>
    public async Task CutAsync() => await File.WriteAllTextAsync(Path.Combine(Mount, ".cutfs"), "cut");

    /// <summary>
    /// Arms a cut in the middle of a sync: the next fsync of a file named <paramref name="name"/> never completes;
    /// the file system waits (<see cref="WaitHeldAsync"/>) until <see cref="CutHeldAsync"/>.
    /// </summary>
    public async Task HoldNextSyncAsync(string name) => await File.WriteAllTextAsync(Path.Combine(Mount, ".cutfs"), "hold " + name);

    /// <summary>Waits until the armed sync is under way (and held).</summary>
    /// <exception cref="TimeoutException">No such sync within <paramref name="timeout"/>.</exception>
    public async Task WaitHeldAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            while (await _process.StandardOutput.ReadLineAsync(cts.Token) is { } line)
            {
                if (line == "HELD")
                    return;
            }
        }
        catch (OperationCanceledException)
        {
        }
        throw new TimeoutException($"no sync was held within {timeout.TotalSeconds} s");
    }

    /// <summary>The power cut while the held sync is under way: that sync never happens. Returns once the cut is done.</summary>
    public async Task CutHeldAsync()
    {
        await _process.StandardInput.WriteLineAsync("cut");
        await _process.StandardInput.FlushAsync();
        // The control file is answered only after the held sync's handler has cut and returned.
        await CountersAsync();
    }

    /// <summary>The counters: cuts, file syncs, directory syncs, torn writes that left a part behind, files and directories a cut dropped changes of.</summary>
    public async Task<IReadOnlyDictionary<string, long>> CountersAsync()
    {
        var words = (await File.ReadAllTextAsync(Path.Combine(Mount, ".cutfs"))).Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var counters = new Dictionary<string, long>(StringComparer.Ordinal);
        for (var i = 0; i + 1 < words.Length; i += 2)
            counters[words[i]] = long.Parse(words[i + 1], System.Globalization.CultureInfo.InvariantCulture);
        return counters;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            // Unmounting ends the file system's loop; a lazy unmount if something still holds it open.
            var r = await Processes.RunAsync("umount", [Mount], TimeSpan.FromSeconds(10));
            if (r.ExitCode != 0)
                await Processes.RunAsync("umount", ["-l", Mount], TimeSpan.FromSeconds(10));
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            try
            {
                await _process.WaitForExitAsync(cts.Token);
            }
            catch (OperationCanceledException)
            {
                _process.Kill();
                await _process.WaitForExitAsync();
            }
        }
        _process.Dispose();
    }

    private static async Task<string> CompileAsync()
    {
        TestDependencies.Require(Peer.Fuse);
        var source = Path.Combine(Repo.Root, "tests", "Interop.Tests", "peers", "cutfs.c");
        var flags = await Processes.RunAsync("pkg-config", ["--cflags", "--libs", "fuse3"], TimeSpan.FromSeconds(30));
        if (flags.ExitCode != 0)
            throw new InvalidOperationException($"pkg-config fuse3 failed: {flags.Err}");
        var output = Path.Combine(Directory.CreateTempSubdirectory("edgemeter-cutfs-").FullName, "cutfs");
        var gcc = await Processes.RunAsync("gcc",
            ["-O1", "-Wall", "-Wextra", "-Werror", "-o", output, source, .. flags.Out.Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)],
            TimeSpan.FromSeconds(120));
        if (gcc.ExitCode != 0)
            throw new InvalidOperationException($"gcc failed for {source}: {gcc.Err}");
        return output;
    }
}
