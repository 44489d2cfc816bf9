using System.Diagnostics;
using System.Text.RegularExpressions;
using EdgeMeter.Agent.Pairing;
using EdgeMeter.Agent.Status;
using EdgeMeter.Agent.Web;
using EdgeMeter.Crypto.Records;
using EdgeMeter.Economics;
using Microsoft.Extensions.Logging.Abstractions;
using Xunit;

namespace EdgeMeter.Interop.Tests.Web;

/// <summary>Loads the gateway page from the real server in headless Chromium and checks what the script rendered.</summary>
public sealed partial class HeadlessChromiumPageTests : IAsyncLifetime
{
    private static readonly DateTimeOffset At = new(2025, 6, 14, 9, 30, 0, TimeSpan.Zero);
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "edgemeter-chromium-" + Guid.NewGuid().ToString("N"));
    private FilePairingService _pairing = null!;
    private WebServer _server = null!;

    private sealed class Source(AgentStatus current) : IAgentStatusSource
    {
        public AgentStatus Current { get; } = current;
    }

    private static AgentStatus Status() => new()
    {
        DeviceAddress = "0x90f8bf6a479f320ead074411a4b0e7944ea8c9c1",
        Version = "0.1.0",
        Timestamp = At,
        TimeStatus = TimeStatus.Synchronised,
        Meters =
        [
            new MeterStatus { MeterId = "grid", Source = EnergySource.GridImport, Clean = false, Online = true, ActivePowerW = 2340m, EnergyKwh = 10234.5m },
            new MeterStatus { MeterId = "pv-roof", Source = EnergySource.Pv, Clean = true, Online = false, ActivePowerW = 1200m, EnergyKwh = 3120.25m },
        ],
        Counters = new PipelineCounters(200, 200, 199, 180, 150, 19),
        UplinkConnected = false,
        ConfirmedBalance = 1234.5m,
        Provisional = new ProvisionalTokens
        {
            Month = "2025-06", CleanShare = 0.64m, FDemand = 0.82m, FSupply = 1.1m, CongestionFactor = 0.95m,
            CarbonTokens = 9, CongestionTokens = 3, TotalTokens = 12,
        },
        Pairing = new PairingStatus(false, null, null, null),
    };

    private bool _publicSummary;

    public async Task InitializeAsync()
    {
        _pairing = new FilePairingService(_dir, TimeProvider.System, NullLogger<FilePairingService>.Instance);
        _server = new WebServer(new Uri("http://127.0.0.1:0"), new Source(Status()), _pairing, NullLogger<WebServer>.Instance, null,
            new WebServerOptions { PublicSummary = () => _publicSummary });
        await _server.StartAsync(CancellationToken.None);
    }

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        Directory.Delete(_dir, recursive: true);
    }

    [Fact]
    public async Task Without_a_session_the_page_shows_only_pairing_and_never_the_code()
    {
        var code = _pairing.CodeForDisplay()!.Code;

        var dom = await RunChromiumAsync("--dump-dom", _server.BoundUrl.ToString());

        Assert.Equal("Not paired", Text(dom, "pair-state"));
        Assert.Equal("Enter the 6-digit code shown on the gateway display.", Text(dom, "pair-hint"));
        Assert.Matches("<form id=\"pair-form\" autocomplete=\"off\">", dom);
        Assert.Contains("<div id=\"dashboard\" class=\"grid wide\" hidden=\"\">", dom, StringComparison.Ordinal);
        Assert.Contains("<div id=\"owner-area\" class=\"grid wide\" hidden=\"\">", dom, StringComparison.Ordinal);
        Assert.Equal("\u2014", Text(dom, "balance"));
        Assert.DoesNotContain(code, dom, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Public_summary_renders_power_balance_and_estimate_read_only_in_chinese()
    {
        _publicSummary = true;

        var dom = await RunChromiumAsync("--lang=zh-CN", "--accept-lang=zh-CN,zh", "--dump-dom", _server.BoundUrl.ToString());

        Assert.Contains("<html lang=\"zh-CN\">", dom, StringComparison.Ordinal);
        Assert.Equal("1,234.5 代币", Text(dom, "balance"));
        Assert.Equal("+12 代币", Text(dom, "prov-total"));
        Assert.Equal("2025-06 月份", Text(dom, "prov-month"));
        Assert.Equal("64 %", Text(dom, "clean-month"));
        Assert.Equal("\u2014", Text(dom, "f-demand")); // the factors are the owner's
        Assert.Contains("<div class=\"kw\" data-source=\"gridImport\">2.34 kW</div>", dom, StringComparison.Ordinal);
        Assert.Contains("电网：购电中", dom, StringComparison.Ordinal);
        Assert.Contains("<div id=\"dashboard\" class=\"grid wide\">", dom, StringComparison.Ordinal);
        Assert.Contains("<div id=\"owner-area\" class=\"grid wide\" hidden=\"\">", dom, StringComparison.Ordinal);
        Assert.Contains("<section class=\"card wide\" id=\"owner-only-health\" aria-labelledby=\"h-health\" hidden=\"\">", dom, StringComparison.Ordinal);
        Assert.DoesNotContain("0x90f8bf6a479f320ead074411a4b0e7944ea8c9c1", dom, StringComparison.Ordinal);
    }

    private static string Text(string dom, string id)
    {
        var m = Regex.Match(dom, $"id=\"{Regex.Escape(id)}\"[^>]*>([^<]*)<");
        Assert.True(m.Success, $"element #{id} not in the DOM");
        return System.Net.WebUtility.HtmlDecode(m.Groups[1].Value);
    }

    private static async Task<string> RunChromiumAsync(params string[] args)
    {
        TestDependencies.Require(Peer.Chromium);
        var profile = Directory.CreateTempSubdirectory("edgemeter-chromium-profile-");
        try
        {
            var psi = new ProcessStartInfo("/usr/bin/chromium")
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            foreach (var a in new[]
            {
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                $"--user-data-dir={profile.FullName}", "--virtual-time-budget=5000",
            })
            {
                psi.ArgumentList.Add(a);
            }

            foreach (var a in args)
            {
                psi.ArgumentList.Add(a);
            }

            using var process = Process.Start(psi)!;
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(90));
            try
            {
                await process.WaitForExitAsync(timeout.Token);
            }
            catch (OperationCanceledException)
            {
                process.Kill(entireProcessTree: true);
                throw new TimeoutException("chromium did not finish within 90 s: " + await stderr);
            }

            Assert.True(process.ExitCode == 0, $"chromium exited with {process.ExitCode}: {await stderr}");
            return await stdout;
        }
        finally
        {
            profile.Delete(recursive: true);
        }
    }
}
