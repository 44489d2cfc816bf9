using System.Diagnostics;
using EdgeMeter.Interop.Tests.Support;

namespace EdgeMeter.Interop.Tests.Dlms;

/// <summary>
/// peers/dlms_replay_server.mjs on 127.0.0.1 and a free port: it answers each request with the APDU the Gurux server
/// sent to the same request in the recorded sessions (tests/Protocols.Tests/Dlms/vectors), framed by its own
/// JavaScript wrapper or HDLC code.
/// </summary>
internal sealed class DlmsReplayPeer : IAsyncDisposable
{
    private readonly Process _process;
    private readonly Task<string> _stderr;

    private DlmsReplayPeer(Process process, int port)
    {
        _process = process;
        Port = port;
        _stderr = process.StandardError.ReadToEndAsync();
    }

    public static string VectorDirectory { get; } = Path.Combine(Repo.Root, "tests", "Protocols.Tests", "Dlms", "vectors");

    public int Port { get; }

    public static async Task<DlmsReplayPeer> StartAsync(string framing)
    {
        var psi = new ProcessStartInfo("node")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        psi.ArgumentList.Add(Path.Combine(Repo.Root, "tests", "Interop.Tests", "peers", "dlms_replay_server.mjs"));
        psi.ArgumentList.Add(framing);
        psi.ArgumentList.Add(VectorDirectory);
        var process = Process.Start(psi) ?? throw new InvalidOperationException("cannot start node");
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        string? line = await process.StandardOutput.ReadLineAsync(cts.Token);
        string[] parts = line?.Split(' ') ?? [];
        if (parts.Length < 2 || parts[0] != "PORT" || !int.TryParse(parts[1], out int port))
        {
            process.Kill();
            throw new InvalidOperationException($"the replay peer did not start: {line} {await process.StandardError.ReadToEndAsync(CancellationToken.None)}");
        }

        return new DlmsReplayPeer(process, port);
    }

    /// <summary>What the peer reported (requests it had no recording for).</summary>
    public async Task<string> StopAsync()
    {
        if (!_process.HasExited)
        {
            _process.StandardInput.Close();
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            try
            {
                await _process.WaitForExitAsync(cts.Token);
            }
            catch (OperationCanceledException)
            {
                _process.Kill();
            }
        }

        return await _stderr;
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        _process.Dispose();
    }
}
