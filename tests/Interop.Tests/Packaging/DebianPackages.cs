using System.Collections.Concurrent;
using System.Text.RegularExpressions;
using EdgeMeter.Interop.Tests.Support;

namespace EdgeMeter.Interop.Tests.Packaging;

/// <summary>
/// The .deb packages, built by <c>publish-profiles/package.sh</c> from the AOT binaries the collection has already
/// published (<c>PUBLISH_DIR</c>), once per run and version.
/// </summary>
internal static partial class DebianPackages
{
    private static readonly ConcurrentDictionary<(string Arch, string Version), Lazy<Task<string>>> Built = new();
    private static readonly string Output = Path.Combine(Path.GetTempPath(), "edgemeter-debs-" + Environment.ProcessId);

    /// <summary>The version in Directory.Build.props, as package.sh reads it.</summary>
    public static string Version { get; } =
        VersionElement().Match(File.ReadAllText(Path.Combine(Repo.Root, "Directory.Build.props"))).Groups[1].Value;

    /// <summary>A newer version for the upgrade test (dpkg orders 0.1.0 &lt; 0.1.0+upgrade1).</summary>
    public static string NextVersion => Version + "+upgrade1";

    public static async Task<string> Amd64Async(AotBinaryFixture aot, string? version = null) =>
        await BuildAsync("amd64", Path.GetDirectoryName(aot.Binary)!, version ?? Version);

    public static async Task<string> Arm64Async(AotBinaryFixture aot)
    {
        var (binary, _) = await aot.Arm64Async();
        return await BuildAsync("arm64", Path.GetDirectoryName(binary)!, Version);
    }

    private static Task<string> BuildAsync(string arch, string publishDir, string version) =>
        Built.GetOrAdd((arch, version), _ => new Lazy<Task<string>>(() => PackageAsync(arch, publishDir, version))).Value;

    private static async Task<string> PackageAsync(string arch, string publishDir, string version)
    {
        TestDependencies.Require(Peer.Packaging);
        var r = await Processes.RunAsync("bash", [Path.Combine(Repo.Root, "publish-profiles", "package.sh"), arch],
            TimeSpan.FromMinutes(3), Repo.Root,
            new Dictionary<string, string> { ["PUBLISH_DIR"] = publishDir, ["OUT_DIR"] = Output, ["VERSION"] = version });
        if (r.ExitCode != 0)
            throw new InvalidOperationException($"package.sh {arch} failed ({r.ExitCode}):\n{r.Out}{r.Err}");
        var deb = Path.Combine(Output, $"edgemeter_{version}_{arch}.deb");
        Assert.Equal(deb, r.Out.Trim().Split('\n')[^1]);
        return deb;
    }

    /// <summary>Unpacks the package's files (not its control part) into a fresh folder.</summary>
    public static async Task<string> ExtractAsync(string deb)
    {
        var dir = Directory.CreateTempSubdirectory("edgemeter-deb-x-").FullName;
        await RunOkAsync("dpkg-deb", ["-x", deb, dir]);
        return dir;
    }

    /// <summary>Runs a tool that must succeed; returns its standard output.</summary>
    public static async Task<string> RunOkAsync(string file, string[] args, TimeSpan? timeout = null, IDictionary<string, string>? env = null)
    {
        var r = await Processes.RunAsync(file, args, timeout ?? TimeSpan.FromMinutes(2), env: env);
        Assert.True(r.ExitCode == 0, $"{file} {string.Join(' ', args)} exited {r.ExitCode}:\n{r.Out}{r.Err}");
        return r.Out;
    }

    [GeneratedRegex("<Version>([^<]+)</Version>")]
    private static partial Regex VersionElement();
}
