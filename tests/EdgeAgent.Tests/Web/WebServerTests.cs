using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using EdgeMeter.Agent.Pairing;
using EdgeMeter.Agent.Tests.Pairing;
using EdgeMeter.Agent.Web;
using Microsoft.Extensions.Logging.Abstractions;
using Xunit;

namespace EdgeMeter.Agent.Tests.Web;

public sealed class WebServerTests : IAsyncLifetime
{
    private const string Operator = "0x1111111111111111111111111111111111111111";

    private readonly string _dir = Path.Combine(Path.GetTempPath(), "edgemeter-web-" + Guid.NewGuid().ToString("N"));
    private readonly ManualTimeProvider _time = new(TestStatus.At);
    private readonly FakeStatusSource _status = new(TestStatus.Household());
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(10) };
    private FilePairingService _pairing = null!;
    private WebServer _server = null!;

    public async Task InitializeAsync()
    {
        _pairing = new FilePairingService(_dir, _time, NullLogger<FilePairingService>.Instance);
        _server = new WebServer(new Uri("http://127.0.0.1:0"), _status, _pairing, NullLogger<WebServer>.Instance, _time);
        await _server.StartAsync(CancellationToken.None);
        _http.BaseAddress = _server.BoundUrl;
    }

    public async Task DisposeAsync()
    {
        _http.Dispose();
        await _server.DisposeAsync();
        Directory.Delete(_dir, recursive: true);
    }

    private Task<HttpResponseMessage> PostJsonAsync(string path, string json, string contentType = "application/json") =>
        _http.PostAsync(path, new StringContent(json, Encoding.UTF8, new MediaTypeHeaderValue(contentType)));

    /// <summary>Pairs through the API; the client keeps the session cookie and sends the CSRF token from then on.</summary>
    private async Task LoginAsync()
    {
        using var paired = await PostJsonAsync("/api/pair", PairBody(_pairing.CodeForDisplay()!.Code));
        Assert.Equal(HttpStatusCode.OK, paired.StatusCode);
        using var doc = JsonDocument.Parse(await paired.Content.ReadAsStringAsync());
        _http.DefaultRequestHeaders.Add(WebServer.CsrfHeader, doc.RootElement.GetProperty("csrf").GetString());
    }

    private static string PairBody(string code, string op = Operator, string label = "Sunny Street") =>
        JsonSerializer.Serialize(new Dictionary<string, string> { ["code"] = code, ["operatorAddress"] = op, ["label"] = label });

    [Fact]
    public void Port_zero_binds_a_real_free_port_on_loopback()
    {
        Assert.Equal("127.0.0.1", _server.BoundUrl.Host);
        Assert.NotEqual(0, _server.BoundUrl.Port);
    }

    [Fact]
    public async Task Status_json_carries_balance_estimate_meters_counters_and_pairing()
    {
        await LoginAsync();
        using var response = await _http.GetAsync("/api/status");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        Assert.True(response.Headers.CacheControl?.NoStore);
        using var doc = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var root = doc.RootElement;
        Assert.Equal(TestStatus.DeviceAddress, root.GetProperty("deviceAddress").GetString());
        Assert.Equal("synchronised", root.GetProperty("timeStatus").GetString());
        Assert.True(root.GetProperty("uplinkConnected").GetBoolean());
        Assert.Equal(123m, root.GetProperty("confirmedBalance").GetDecimal());
        var p = root.GetProperty("provisional");
        Assert.Equal("2025-06", p.GetProperty("month").GetString());
        Assert.Equal(12, p.GetProperty("totalTokens").GetInt64());
        Assert.Equal(0.82m, p.GetProperty("fDemand").GetDecimal());
        Assert.Equal(1.1m, p.GetProperty("fSupply").GetDecimal());
        var meters = root.GetProperty("meters");
        Assert.Equal(2, meters.GetArrayLength());
        Assert.Equal("grid", meters[0].GetProperty("id").GetString());
        Assert.Equal("gridImport", meters[0].GetProperty("source").GetString());
        Assert.Equal(2340m, meters[0].GetProperty("activePowerW").GetDecimal());
        Assert.Equal("pv", meters[1].GetProperty("source").GetString());
        Assert.Equal(3120.25m, meters[1].GetProperty("energyKwh").GetDecimal());
        Assert.Equal(19, root.GetProperty("counters").GetProperty("outboxPending").GetInt64());
        Assert.True(root.GetProperty("pairing").GetProperty("paired").GetBoolean());
        Assert.Equal(Operator, root.GetProperty("pairing").GetProperty("operatorAddress").GetString());
    }

    [Fact]
    public async Task Status_json_has_null_balance_and_estimate_before_data_and_never_the_pairing_code()
    {
        _status.Current = TestStatus.Household(balance: null) with { Provisional = null };
        await LoginAsync();
        using (var opened = await PostJsonAsync("/api/pair/code", "{}"))
        {
            Assert.Equal(HttpStatusCode.OK, opened.StatusCode);
        }

        var code = _pairing.CodeForDisplay()!.Code;

        var json = await _http.GetStringAsync("/api/status");

        using var doc = JsonDocument.Parse(json);
        Assert.Equal(JsonValueKind.Null, doc.RootElement.GetProperty("confirmedBalance").ValueKind);
        Assert.Equal(JsonValueKind.Null, doc.RootElement.GetProperty("provisional").ValueKind);
        Assert.True(doc.RootElement.GetProperty("pairing").GetProperty("codeActive").GetBoolean());
        Assert.DoesNotContain(code, json, StringComparison.Ordinal);
        Assert.DoesNotContain(code, await _http.GetStringAsync("/api/pair"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Page_is_self_contained_html_with_a_hash_based_content_security_policy()
    {
        using var response = await _http.GetAsync("/");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
        var csp = string.Join(";", response.Headers.GetValues("Content-Security-Policy"));
        Assert.Contains("default-src 'none'", csp, StringComparison.Ordinal);
        Assert.Matches("script-src 'sha256-[A-Za-z0-9+/]{43}='", csp);
        Assert.Equal("nosniff", response.Headers.GetValues("X-Content-Type-Options").Single());
        var html = await response.Content.ReadAsStringAsync();
        Assert.Contains("id=\"balance\"", html, StringComparison.Ordinal);
        Assert.DoesNotContain("src=\"http", html, StringComparison.Ordinal);
        Assert.DoesNotContain("href=\"http", html, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Healthz_answers_ok()
    {
        Assert.Equal("ok\n", await _http.GetStringAsync("/healthz"));
    }

    [Fact]
    public async Task Foreign_host_header_is_refused_on_loopback()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/status");
        request.Headers.Host = $"rebind.example:{_server.BoundUrl.Port}";

        using var response = await _http.SendAsync(request);

        Assert.False(response.IsSuccessStatusCode);
        Assert.DoesNotContain(TestStatus.DeviceAddress, await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Localhost_host_header_is_served()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/healthz");
        request.Headers.Host = $"localhost:{_server.BoundUrl.Port}";

        using var response = await _http.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Theory]
    [InlineData("127.0.0.1:8080", true)]
    [InlineData("127.0.0.1", true)]
    [InlineData("LOCALHOST:8080", true)]
    [InlineData("[::1]:8080", true)]
    [InlineData("127.0.0.1:8081", false)]
    [InlineData("evil.example:8080", false)]
    [InlineData("127.0.0.1.evil.example:8080", false)]
    [InlineData("localhost.:8080", false)]
    [InlineData("", false)]
    [InlineData(null, false)]
    public void Loopback_host_check_accepts_only_loopback_names_with_our_port(string? host, bool allowed)
    {
        Assert.Equal(allowed, WebServer.IsLoopbackHost(host, 8080));
    }

    [Fact]
    public async Task Body_over_four_kib_is_refused_with_413()
    {
        var big = "{\"code\":\"" + new string('1', 5000) + "\"}";

        using var response = await PostJsonAsync("/api/pair", big);

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Equal(5, _pairing.GetState().AttemptsLeft);
    }

    [Fact]
    public async Task Chunked_body_over_four_kib_is_refused_with_413()
    {
        var content = new StreamContent(new MemoryStream(Encoding.UTF8.GetBytes("{\"label\":\"" + new string('x', 5000) + "\"}")));
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/pair") { Content = content };
        request.Headers.TransferEncodingChunked = true;

        using var response = await _http.SendAsync(request);

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
    }

    [Theory]
    [InlineData("text/plain")]
    [InlineData("application/x-www-form-urlencoded")]
    [InlineData("multipart/form-data")]
    public async Task Post_without_json_content_type_is_refused_with_415(string contentType)
    {
        var code = _pairing.CodeForDisplay()!.Code;

        using var response = await PostJsonAsync("/api/pair", PairBody(code), contentType);

        Assert.Equal(HttpStatusCode.UnsupportedMediaType, response.StatusCode);
        Assert.False(_pairing.Status.Paired);
    }

    [Fact]
    public async Task Post_from_a_foreign_origin_is_refused()
    {
        var code = _pairing.CodeForDisplay()!.Code;
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/pair") { Content = new StringContent(PairBody(code), Encoding.UTF8, "application/json") };
        request.Headers.Add("Origin", "http://evil.example");

        using var response = await _http.SendAsync(request);

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.False(_pairing.Status.Paired);
    }

    [Fact]
    public async Task Pairing_with_the_displayed_code_records_the_operator()
    {
        var code = _pairing.CodeForDisplay()!.Code;
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/pair") { Content = new StringContent(PairBody(code), Encoding.UTF8, "application/json") };
        request.Headers.Add("Origin", _server.BoundUrl.GetLeftPart(UriPartial.Authority));

        using var response = await _http.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var doc = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal("paired", doc.RootElement.GetProperty("result").GetString());
        var pairing = doc.RootElement.GetProperty("pairing");
        Assert.True(pairing.GetProperty("paired").GetBoolean());
        Assert.Equal(Operator, pairing.GetProperty("operatorAddress").GetString());
        Assert.Equal("Sunny Street", pairing.GetProperty("label").GetString());
        Assert.Equal(new Status.PairingStatus(true, Operator, "Sunny Street", TestStatus.At), _pairing.Status);
    }

    [Fact]
    public async Task Wrong_code_gets_403_with_attempts_left_and_the_fifth_locks_with_429()
    {
        var code = _pairing.CodeForDisplay()!.Code;
        var wrong = ((int.Parse(code) + 1) % 1_000_000).ToString("D6");

        using var first = await PostJsonAsync("/api/pair", PairBody(wrong));
        Assert.Equal(HttpStatusCode.Forbidden, first.StatusCode);
        using (var doc = JsonDocument.Parse(await first.Content.ReadAsStringAsync()))
        {
            Assert.Equal("wrong_code", doc.RootElement.GetProperty("result").GetString());
            Assert.Equal(4, doc.RootElement.GetProperty("attemptsLeft").GetInt32());
        }

        for (int i = 0; i < 3; i++)
        {
            (await PostJsonAsync("/api/pair", PairBody(wrong))).Dispose();
        }

        using var fifth = await PostJsonAsync("/api/pair", PairBody(wrong));
        Assert.Equal(HttpStatusCode.TooManyRequests, fifth.StatusCode);
        Assert.Equal(TimeSpan.FromMinutes(15), fifth.Headers.RetryAfter?.Delta);
        using var right = await PostJsonAsync("/api/pair", PairBody(code));
        Assert.Equal(HttpStatusCode.TooManyRequests, right.StatusCode);
        using var state = JsonDocument.Parse(await _http.GetStringAsync("/api/pair"));
        Assert.True(state.RootElement.GetProperty("locked").GetBoolean());
        Assert.False(state.RootElement.GetProperty("paired").GetBoolean());
    }

    [Theory]
    [InlineData("not json", "bad_json")]
    [InlineData("[1,2]", "bad_json")]
    [InlineData("{\"code\":\"123456\",\"operatorAddress\":\"0x12\"}", "invalid_operator")]
    public async Task Malformed_pairing_requests_get_400_with_a_reason(string body, string result)
    {
        using var response = await PostJsonAsync("/api/pair", body);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        using var doc = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal(result, doc.RootElement.GetProperty("result").GetString());
    }

    [Fact]
    public async Task Re_pairing_from_the_lan_needs_a_press_of_the_gateway_button()
    {
        _pairing.TryPair(_pairing.CodeForDisplay()!.Code, Operator, null);

        using var noCode = await PostJsonAsync("/api/pair", PairBody("000000", "0x2222222222222222222222222222222222222222"));
        Assert.Equal(HttpStatusCode.Conflict, noCode.StatusCode);

        using var requested = await PostJsonAsync("/api/pair/code", "{}");
        Assert.Equal(HttpStatusCode.Forbidden, requested.StatusCode);
        using (var doc = JsonDocument.Parse(await requested.Content.ReadAsStringAsync()))
        {
            Assert.Equal("presence_required", doc.RootElement.GetProperty("result").GetString());
        }

        Assert.Null(_pairing.CodeForDisplay());
        Assert.True(_pairing.AwaitingPresence);

        _pairing.ConfirmPresence();
        var code = _pairing.CodeForDisplay()!.Code;

        using var paired = await PostJsonAsync("/api/pair", PairBody(code, "0x2222222222222222222222222222222222222222"));
        Assert.Equal(HttpStatusCode.OK, paired.StatusCode);
        Assert.Equal("0x2222222222222222222222222222222222222222", _pairing.Status.OperatorAddress);
    }

    [Fact]
    public async Task Unknown_path_is_404_and_wrong_method_is_405()
    {
        using var missing = await _http.GetAsync("/admin");
        using var wrongMethod = await _http.DeleteAsync("/api/status");

        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        Assert.Equal(HttpStatusCode.MethodNotAllowed, wrongMethod.StatusCode);
        Assert.Equal("GET", wrongMethod.Content.Headers.Allow.Single());
    }

    [Fact]
    public async Task More_parallel_requests_than_handler_slots_are_all_answered()
    {
        await LoginAsync();
        var responses = await Task.WhenAll(Enumerable.Range(0, 32).Select(_ => _http.GetAsync("/api/status")));

        Assert.All(responses, r => Assert.Equal(HttpStatusCode.OK, r.StatusCode));
        foreach (var r in responses)
        {
            r.Dispose();
        }
    }

    [Fact]
    public async Task Cancelling_the_start_token_stops_the_server()
    {
        using var cts = new CancellationTokenSource();
        await using var server = new WebServer(new Uri("http://127.0.0.1:0"), _status, _pairing, NullLogger<WebServer>.Instance);
        await server.StartAsync(cts.Token);
        using (var ok = await _http.GetAsync(new Uri(server.BoundUrl, "/healthz")))
        {
            Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        }

        await cts.CancelAsync();
        await server.DisposeAsync();

        using var probe = new TcpClient();
        await Assert.ThrowsAsync<SocketException>(() => probe.ConnectAsync(IPAddress.Loopback, server.BoundUrl.Port));
    }

    [Theory]
    [InlineData("https://127.0.0.1:8080")]
    [InlineData("http://127.0.0.1:8080/edgemeter")]
    [InlineData("http://gateway.example:8080")]
    public void Unusable_urls_are_rejected_up_front(string url)
    {
        Assert.Throws<ArgumentException>(() => new WebServer(new Uri(url), _status, _pairing, NullLogger<WebServer>.Instance));
    }
}
