using System.Text.Json;
using EdgeMeter.Interop.Tests.Support;

namespace EdgeMeter.Interop.Tests.Packaging;

/// <summary>
/// The Native AOT binary under the seccomp part of edgemeter.service (SystemCallFilter=, MemoryDenyWriteExecute=,
/// RestrictAddressFamilies=), rebuilt from the unit by peers/sandbox_exec.c because systemd is not PID 1 here.
/// </summary>
[Collection(AotCollection.Name)]
public sealed class ServiceSandboxTests(AotBinaryFixture aot)
{
    private static readonly Lazy<Task<(string Sandbox, string Syscalls)>> Filter = new(BuildAsync);

    [Fact]
    public async Task Filter_refuses_writable_executable_memory_foreign_socket_families_and_unlisted_calls()
    {
        var (sandbox, syscalls) = await Filter.Value;
        Assert.Equal("filter holds", (await DebianPackages.RunOkAsync(sandbox, [syscalls, "--self-test"])).Trim());
    }

    [Fact]
    public async Task Demo_runs_the_whole_path_inside_the_units_syscall_filter_and_memory_deny_write_execute()
    {
        var (sandbox, syscalls) = await Filter.Value;
        var data = Directory.CreateTempSubdirectory("edgemeter-sandbox-").FullName;
        try
        {
            var r = await Processes.RunAsync(sandbox, [syscalls, aot.Binary, "demo", "--exit-after", "10", "--data", data, "--http", "http://127.0.0.1:0"],
                TimeSpan.FromSeconds(90));
            Assert.True(r.ExitCode == 0, r.Err);
            using var json = JsonDocument.Parse(r.Out.Trim().Split('\n')[^1]);
            var root = json.RootElement;
            Assert.True(root.GetProperty("signed").GetInt64() > 0, r.Out);
            Assert.Equal(root.GetProperty("signed").GetInt64(), root.GetProperty("stored").GetInt64());
            Assert.True(root.GetProperty("confirmed").GetInt64() >= 5, r.Out);
        }
        finally
        {
            Directory.Delete(data, recursive: true);
        }
    }

    /// <summary>Compiles the peer and expands the unit's SystemCallFilter= lines with systemd's own group lists.</summary>
    private static async Task<(string, string)> BuildAsync()
    {
        var dir = Directory.CreateTempSubdirectory("edgemeter-sandbox-peer-").FullName;
        var sandbox = Path.Combine(dir, "sandbox_exec");
        await DebianPackages.RunOkAsync("gcc", ["-O1", "-Wall", "-Werror", "-o", sandbox,
            Path.Combine(Repo.Root, "tests", "Interop.Tests", "peers", "sandbox_exec.c"), "-lseccomp"]);

        var groups = ParseGroups(await DebianPackages.RunOkAsync("systemd-analyze", ["syscall-filter", "--no-pager"]));
        var unit = DebianPackageTests.ParseUnit(await File.ReadAllTextAsync(Path.Combine(Repo.Root, "hardware", "systemd", "edgemeter.service")));
        // systemd's rule: the first list allows; a later "~" list removes from it, a later plain one adds again.
        var allowed = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var entry in unit["SystemCallFilter"])
        {
            var remove = entry.StartsWith('~');
            foreach (var name in entry.TrimStart('~').Split(' ', StringSplitOptions.RemoveEmptyEntries).SelectMany(n => Expand(n, groups)))
            {
                if (remove)
                    allowed.Remove(name);
                else
                    allowed.Add(name);
            }
        }
        Assert.Contains("adjtimex", allowed);
        Assert.DoesNotContain("settimeofday", allowed);
        var syscalls = Path.Combine(dir, "syscalls.txt");
        await File.WriteAllLinesAsync(syscalls, allowed);
        return (sandbox, syscalls);
    }

    // "@system-service\n    # comment\n    @aio\n    capget\n..." -> group -> members
    private static Dictionary<string, List<string>> ParseGroups(string text)
    {
        var groups = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        List<string>? current = null;
        foreach (var line in text.Split('\n'))
        {
            var t = line.Trim();
            if (t.Length == 0 || t[0] == '#')
                continue;
            if (line[0] != ' ')
                groups[t] = current = [];
            else
                current?.Add(t);
        }
        return groups;
    }

    private static IEnumerable<string> Expand(string name, Dictionary<string, List<string>> groups) =>
        name.StartsWith('@') ? groups[name].SelectMany(n => Expand(n, groups)) : [name];
}
