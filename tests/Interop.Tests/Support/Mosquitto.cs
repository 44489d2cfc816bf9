using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace EdgeMeter.Interop.Tests.Support;

/// <summary>
/// A real mosquitto (Debian package) on a loopback port, with a password file, a TLS listener on a test CA and
/// on-disk persistence, so that queued QoS 1 messages survive a restart as they would in production.
/// </summary>
public sealed class Mosquitto : IAsyncDisposable
{
    public const string User = "gateway";
    public const string Password = "s3cret-pass";

    private readonly string _config;
    private Process? _process;

    private Mosquitto(string dir, int tlsPort, int plainPort, int mtlsPort, TestCertificates certs)
    {
        MtlsPort = mtlsPort;
        Directory = dir;
        TlsPort = tlsPort;
        PlainPort = plainPort;
        Certificates = certs;
        _config = Path.Combine(dir, "mosquitto.conf");
    }

    public static string? Binary { get; } = new[] { "/usr/sbin/mosquitto", "/usr/bin/mosquitto" }.FirstOrDefault(File.Exists);

    public string Directory { get; }
    public int TlsPort { get; }
    public int PlainPort { get; }

    /// <summary>A TLS listener that also demands a client certificate from the test CA.</summary>
    public int MtlsPort { get; }

    public string MtlsUrl => $"mqtts://127.0.0.1:{MtlsPort}";
    public TestCertificates Certificates { get; }
    public string TlsUrl => $"mqtts://127.0.0.1:{TlsPort}";
    public string PlainUrl => $"mqtt://127.0.0.1:{PlainPort}";

    /// <summary>The agent/ledger arguments for the TLS listener.</summary>
    public string[] TlsArgs => ["--broker", TlsUrl, "--ca", Certificates.CaCert, "--username", User, "--password", Password];

    public static async Task<Mosquitto> StartAsync(string dir)
    {
        TestDependencies.Require(Peer.Mosquitto);
        System.IO.Directory.CreateDirectory(dir);
        var certs = TestCertificates.Create(Path.Combine(dir, "certs"));
        var m = new Mosquitto(dir, FreePort(), FreePort(), FreePort(), certs);
        var passwd = Path.Combine(dir, "passwd");
        File.WriteAllText(passwd, "");
        var pw = await Processes.RunAsync("mosquitto_passwd", ["-b", passwd, User, Password], TimeSpan.FromSeconds(20));
        if (pw.ExitCode != 0)
            throw new InvalidOperationException("mosquitto_passwd failed: " + pw.Err);
        // As root, mosquitto drops to the "mosquitto" user, which cannot read a private temp folder: stay as we are.
        var user = Environment.UserName == "root" ? "user root" : "";
        File.WriteAllText(m._config, $"""
            {user}
            per_listener_settings false
            allow_anonymous false
            password_file {passwd}
            persistence true
            persistence_location {dir}/
            autosave_interval 1
            max_queued_messages 100000
            max_inflight_messages 100
            log_dest stderr
            log_type error
            log_type warning
            listener {m.TlsPort} 127.0.0.1
            cafile {certs.CaCert}
            certfile {certs.ServerCert}
            keyfile {certs.ServerKey}
            listener {m.PlainPort} 127.0.0.1
            listener {m.MtlsPort} 127.0.0.1
            cafile {certs.CaCert}
            certfile {certs.ServerCert}
            keyfile {certs.ServerKey}
            require_certificate true
            """);
        await m.StartProcessAsync();
        return m;
    }

    public async Task RestartAsync()
    {
        await StopAsync();
        await StartProcessAsync();
    }

    private async Task StartProcessAsync()
    {
        _process = Processes.Start(Binary!, ["-c", _config], redirect: false);
        var deadline = DateTime.UtcNow.AddSeconds(15);
        while (DateTime.UtcNow < deadline)
        {
            if (_process.HasExited)
                throw new InvalidOperationException($"mosquitto exited with {_process.ExitCode}");
            if (await CanConnect(TlsPort) && await CanConnect(PlainPort) && await CanConnect(MtlsPort))
                return;
            await Task.Delay(50);
        }
        throw new TimeoutException("mosquitto did not start listening");
    }

    public async Task StopAsync()
    {
        if (_process is { HasExited: false })
        {
            // SIGTERM: mosquitto saves its persistence file on the way out, as on a service restart.
            await Processes.RunAsync("kill", ["-TERM", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)], TimeSpan.FromSeconds(5));
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            await _process.WaitForExitAsync(cts.Token);
        }
        _process?.Dispose();
        _process = null;
    }

    private static async Task<bool> CanConnect(int port)
    {
        using var client = new TcpClient();
        try
        {
            await client.ConnectAsync(IPAddress.Loopback, port);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    private static int FreePort()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        return ((IPEndPoint)probe.LocalEndpoint).Port;
    }

    public async ValueTask DisposeAsync() => await StopAsync();
}
