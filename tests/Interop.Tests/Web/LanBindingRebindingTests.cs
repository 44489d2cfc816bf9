using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using System.Text.Json;
using EdgeMeter.Agent.Pairing;
using EdgeMeter.Agent.Status;
using EdgeMeter.Agent.Web;
using EdgeMeter.Crypto.Records;
using EdgeMeter.Interop.Tests.Support;
using Microsoft.Extensions.Logging.Abstractions;
using Xunit;

namespace EdgeMeter.Interop.Tests.Web;

/// <summary>
/// The page bound to the LAN as the example configuration binds it (<c>http://0.0.0.0:PORT</c>, HttpListener's
/// <c>+</c>, which accepts any Host): only the gateway's own addresses and names are served, so a page whose name an
/// attacker re-points at the gateway (DNS rebinding) gets our refusal, not the page and not the API.
/// </summary>
public sealed class LanBindingRebindingTests : IAsyncLifetime
{
    private readonly string _dir = Directory.CreateTempSubdirectory("edgemeter-lan-").FullName;
    private readonly string _hostName = Dns.GetHostName();
    private FilePairingService _pairing = null!;
    private WebServer _server = null!;

    private sealed class Source : IAgentStatusSource
    {
        public AgentStatus Current { get; } = new()
        {
            DeviceAddress = "0x90f8bf6a479f320ead074411a4b0e7944ea8c9c1",
            Version = "0.1.0",
            Timestamp = DateTimeOffset.UtcNow,
            TimeStatus = TimeStatus.Synchronised,
            Meters = [new MeterStatus { MeterId = "grid", Source = EnergySource.GridImport, Clean = false, Online = true, ActivePowerW = 1000m }],
            UplinkConnected = false,
            Counters = new PipelineCounters(1, 1, 1, 1, 1, 0),
            Pairing = new PairingStatus(false, null, null, null),
        };
    }

    public async Task InitializeAsync()
    {
        _pairing = new FilePairingService(_dir, TimeProvider.System, NullLogger<FilePairingService>.Instance);
        _server = new WebServer(new Uri("http://0.0.0.0:0"), new Source(), _pairing, NullLogger<WebServer>.Instance, null,
            new WebServerOptions { AllowedHosts = () => ["edgemeter.home.arpa"] });
        await _server.StartAsync(CancellationToken.None);
    }

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        Directory.Delete(_dir, recursive: true);
    }

    private int Port => _server.BoundUrl.Port;

    private async Task<(HttpStatusCode Status, string Body, HttpResponseMessage Response)> GetAsync(string host, string path = "/", string address = "127.0.0.1")
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        using var request = new HttpRequestMessage(HttpMethod.Get, $"http://{address}:{Port}{path}");
        request.Headers.Host = host;
        var response = await http.SendAsync(request);
        return (response.StatusCode, await response.Content.ReadAsStringAsync(), response);
    }

    [Theory]
    [InlineData("attacker.example:{port}")]
    [InlineData("rebind.attacker.example:{port}")]
    [InlineData("rebind.attacker.example")]
    [InlineData("{host}.attacker.example:{port}")]
    [InlineData("{host}.local.attacker.example:{port}")]
    public async Task A_lan_binding_refuses_a_foreign_host_with_our_reason(string host)
    {
        var (status, body, response) = await GetAsync(host.Replace("{port}", Port.ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal)
            .Replace("{host}", _hostName, StringComparison.Ordinal), "/api/pair");

        // Our check, not HttpListener's: its refusal would be a 400/404 without our JSON and our headers.
        Assert.Equal(HttpStatusCode.Forbidden, status);
        Assert.Equal("host_not_allowed", JsonDocument.Parse(body).RootElement.GetProperty("result").GetString());
        Assert.Equal("nosniff", response.Headers.GetValues("X-Content-Type-Options").Single());
        Assert.DoesNotContain("<html", body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_lan_binding_serves_the_gateways_own_names_and_addresses()
    {
        var port = Port.ToString(System.Globalization.CultureInfo.InvariantCulture);
        foreach (var host in new[] { $"{_hostName}:{port}", $"{_hostName}.local:{port}", $"{_hostName.ToUpperInvariant()}.LOCAL:{port}", $"127.0.0.1:{port}", $"localhost:{port}", $"edgemeter.home.arpa:{port}" })
        {
            var (status, body, _) = await GetAsync(host);
            Assert.True(status == HttpStatusCode.OK, $"{host}: {status} {body}");
            Assert.Contains("<form id=\"pair-form\"", body, StringComparison.Ordinal);
        }

        // Reached over a real interface address, by that address: the binding is on the LAN, not on loopback only.
        var lan = LanAddress();
        var (viaLan, _, _) = await GetAsync($"{lan}:{port}", address: lan.ToString());
        Assert.Equal(HttpStatusCode.OK, viaLan);
        var (foreignViaLan, foreignBody, _) = await GetAsync($"attacker.example:{port}", address: lan.ToString());
        Assert.Equal(HttpStatusCode.Forbidden, foreignViaLan);
        Assert.Contains("host_not_allowed", foreignBody, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_paired_gateway_on_the_lan_refuses_to_open_pairing_to_a_request_from_the_lan()
    {
        var lan = LanAddress();
        var port = Port.ToString(System.Globalization.CultureInfo.InvariantCulture);
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        var code = _pairing.CodeForDisplay()!.Code;
        using var paired = await http.PostAsync($"http://{lan}:{port}/api/pair",
            new StringContent($$"""{"code":"{{code}}","operatorAddress":"0x1111111111111111111111111111111111111111","label":"flat 3"}""", System.Text.Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.OK, paired.StatusCode);

        // Another device on the LAN, without the owner's session: no new code, whatever it sends.
        using var stranger = new HttpClient(new HttpClientHandler { UseCookies = false }) { Timeout = TimeSpan.FromSeconds(10) };
        using var request = new HttpRequestMessage(HttpMethod.Post, $"http://{lan}:{port}/api/pair/code")
        {
            Content = new StringContent("{}", System.Text.Encoding.UTF8, "application/json"),
        };
        request.Headers.Add("Origin", $"http://{lan}:{port}");
        using var refused = await stranger.SendAsync(request);

        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        Assert.Equal("presence_required", JsonDocument.Parse(await refused.Content.ReadAsStringAsync()).RootElement.GetProperty("result").GetString());
        Assert.Null(_pairing.CodeForDisplay());
        Assert.Equal("0x1111111111111111111111111111111111111111", _pairing.GetState().OperatorAddress, ignoreCase: true);
    }

    private static IPAddress LanAddress()
    {
        var lan = NetworkInterface.GetAllNetworkInterfaces()
            .Where(n => n.OperationalStatus == OperationalStatus.Up && n.NetworkInterfaceType != NetworkInterfaceType.Loopback)
            .SelectMany(n => n.GetIPProperties().UnicastAddresses)
            .Select(a => a.Address)
            .FirstOrDefault(a => a.AddressFamily == AddressFamily.InterNetwork && !IPAddress.IsLoopback(a));
        Assert.True(lan is not null, "this machine has no IPv4 interface address besides loopback");
        return lan!;
    }

    [Fact]
    public async Task Chromium_rebound_to_the_gateway_by_a_foreign_name_gets_no_page_and_no_api()
    {
        TestDependencies.Require(Peer.NodePackages);
        TestDependencies.Require(Peer.Chromium);
        var js = Path.Combine(Repo.Root, "tests", "interop-js");
        var run = await Processes.RunAsync("node", [Path.Combine(js, "web-rebind.mjs"), Port.ToString(System.Globalization.CultureInfo.InvariantCulture), _hostName],
            TimeSpan.FromSeconds(120), js);
        Assert.True(run.ExitCode == 0, run.Out + run.Err);
        using var doc = JsonDocument.Parse(run.Out);
        var page = doc.RootElement;

        var direct = page.GetProperty("direct");
        Assert.Equal(403, direct.GetProperty("status").GetInt32());
        Assert.Contains("\"result\":\"host_not_allowed\"", direct.GetProperty("body").GetString(), StringComparison.Ordinal);
        Assert.False(direct.GetProperty("pairForm").GetBoolean());
        var api = page.GetProperty("api").EnumerateArray().ToList();
        Assert.Equal(4, api.Count);
        foreach (var call in api)
        {
            Assert.True(call.GetProperty("status").GetInt32() == 403, call.ToString());
            Assert.Contains("host_not_allowed", call.GetProperty("body").GetString(), StringComparison.Ordinal);
        }

        // The same browser on the gateway's own mDNS name and address gets the page.
        Assert.Equal(200, page.GetProperty("mdns").GetProperty("status").GetInt32());
        Assert.Equal("Not paired", page.GetProperty("mdns").GetProperty("pairState").GetString());
        Assert.Equal(200, page.GetProperty("address").GetProperty("status").GetInt32());
        Assert.Null(_pairing.GetState().OperatorAddress);
    }
}
