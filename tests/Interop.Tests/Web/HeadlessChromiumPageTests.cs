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

    public async Task InitializeAsync()
    {
        _pairing = new FilePairingService(_dir, TimeProvider.System, NullLogger<FilePairingService>.Instance);
        _server = new WebServer(new Uri("http://127.0.0.1:0"), new Source(Status()), _pairing, NullLogger<WebServer>.Instance);
        await _server.StartAsync(CancellationToken.None);
    }

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        Directory.Delete(_dir, recursive: true);
    }

    [Fact]
    public async Task Page_renders_confirmed_and_provisional_tokens_meters_and_pairing_after_the_script_ran()
    {
        var code = _pairing.CodeForDisplay()!.Code;

        var dom = await RunChromiumAsync("--dump-dom", _server.BoundUrl.ToString());

        Assert.Equal("1,234.5 tok", Text(dom, "balance"));
        Assert.Equal("+12 tok", Text(dom, "prov-total"));
        Assert.Equal("Month 2025-06", Text(dom, "prov-month"));
        Assert.Equal("64 %", Text(dom, "f-clean"));
        Assert.Equal("0.82", Text(dom, "f-demand"));
        Assert.Equal("1.10", Text(dom, "f-supply"));
        Assert.Equal("Uplink down", Text(dom, "uplink"));
        Assert.Equal("0x90f8bf6a479f320ead074411a4b0e7944ea8c9c1", Text(dom, "device"));
        Assert.Equal("Not paired", Text(dom, "pair-state"));
        Assert.Equal("19", Text(dom, "c-out"));
        Assert.Contains("<div class=\"kw\">2.34 kW</div>", dom, StringComparison.Ordinal);
        Assert.Contains("<div class=\"kw off\">offline</div>", dom, StringComparison.Ordinal);
        Assert.StartsWith("Updated ", Text(dom, "updated"), StringComparison.Ordinal);
        Assert.Matches("<form id=\"pair-form\" autocomplete=\"off\">", dom);
        Assert.Contains("<dl id=\"pair-details\" hidden=\"\">", dom, StringComparison.Ordinal);
        Assert.DoesNotContain(code, dom, StringComparison.Ordinal);

        var shot = Environment.GetEnvironmentVariable("EDGEMETER_SCREENSHOT");
        if (!string.IsNullOrEmpty(shot))
        {
            await RunChromiumAsync($"--screenshot={shot}", Environment.GetEnvironmentVariable("EDGEMETER_SCREENSHOT_SIZE") ?? "--window-size=412,900", _server.BoundUrl.ToString());
        }
    }

    [Fact]
    public async Task Paired_gateway_shows_operator_and_label_and_hides_the_form()
    {
        var outcome = _pairing.TryPair(_pairing.CodeForDisplay()!.Code, "0xABCDEF0123456789abcdef0123456789abcdef01", "<b>Sunny</b> Street");
        Assert.Equal(PairingResult.Paired, outcome.Result);

        var dom = await RunChromiumAsync("--dump-dom", _server.BoundUrl.ToString());

        // The label is user input: it must arrive as text, never as markup.
        Assert.Equal("Paired with <b>Sunny</b> Street", Text(dom, "pair-state"));
        Assert.DoesNotContain("<b>Sunny</b>", dom, StringComparison.Ordinal);
        Assert.Equal("0xabcdef0123456789abcdef0123456789abcdef01", Text(dom, "op-addr"));
        Assert.Contains("<form id=\"pair-form\" hidden=\"\"", dom, StringComparison.Ordinal);
        Assert.Contains("<button id=\"repair\" class=\"link\" type=\"button\">", dom, StringComparison.Ordinal);
        Assert.Contains("<dl id=\"pair-details\">", dom, StringComparison.Ordinal);
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
