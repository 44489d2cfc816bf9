using System.Diagnostics;
using System.Text;

namespace EdgeMeter.Interop.Tests.Modbus;

/// <summary>Runs a process with a time bound and collects its output.</summary>
internal static class ProcessRunner
{
    public static async Task<(int ExitCode, string Stdout, string Stderr)> RunAsync(string file, IEnumerable<string> args, TimeSpan bound)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string a in args)
        {
            psi.ArgumentList.Add(a);
        }

        using var p = Process.Start(psi) ?? throw new InvalidOperationException($"cannot start {file}");
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(bound);
        try
        {
            await p.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            p.Kill(entireProcessTree: true);
            throw new TimeoutException($"{file} {string.Join(' ', args)} did not finish within {bound}");
        }

        return (p.ExitCode, await stdout, await stderr);
    }
}

/// <summary>The real <c>edgemeter</c> CLI (the referenced EdgeAgent build next to the tests), run as a child process.</summary>
internal static class EdgemeterCli
{
    public static Task<(int ExitCode, string Stdout, string Stderr)> RunAsync(params string[] args) =>
        ProcessRunner.RunAsync("dotnet", [Path.Combine(AppContext.BaseDirectory, "edgemeter.dll"), .. args], TimeSpan.FromSeconds(60));
}

/// <summary>
/// The libmodbus slave from peers/modbus_server.c, compiled once per test run with gcc -lmodbus into a temp dir,
/// serving a register layout the test writes.
/// </summary>
internal sealed class LibmodbusServer : IAsyncDisposable
{
    private static readonly Lazy<Task<string>> Binary = new(CompileAsync);
    private readonly Process _process;
    private readonly string _dir;

    private LibmodbusServer(Process process, string dir, int port)
    {
        _process = process;
        _dir = dir;
        Port = port;
    }

    /// <summary>TCP port (TCP mode).</summary>
    public int Port { get; }

    /// <summary>Starts a Modbus TCP server on 127.0.0.1 and a free port.</summary>
    public static Task<LibmodbusServer> StartTcpAsync(string layout) => StartAsync(layout, "tcp", []);

    /// <summary>Starts an RTU server (8N1) on a serial device such as one end of a socat pty pair.</summary>
    public static Task<LibmodbusServer> StartRtuAsync(string layout, string device, int baud) =>
        StartAsync(layout, "rtu", [device, baud.ToString(System.Globalization.CultureInfo.InvariantCulture)]);

    private static async Task<LibmodbusServer> StartAsync(string layout, string mode, string[] extra)
    {
        string binary = await Binary.Value;
        string dir = Directory.CreateTempSubdirectory("edgemeter-mbsrv-").FullName;
        string layoutFile = Path.Combine(dir, "layout.txt");
        await File.WriteAllTextAsync(layoutFile, layout);
        var psi = new ProcessStartInfo(binary) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add(mode);
        psi.ArgumentList.Add(layoutFile);
        foreach (string a in extra)
        {
            psi.ArgumentList.Add(a);
        }

        var process = Process.Start(psi)!;
        _ = process.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        string? line = await process.StandardOutput.ReadLineAsync(cts.Token);
        int port = 0;
        if (line is null || !(line == "READY" || (line.StartsWith("PORT ", StringComparison.Ordinal) && int.TryParse(line.AsSpan(5), out port))))
        {
            process.Kill();
            throw new InvalidOperationException($"libmodbus server did not start: '{line}'");
        }

        return new LibmodbusServer(process, dir, port);
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
        Directory.Delete(_dir, recursive: true);
    }

    private static async Task<string> CompileAsync()
    {
        TestDependencies.Require(Peer.Libmodbus);
        string source = FindPeer("modbus_server.c");
        string dir = Directory.CreateTempSubdirectory("edgemeter-peers-").FullName;
        string output = Path.Combine(dir, "modbus_server");
        var (code, _, err) = await ProcessRunner.RunAsync("gcc",
            ["-O1", "-Wall", "-I/usr/include/modbus", "-o", output, source, "-lmodbus"], TimeSpan.FromSeconds(120));
        if (code != 0)
        {
            throw new InvalidOperationException($"gcc failed for {source} (is libmodbus-dev installed?): {err}");
        }

        return output;
    }

    private static string FindPeer(string name)
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            string candidate = Path.Combine(dir.FullName, "tests", "Interop.Tests", "peers", name);
            if (File.Exists(candidate))
            {
                return candidate;
            }

            candidate = Path.Combine(dir.FullName, "peers", name);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        throw new FileNotFoundException($"peer source {name} not found above {AppContext.BaseDirectory}");
    }
}

/// <summary>Two linked pseudo-terminals from socat: a null-modem cable in software.</summary>
internal sealed class SocatPtyPair : IAsyncDisposable
{
    private readonly Process _process;
    private readonly string _dir;

    private SocatPtyPair(Process process, string dir)
    {
        _process = process;
        _dir = dir;
        MasterEnd = Path.Combine(dir, "master");
        SlaveEnd = Path.Combine(dir, "slave");
    }

    public string MasterEnd { get; }

    public string SlaveEnd { get; }

    public static async Task<SocatPtyPair> StartAsync()
    {
        TestDependencies.Require(Peer.Socat);
        string dir = Directory.CreateTempSubdirectory("edgemeter-pty-").FullName;
        var psi = new ProcessStartInfo("socat") { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        psi.ArgumentList.Add("-d");
        psi.ArgumentList.Add("-d");
        psi.ArgumentList.Add($"pty,raw,echo=0,link={Path.Combine(dir, "master")}");
        psi.ArgumentList.Add($"pty,raw,echo=0,link={Path.Combine(dir, "slave")}");
        var process = Process.Start(psi)!;
        var stderr = new StringBuilder();
        process.ErrorDataReceived += (_, e) => { lock (stderr) { stderr.AppendLine(e.Data); } };
        process.BeginErrorReadLine();
        var pair = new SocatPtyPair(process, dir);
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        while (!(File.Exists(pair.MasterEnd) && File.Exists(pair.SlaveEnd)))
        {
            if (process.HasExited || cts.IsCancellationRequested)
            {
                await pair.DisposeAsync();
                lock (stderr)
                {
                    throw new InvalidOperationException($"socat did not create the pty pair: {stderr}");
                }
            }

            await Task.Delay(20, CancellationToken.None);
        }

        return pair;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
        Directory.Delete(_dir, recursive: true);
    }
}
