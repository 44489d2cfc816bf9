using System.Net;
using System.Text;
using System.Text.Json;
using EdgeMeter.Agent.Pairing;
using EdgeMeter.Agent.Tests.Pairing;
using EdgeMeter.Agent.Web;
using Microsoft.Extensions.Logging.Abstractions;
using Xunit;

namespace EdgeMeter.Agent.Tests.Web;

/// <summary>The owner session: the cookie, CSRF, 401/403 on every setup route, logout, re-pairing, host rules.</summary>
public sealed class OwnerSessionTests : IAsyncLifetime
{
    private const string Operator = "0x1111111111111111111111111111111111111111";

    private readonly string _dir = Path.Combine(Path.GetTempPath(), "edgemeter-session-" + Guid.NewGuid().ToString("N"));
    private readonly ManualTimeProvider _time = new(TestStatus.At);
    private readonly FakeStatusSource _status = new(TestStatus.Household());
    private bool _publicSummary;
    private FilePairingService _pairing = null!;
    private WebServer _server = null!;

    public async Task InitializeAsync()
    {
        _pairing = new FilePairingService(_dir, _time, NullLogger<FilePairingService>.Instance);
        _server = new WebServer(new Uri("http://127.0.0.1:0"), _status, _pairing, NullLogger<WebServer>.Instance, _time,
            new WebServerOptions { SessionLifetime = TimeSpan.FromHours(2), PublicSummary = () => _publicSummary, HostName = "gw-test" });
        await _server.StartAsync(CancellationToken.None);
    }

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        Directory.Delete(_dir, recursive: true);
    }

    /// <summary>A browser-like client: its own cookie jar.</summary>
    private HttpClient Browser() => new(new HttpClientHandler { UseCookies = true, CookieContainer = new CookieContainer() })
    {
        BaseAddress = _server.BoundUrl,
        Timeout = TimeSpan.FromSeconds(10),
    };

    private static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    private static string PairBody(string code) =>
        JsonSerializer.Serialize(new Dictionary<string, string> { ["code"] = code, ["operatorAddress"] = Operator, ["label"] = "home" });

    /// <summary>Pairs with the live code; returns the CSRF token and sets it on the client.</summary>
    private async Task<string> PairAsync(HttpClient browser)
    {
        using var response = await browser.PostAsync("/api/pair", Json(PairBody(_pairing.CodeForDisplay()!.Code)));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var doc = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var csrf = doc.RootElement.GetProperty("csrf").GetString()!;
        browser.DefaultRequestHeaders.Remove(WebServer.CsrfHeader);
        browser.DefaultRequestHeaders.Add(WebServer.CsrfHeader, csrf);
        return csrf;
    }

    private static async Task<string> ResultOf(HttpResponseMessage response)
    {
        using var doc = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return doc.RootElement.GetProperty("result").GetString()!;
    }

    [Fact]
    public async Task Pairing_sets_an_http_only_same_site_strict_cookie_with_a_bounded_life()
    {
        using var raw = new HttpClient(new HttpClientHandler { UseCookies = false }) { BaseAddress = _server.BoundUrl };

        using var response = await raw.PostAsync("/api/pair", Json(PairBody(_pairing.CodeForDisplay()!.Code)));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var cookie = Assert.Single(response.Headers.GetValues("Set-Cookie"));
        Assert.Matches("^em_session=[A-Za-z0-9_-]{43}; Path=/; Max-Age=7200; HttpOnly; SameSite=Strict$", cookie);
        var token = cookie["em_session=".Length..cookie.IndexOf(';')];
        Assert.DoesNotContain(token, await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(1, _server.Sessions.Count);
    }

    [Fact]
    public async Task Without_a_session_every_setup_api_and_the_dashboard_answer_401()
    {
        using var browser = Browser();
        var routes = WebServer.SetupRoutes.Concat([("GET", "/api/status"), ("GET", "/api/session"), ("POST", "/api/logout")]).ToList();
        Assert.Equal(13, routes.Count);

        foreach (var (method, path) in routes)
        {
            using var request = new HttpRequestMessage(new HttpMethod(method), path);
            if (method == "POST")
            {
                request.Content = Json("{}");
            }

            using var response = await browser.SendAsync(request);
            Assert.True(response.StatusCode == HttpStatusCode.Unauthorized, $"{method} {path}: {response.StatusCode}");
            Assert.Equal("login_required", await ResultOf(response));
        }
    }

    [Fact]
    public async Task With_a_session_but_without_the_csrf_token_every_state_changing_api_answers_403()
    {
        using var browser = Browser();
        var csrf = await PairAsync(browser);
        browser.DefaultRequestHeaders.Remove(WebServer.CsrfHeader);
        var posts = WebServer.SetupRoutes.Where(r => r.Method == "POST").Select(r => r.Path).Append("/api/logout").ToList();

        foreach (var path in posts)
        {
            foreach (var header in new[] { null, "", csrf[..^1] + (csrf[^1] == 'A' ? 'B' : 'A') })
            {
                using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = Json("{}") };
                if (header is not null)
                {
                    request.Headers.Add(WebServer.CsrfHeader, header);
                }

                using var response = await browser.SendAsync(request);
                Assert.True(response.StatusCode == HttpStatusCode.Forbidden, $"POST {path} with '{header}': {response.StatusCode}");
                Assert.Equal("csrf", await ResultOf(response));
            }
        }

        // The session itself still works: the right token passes the check (no setup service here: 503).
        using var right = new HttpRequestMessage(HttpMethod.Post, "/api/setup/time-zone") { Content = Json("{}") };
        right.Headers.Add(WebServer.CsrfHeader, csrf);
        using var answered = await browser.SendAsync(right);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, answered.StatusCode);
    }

    [Fact]
    public async Task Logout_ends_the_session_and_clears_the_cookie()
    {
        using var browser = Browser();
        await PairAsync(browser);
        using (var status = await browser.GetAsync("/api/status"))
        {
            Assert.Equal(HttpStatusCode.OK, status.StatusCode);
        }

        using var logout = await browser.PostAsync("/api/logout", Json("{}"));

        Assert.Equal(HttpStatusCode.OK, logout.StatusCode);
        Assert.Contains("em_session=; Path=/; Max-Age=0", logout.Headers.GetValues("Set-Cookie").Single(), StringComparison.Ordinal);
        Assert.Equal(0, _server.Sessions.Count);
        using var after = await browser.GetAsync("/api/status");
        Assert.Equal(HttpStatusCode.Unauthorized, after.StatusCode);
    }

    [Fact]
    public async Task Re_pairing_ends_every_old_session()
    {
        using var first = Browser();
        await PairAsync(first);
        using (var opened = await first.PostAsync("/api/pair/code", Json("{}")))
        {
            // The owner's session stands for presence: the window opens without the button.
            Assert.Equal(HttpStatusCode.OK, opened.StatusCode);
        }

        using var second = Browser();
        await PairAsync(second);

        using var old = await first.GetAsync("/api/status");
        using var fresh = await second.GetAsync("/api/status");
        Assert.Equal(HttpStatusCode.Unauthorized, old.StatusCode);
        Assert.Equal(HttpStatusCode.OK, fresh.StatusCode);
        Assert.Equal(1, _server.Sessions.Count);
    }

    [Fact]
    public async Task Paired_gateway_refuses_to_open_pairing_to_a_lan_request()
    {
        using var owner = Browser();
        await PairAsync(owner);
        using var stranger = Browser();

        for (int i = 0; i < 3; i++)
        {
            using var refused = await stranger.PostAsync("/api/pair/code", Json("{}"));
            Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
            Assert.Equal("presence_required", await ResultOf(refused));
        }

        Assert.Null(_pairing.CodeForDisplay());
        Assert.True(_pairing.AwaitingPresence);
        using var state = await stranger.GetAsync("/api/pair");
        using var doc = JsonDocument.Parse(await state.Content.ReadAsStringAsync());
        Assert.True(doc.RootElement.GetProperty("awaitingPresence").GetBoolean());
        Assert.False(doc.RootElement.GetProperty("codeActive").GetBoolean());
        // Who the operator is, is the owner's business.
        Assert.Equal(JsonValueKind.Null, doc.RootElement.GetProperty("operatorAddress").ValueKind);
    }

    [Fact]
    public async Task A_session_ends_with_its_lifetime()
    {
        using var browser = Browser();
        await PairAsync(browser);

        _time.Advance(TimeSpan.FromHours(2) - TimeSpan.FromSeconds(1));
        using (var still = await browser.GetAsync("/api/status"))
        {
            Assert.Equal(HttpStatusCode.OK, still.StatusCode);
        }

        _time.Advance(TimeSpan.FromSeconds(1));
        using var expired = await browser.GetAsync("/api/status");
        Assert.Equal(HttpStatusCode.Unauthorized, expired.StatusCode);
    }

    [Fact]
    public async Task Public_summary_only_when_the_owner_turned_it_on_and_without_private_details()
    {
        using var visitor = Browser();
        using (var off = await visitor.GetAsync("/api/status"))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, off.StatusCode);
        }

        _publicSummary = true;
        var json = await visitor.GetStringAsync("/api/status");

        using var doc = JsonDocument.Parse(json);
        Assert.False(doc.RootElement.GetProperty("owner").GetBoolean());
        Assert.Equal(123m, doc.RootElement.GetProperty("confirmedBalance").GetDecimal());
        Assert.Equal(2340m, doc.RootElement.GetProperty("meters")[0].GetProperty("activePowerW").GetDecimal());
        Assert.False(doc.RootElement.TryGetProperty("counters", out _));
        Assert.False(doc.RootElement.TryGetProperty("pairing", out _));
        Assert.DoesNotContain(TestStatus.DeviceAddress, json, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Session_token_from_another_gateway_start_is_not_accepted()
    {
        using var forged = new HttpClient(new HttpClientHandler { UseCookies = false }) { BaseAddress = _server.BoundUrl };
        forged.DefaultRequestHeaders.Add("Cookie", "em_session=" + new string('A', 43));

        using var response = await forged.GetAsync("/api/setup/config");

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }
}

/// <summary>
/// Host rules of a LAN binding. HttpListener itself only passes Host headers that match a loopback prefix, and network
/// tests must stay on 127.0.0.1, so the decision is tested on <see cref="HostAllowList"/> and the wiring over HTTP.
/// </summary>
public sealed class LanHostRuleTests
{
    private static readonly HostAllowList List = new("gw-test", () => ["meter.home.arpa"], TimeProvider.System);

    [Theory]
    [InlineData("gw-test:8080", true)]
    [InlineData("gw-test", true)]
    [InlineData("GW-TEST.local:8080", true)]
    [InlineData("gw-test.local.:8080", true)]
    [InlineData("meter.home.arpa:8080", true)]
    [InlineData("127.0.0.1:8080", true)]
    [InlineData("[::1]:8080", true)]
    [InlineData("localhost:8080", true)]
    [InlineData("rebind.attacker.example:8080", false)]
    [InlineData("gw-test.attacker.example:8080", false)]
    [InlineData("local:8080", false)]
    [InlineData("192.0.2.77:8080", false)]
    [InlineData("gw-test:8081", false)]
    [InlineData("gw-test:", false)]
    [InlineData("::1", false)]
    [InlineData("[::1", false)]
    [InlineData("", false)]
    [InlineData(null, false)]
    public void Lan_binding_answers_only_its_own_names(string? host, bool allowed)
    {
        Assert.Equal(allowed, List.Allows(host, 8080));
    }

    [Fact]
    public void The_gateways_own_interface_addresses_are_allowed()
    {
        var own = System.Net.NetworkInformation.NetworkInterface.GetAllNetworkInterfaces()
            .SelectMany(n => n.GetIPProperties().UnicastAddresses)
            .Select(u => u.Address)
            .Where(a => !IPAddress.IsLoopback(a) && a.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork)
            .ToList();
        Assert.NotEmpty(own);

        Assert.All(own, a => Assert.True(List.Allows($"{a}:8080", 8080), a.ToString()));
    }

    [Fact]
    public async Task Lan_rules_are_the_ones_applied_to_requests()
    {
        var dir = Path.Combine(Path.GetTempPath(), "edgemeter-lanhost-" + Guid.NewGuid().ToString("N"));
        var pairing = new FilePairingService(dir, TimeProvider.System, NullLogger<FilePairingService>.Instance);
        var configured = new List<string>();
        await using var server = new WebServer(new Uri("http://127.0.0.1:0"), new FakeStatusSource(TestStatus.Household()), pairing, NullLogger<WebServer>.Instance, null,
            new WebServerOptions { HostName = "gw-test", AllowedHosts = () => configured, LanHostRules = true });
        await server.StartAsync(CancellationToken.None);
        using var http = new HttpClient { BaseAddress = server.BoundUrl, Timeout = TimeSpan.FromSeconds(10) };

        using var served = await http.GetAsync("/api/pair");

        Assert.Equal(HttpStatusCode.OK, served.StatusCode);
        Directory.Delete(dir, recursive: true);
    }
}
