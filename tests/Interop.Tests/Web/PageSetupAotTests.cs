using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using EdgeMeter.Agent.Web;
using EdgeMeter.Interop.Tests.Support;
using EdgeMeter.Protocols.Dlms;
using EdgeMeter.Protocols.Dlms.Simulator;
using EdgeMeter.Protocols.Modbus;

namespace EdgeMeter.Interop.Tests.Web;

/// <summary>
/// The local page of the Native AOT binary (<c>edgemeter demo</c>), driven in headless Chromium through Playwright
/// (tests/interop-js/web-setup.mjs): pairing with the code from the log, a test read and a meter added through the
/// page (Modbus, then DLMS/COSEM after a refused and a good test read), the dashboard's values and balance, the page
/// in Chinese with its refusals, the lockout, and the same server's API refusals.
/// </summary>
[Collection(AotCollection.Name)]
public sealed partial class PageSetupAotTests(AotBinaryFixture aot)
{
    private const string Operator = "0x1111111111111111111111111111111111111111";
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(150);
    private static readonly string JsDir = Path.Combine(Repo.Root, "tests", "interop-js");

    /// <summary>Starts the demo on a free loopback port and waits for the page and the pairing code in its log.</summary>
    private async Task<(Background Demo, Uri Url, string Code)> StartDemoAsync()
    {
        var data = Directory.CreateTempSubdirectory("edgemeter-page-").FullName;
        var demo = new Background(aot.Binary, ["demo", "--data", data, "--http", "http://127.0.0.1:0"]);
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (DateTime.UtcNow < deadline && !demo.HasExited)
        {
            var log = demo.Output;
            var url = LocalPage().Match(log);
            var code = PairingCode().Match(log);
            if (url.Success && code.Success)
            {
                return (demo, new Uri(url.Groups[1].Value), code.Groups[1].Value);
            }

            await Task.Delay(100);
        }

        var output = demo.Output;
        await demo.DisposeAsync();
        throw new InvalidOperationException("the demo showed no page URL and pairing code:\n" + output);
    }

    private static async Task<JsonElement> RunPageScriptAsync(params string[] args)
    {
        TestDependencies.Require(Peer.NodePackages);
        TestDependencies.Require(Peer.Chromium);
        var run = await Processes.RunAsync("node", [Path.Combine(JsDir, "web-setup.mjs"), .. args], Limit, JsDir);
        Assert.True(run.ExitCode == 0, run.Out + run.Err);
        using var doc = JsonDocument.Parse(run.Out);
        return doc.RootElement.Clone();
    }

    [Fact]
    public async Task New_gateway_is_paired_from_the_log_code_a_meter_is_added_after_a_test_read_and_the_dashboard_shows_it_and_the_balance()
    {
        // A meter of our own (not the demo's), with values nobody else has.
        var map = RegisterMapCatalog.LoadBuiltin("eastron-sdm630");
        var bank = new ModbusRegisterBank();
        bank.SetInputRegisters(0, new ushort[512]);
        bank.SetQuantity(map, "active_power", 1234.5m);
        bank.SetQuantity(map, "voltage_l1", 229.8m);
        bank.SetQuantity(map, "import_active_energy", 4321000m);
        await using var meter = new ModbusTcpServer(new IPEndPoint(IPAddress.Loopback, 0), new Dictionary<byte, ModbusRegisterBank> { [7] = bank });
        meter.Start();
        // A DLMS/COSEM meter of our own too: low security (a password), 4,321 W.
        const string dlmsPassword = "kWh-4321";
        await using var dlms = DlmsSimulatorServer.Start(SimulatedDlmsMeter.Typical(
            new SimulatedMeterSecurity { AllowNoAuthentication = false, Password = Encoding.ASCII.GetBytes(dlmsPassword) }, wattHoursPerHour: 4321), DlmsFraming.Wrapper);
        var dead = DeadPort();
        var (demo, url, code) = await StartDemoAsync();
        await using var _ = demo;
        var shots = Environment.GetEnvironmentVariable("EDGEMETER_SCREENSHOTS") ?? "";

        var page = await RunPageScriptAsync("setup", url.ToString(), code, Operator, "127.0.0.1",
            meter.LocalEndPoint.Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "7",
            dlms.Port.ToString(System.Globalization.CultureInfo.InvariantCulture), dlmsPassword, dead.ToString(System.Globalization.CultureInfo.InvariantCulture), shots);

        Assert.Equal(200, page.GetProperty("pair").GetProperty("status").GetInt32());
        // The label is user input: it arrives as text, never as markup.
        Assert.Equal("Paired with <b>阳光街</b>社区", page.GetProperty("pairState").GetString());
        Assert.Equal(0, page.GetProperty("boldInjected").GetInt32());
        var read = page.GetProperty("testRead");
        Assert.Equal("1,234.5 W", read.GetProperty("active_power").GetString());
        Assert.Equal("229.8 V", read.GetProperty("voltage_l1").GetString());
        Assert.Equal("4,321,000 Wh", read.GetProperty("import_active_energy").GetString());
        Assert.Equal(["grid-sdm630", "pv-sdm120", "grid-dlms"], page.GetProperty("metersBeforeSave").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal(["grid-sdm630", "pv-sdm120", "grid-dlms", "garage-wind"], page.GetProperty("metersAfterSave").EnumerateArray().Select(e => e.GetString()));
        var row = page.GetProperty("health").EnumerateArray().Select(r => r.EnumerateArray().Select(c => c.GetString()).ToArray()).Single(r => r[0] == "garage-wind");
        Assert.Equal(new[] { "garage-wind", "Wind", "online", "1.23 kW" }, row[..4].Select(c => c ?? ""));
        Assert.Equal("1.23 kW", page.GetProperty("windPower").GetString());
        // Closed months only are confirmed: a fresh demo shows 0 tokens confirmed, and its month's tokens as provisional.
        Assert.Equal("0 tokens", page.GetProperty("balance").GetString());
        Assert.Matches(@"^\+[1-9][\d,]* tokens$", page.GetProperty("provisional").GetString());
        Assert.Matches("^Grid: (importing|exporting|balanced)", page.GetProperty("gridLabel")[0].GetString());
        Assert.Matches(@"^\d[\d,]*$", page.GetProperty("backlog").GetString());

        // A DLMS meter through the page: the wrong password is refused in words, with no value shown; the right one
        // reads the meter's scaled values; saved, it is polled and on the dashboard.
        var wrong = page.GetProperty("dlmsWrong").GetProperty("text").GetString()!;
        Assert.StartsWith($"Error: tcp://127.0.0.1:{dlms.Port}: the meter refused the association; check the client address, the authentication and its password or keys", wrong, StringComparison.Ordinal);
        Assert.DoesNotContain(dlmsPassword, wrong, StringComparison.Ordinal);
        Assert.False(page.GetProperty("dlmsWrongTable").GetBoolean());
        Assert.Equal(0, page.GetProperty("dlmsWrongValues").GetInt32());
        var dlmsRead = page.GetProperty("dlmsRead");
        Assert.Equal("4,321 W", dlmsRead.GetProperty("active_power").GetString());
        Assert.Equal("12,345 Wh", dlmsRead.GetProperty("export_active_energy").GetString());
        Assert.Matches(@"^230(\.\d)? V$", dlmsRead.GetProperty("voltage_l1").GetString());
        Assert.Matches(@"^\d{1,3}(,\d{3})+ Wh$", dlmsRead.GetProperty("import_active_energy").GetString());
        Assert.Equal("Saved and applied.", page.GetProperty("dlmsSaveMessage").GetString());
        Assert.Equal(["grid-sdm630", "pv-sdm120", "grid-dlms", "garage-wind", "flat-dlms"], page.GetProperty("metersAfterDlms").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal(new[] { "flat-dlms", "CHP", "online", "4.32 kW" }, page.GetProperty("dlmsHealth").EnumerateArray().Take(4).Select(c => c.GetString() ?? ""));
        Assert.Equal("4.32 kW", page.GetProperty("chpPower").GetString());
        Assert.Contains("Meters changed by setup: now polling 5 meters", demo.Output, StringComparison.Ordinal);
        Assert.DoesNotContain(dlmsPassword, demo.Output, StringComparison.Ordinal);

        // The page in Chinese: nothing English but units, addresses and identifiers (meter ids, register maps, ports).
        AssertNoEnglish("the Chinese page", page.GetProperty("zhTexts"));
        Assert.Equal("0 代币", page.GetProperty("zhBalance").GetString());
        Assert.Contains(page.GetProperty("zhTexts").EnumerateArray(), t => t.GetProperty("text").GetString() == "实时功率");
        // And every refusal it shows, in Chinese too, with the endpoint or value it names kept as it is.
        var errors = page.GetProperty("zhErrors");
        foreach (var error in errors.EnumerateObject())
        {
            AssertNoEnglish(error.Name, error.Value.GetProperty("parts"));
        }

        string Zh(string name) => errors.GetProperty(name).GetProperty("text").GetString()!;
        Assert.Equal($"错误：tcp://127.0.0.1:{dead}：连接被拒绝。", Zh("deadMeter"));
        Assert.Equal($"错误：tcp://127.0.0.1:{dlms.Port}：电表拒绝建立连接。请检查客户端地址、认证方式以及密码或密钥。", Zh("dlmsRefused"));
        Assert.Equal("错误：分组加密密钥：应为 32 位十六进制数字。", Zh("badKey"));
        Assert.Equal("错误：OBIS 代码：1.0.99.1.0.255 不是本网关记录的寄存器。", Zh("badObis"));
        Assert.Equal($"错误：mqtt://127.0.0.1:{dead}：连接被拒绝。", Zh("deadBroker"));
        Assert.Equal("错误：服务器地址：应为以 mqtt:// 或 mqtts:// 开头、带主机名和端口的地址（当前为 ftp://127.0.0.1）。", Zh("badBroker"));
        Assert.Equal("错误：CA 证书：不是 PEM 文件。", Zh("notPem"));

        // The configuration file on disk has the new meter, and the agent took it without a restart.
        Assert.False(demo.HasExited, demo.Output);
        Assert.Contains("Meters changed by setup: now polling 4 meters", demo.Output, StringComparison.Ordinal); // the demo's three and the new one
        Assert.DoesNotContain(code, page.ToString(), StringComparison.Ordinal);

        // A paired gateway opens no pairing window for a request from the LAN.
        using var stranger = new HttpClient { BaseAddress = url, Timeout = TimeSpan.FromSeconds(10) };
        using var refused = await stranger.PostAsync("/api/pair/code", new StringContent("{}", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        Assert.Contains("presence_required", await refused.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        // One log line carried the code (no LCD in the demo), and pairing issued no other.
        Assert.Single(PairingCode().Matches(demo.Output));
    }

    [Fact]
    public async Task Five_wrong_codes_lock_pairing_and_the_sixth_is_refused_even_when_right()
    {
        var (demo, url, code) = await StartDemoAsync();
        await using var _ = demo;

        var page = await RunPageScriptAsync("lockout", url.ToString(), code, Operator);

        var attempts = page.GetProperty("attempts").EnumerateArray().ToList();
        Assert.Equal([403, 403, 403, 403, 429], attempts.Select(a => a.GetProperty("status").GetInt32()));
        Assert.Equal("Wrong code. Attempts left: 4.", attempts[0].GetProperty("message").GetString());
        Assert.Equal(429, page.GetProperty("sixth").GetProperty("status").GetInt32());
        Assert.StartsWith("Too many wrong codes.", page.GetProperty("sixth").GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.False(page.GetProperty("ownerArea").GetBoolean());
        Assert.Contains("Pairing locked after 5 wrong codes", demo.Output, StringComparison.Ordinal);
        // The same refusal on the Chinese page, and nothing English around it.
        Assert.Equal(429, page.GetProperty("sixthZh").GetProperty("status").GetInt32());
        Assert.StartsWith("错误次数过多。", page.GetProperty("sixthZh").GetProperty("message").GetString(), StringComparison.Ordinal);
        AssertNoEnglish("the Chinese lockout", page.GetProperty("sixthZhParts"));
        AssertNoEnglish("the Chinese pairing card", page.GetProperty("hintZh"));
    }

    [Fact]
    public async Task Every_setup_api_of_the_binary_refuses_without_a_session_and_a_rebinding_host()
    {
        var (demo, url, _) = await StartDemoAsync();
        await using var __ = demo;
        using var http = new HttpClient(new HttpClientHandler { UseCookies = false }) { BaseAddress = url, Timeout = TimeSpan.FromSeconds(10) };

        foreach (var (method, path) in WebServer.SetupRoutes.Append(("GET", "/api/status")))
        {
            using var request = new HttpRequestMessage(new HttpMethod(method), path);
            if (method == "POST")
            {
                request.Content = new StringContent("{}", Encoding.UTF8, "application/json");
                request.Headers.Add(WebServer.CsrfHeader, "guess");
            }

            using var response = await http.SendAsync(request);
            Assert.True(response.StatusCode == HttpStatusCode.Unauthorized, $"{method} {path}: {response.StatusCode}");
        }

        using var rebound = new HttpRequestMessage(HttpMethod.Get, "/");
        rebound.Headers.Host = $"rebind.attacker.example:{url.Port}";
        using var refused = await http.SendAsync(rebound);
        // On this loopback binding HttpListener itself turns a foreign Host away (404) before our check (403) would.
        Assert.True(refused.StatusCode is HttpStatusCode.Forbidden or HttpStatusCode.NotFound, refused.StatusCode.ToString());
        Assert.DoesNotContain("<html", await refused.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    /// <summary>Fails when a text outside an address or identifier has a word that is not a unit, a protocol's name or a brand.</summary>
    private static void AssertNoEnglish(string where, JsonElement texts)
    {
        var allowed = new Regex(@"^(kWh|kW|Wh|W|V|A|Hz|ms|MQTT|Modbus|Modbus TCP|DLMS/COSEM|DLMS|TCP|TLS|RS-485|HDLC|OBIS|GMAC|CA|PEM|RTU|EdgeMeter|English|L[123])$");
        Assert.NotEqual(0, texts.GetArrayLength());
        var english = texts.EnumerateArray()
            .Where(t => t.GetProperty("cls").GetString() != "addr")
            .SelectMany(t => Words().Matches(t.GetProperty("text").GetString()!).Select(m => m.Value))
            .Where(w => !allowed.IsMatch(w))
            .Distinct()
            .ToList();
        Assert.True(english.Count == 0, $"English on {where}: " + string.Join(", ", english));
    }

    /// <summary>A loopback port nothing listens on (bound, then closed).</summary>
    private static int DeadPort()
    {
        using var probe = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        var port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        return port;
    }

    [GeneratedRegex(@"Local page at (http://127\.0\.0\.1:\d+/)")]
    private static partial Regex LocalPage();

    [GeneratedRegex(@"pairing code: (\d{6})")]
    private static partial Regex PairingCode();

    [GeneratedRegex("[A-Za-z][A-Za-z0-9/.-]*")]
    private static partial Regex Words();
}
