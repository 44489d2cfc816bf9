using System.Diagnostics;
using System.Text;

namespace EdgeMeter.Interop.Tests.Support;

/// <summary>
/// Publishes the Native AOT <c>edgemeter</c> for linux-x64 once per test run and runs it as a process: AOT-only
/// failures (trimmed members, missing native libraries, reflection) do not show under the JIT.
/// </summary>
public sealed class AotBinaryFixture : IAsyncLifetime
{
    public string Binary { get; private set; } = "";

    public string PublishLog { get; private set; } = "";

    public async Task InitializeAsync()
    {
        var output = Path.Combine(Path.GetTempPath(), "edgemeter-aot-" + Environment.ProcessId);
        var result = await Processes.RunAsync("dotnet",
            ["publish", Path.Combine(Repo.Root, "src", "EdgeAgent"), "-p:PublishProfile=linux-x64", "-o", output, "-nologo"],
            TimeSpan.FromMinutes(8), Repo.Root);
        PublishLog = result.Out + result.Err;
        if (result.ExitCode != 0)
            throw new InvalidOperationException("AOT publish failed:\n" + PublishLog);
        Binary = Path.Combine(output, "edgemeter");
    }

    public Task DisposeAsync() => Task.CompletedTask;

    private Task<(string Binary, string Log)>? _arm64;

    /// <summary>
    /// The linux-arm64 binary, cross-compiled with the publish profile (clang and the Debian arm64 cross
    /// packages, installed by .ci/install-test-deps). Published on first use, inside this collection, so that
    /// it never runs at the same time as the x64 publish over the same obj folders.
    /// </summary>
    public Task<(string Binary, string Log)> Arm64Async() => _arm64 ??= PublishArm64Async();

    private static async Task<(string, string)> PublishArm64Async()
    {
        var output = Path.Combine(Path.GetTempPath(), "edgemeter-aot-arm64-" + Environment.ProcessId);
        var result = await Processes.RunAsync("dotnet",
            ["publish", Path.Combine(Repo.Root, "src", "EdgeAgent"), "-p:PublishProfile=linux-arm64", "-o", output, "-nologo"],
            TimeSpan.FromMinutes(10), Repo.Root);
        var log = result.Out + result.Err;
        if (result.ExitCode != 0)
            throw new InvalidOperationException("arm64 AOT publish failed (cross toolchain: .ci/install-test-deps):\n" + log);
        return (Path.Combine(output, "edgemeter"), log);
    }
}

[CollectionDefinition(Name)]
public sealed class AotCollection : ICollectionFixture<AotBinaryFixture>
{
    public const string Name = "AOT binary";
}

/// <summary>Locates the repository from the test's output folder.</summary>
public static class Repo
{
    public static string Root { get; } = Find();

    private static string Find() => Crypto.ProcessRunner.RepoRoot();
}

public sealed record ProcessResult(int ExitCode, string Out, string Err);

/// <summary>Runs a child process with a hard time limit, capturing its output.</summary>
public static class Processes
{
    public static async Task<ProcessResult> RunAsync(string file, IEnumerable<string> args, TimeSpan timeout, string? workingDirectory = null, IDictionary<string, string>? env = null)
    {
        var (code, stdout, stderr) = await Crypto.ProcessRunner.RunAsync(file, args, stdin: null, workingDirectory, env, timeout);
        return new ProcessResult(code, stdout, stderr);
    }

    public static Process Start(string file, IEnumerable<string> args, string? workingDirectory = null, IDictionary<string, string>? env = null, bool redirect = true)
    {
        var psi = new ProcessStartInfo(file)
        {
            RedirectStandardOutput = redirect,
            RedirectStandardError = redirect,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? Environment.CurrentDirectory,
        };
        foreach (var a in args)
            psi.ArgumentList.Add(a);
        if (env is not null)
        {
            foreach (var (k, v) in env)
                psi.Environment[k] = v;
        }
        return Process.Start(psi) ?? throw new InvalidOperationException("could not start " + file);
    }
}
