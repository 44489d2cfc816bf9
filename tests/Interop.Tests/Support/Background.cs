using System.Diagnostics;
using System.Text;

namespace EdgeMeter.Interop.Tests.Support;

/// <summary>A long-running child process whose output is drained (so it never blocks on a full pipe) and kept.</summary>
public sealed class Background : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();

    public Background(string file, IEnumerable<string> args)
    {
        _process = Processes.Start(file, args);
        _process.OutputDataReceived += (_, e) => Append(e.Data);
        _process.ErrorDataReceived += (_, e) => Append(e.Data);
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    public int Id => _process.Id;

    public bool HasExited => _process.HasExited;

    public string Output
    {
        get
        {
            lock (_output)
                return _output.ToString();
        }
    }

    private void Append(string? line)
    {
        if (line is null)
            return;
        lock (_output)
            _output.AppendLine(line);
    }

    /// <summary>SIGKILL: the process gets no chance to flush or say goodbye.</summary>
    public async Task KillHardAsync()
    {
        if (!_process.HasExited)
            _process.Kill();
        await _process.WaitForExitAsync();
    }

    /// <summary>SIGTERM and wait, as systemd stops a service.</summary>
    public async Task<int> StopAsync(TimeSpan timeout)
    {
        if (!_process.HasExited)
            await Processes.RunAsync("kill", ["-TERM", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)], TimeSpan.FromSeconds(5));
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            _process.Kill();
            await _process.WaitForExitAsync();
            throw new TimeoutException("process did not stop on SIGTERM:\n" + Output);
        }
        return _process.ExitCode;
    }

    public async Task<int> WaitAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        await _process.WaitForExitAsync(cts.Token);
        return _process.ExitCode;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
            await KillHardAsync();
        _process.Dispose();
    }
}
