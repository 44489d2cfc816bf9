using System.Net;
using System.Text;
using System.Text.Json;
using EdgeMeter.Agent.Configuration;
using EdgeMeter.Agent.Metering;
using EdgeMeter.Agent.Pairing;
using EdgeMeter.Agent.Setup;
using EdgeMeter.Agent.Web;
using Microsoft.Extensions.Logging.Abstractions;
using Xunit;

namespace EdgeMeter.Agent.Tests.Web;

/// <summary>The setup API over a real configuration file: DLMS meters shown without their secrets, refusals with stable codes.</summary>
public sealed class SetupApiTests : IAsyncLifetime
{
    private const string Password = "low-secret-1234";
    private readonly string _dir = Directory.CreateTempSubdirectory("edgemeter-setup-api-").FullName;
    private FilePairingService _pairing = null!;
    private WebServer _server = null!;

    public async Task InitializeAsync()
    {
        var path = Path.Combine(_dir, "edgemeter.json");
        File.WriteAllText(path, $$"""
            { "dataDirectory": "{{_dir}}",
              "meters": [
                { "id": "grid", "endpoint": "tcp://127.0.0.1:1502", "unit": 1, "map": "eastron-sdm630", "source": "GridImport" },
                { "id": "flat", "endpoint": "tcp://127.0.0.1:4059", "protocol": "dlms", "source": "GridImport", "record": ["import_active_energy", "active_power"],
                  "dlms": { "client": 17, "authentication": "low", "password": "{{Password}}", "obis": { "active_power": "1.0.16.7.0.255" } } } ] }
            """);
        var options = ConfigLoader.Load(ConfigLoader.Build(path), path, requireMeters: true, MeterEndpoints.Check, EdgeMeter.Agent.Hosting.RegisterMaps.Check);
        var setup = new SetupService(path, options, requireMeters: true, MeterEndpoints.Check, NullLogger<SetupService>.Instance);
        _pairing = new FilePairingService(_dir, TimeProvider.System, NullLogger<FilePairingService>.Instance);
        _server = new WebServer(new Uri("http://127.0.0.1:0"), new FakeStatusSource(TestStatus.Household()), _pairing, NullLogger<WebServer>.Instance, null,
            new WebServerOptions { HostName = "gw-test", Setup = setup });
        await _server.StartAsync(CancellationToken.None);
    }

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        Directory.Delete(_dir, recursive: true);
    }

    private async Task<HttpClient> OwnerAsync()
    {
        var browser = new HttpClient(new HttpClientHandler { UseCookies = true, CookieContainer = new CookieContainer() }) { BaseAddress = _server.BoundUrl, Timeout = TimeSpan.FromSeconds(20) };
        using var paired = await browser.PostAsync("/api/pair", Json($$"""{"code":"{{_pairing.CodeForDisplay()!.Code}}","operatorAddress":"0x1111111111111111111111111111111111111111","label":"home"}"""));
        using var doc = JsonDocument.Parse(await paired.Content.ReadAsStringAsync());
        browser.DefaultRequestHeaders.Add(WebServer.CsrfHeader, doc.RootElement.GetProperty("csrf").GetString());
        return browser;
    }

    private static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    [Fact]
    public async Task The_setup_view_shows_a_dlms_meters_association_and_registers_but_never_its_password()
    {
        using var owner = await OwnerAsync();

        var body = await owner.GetStringAsync("/api/setup/config");

        using var doc = JsonDocument.Parse(body);
        var flat = doc.RootElement.GetProperty("meters")[1];
        Assert.Equal("dlms", flat.GetProperty("protocol").GetString());
        Assert.Equal((17, "low", true), (flat.GetProperty("dlms").GetProperty("client").GetInt32(), flat.GetProperty("dlms").GetProperty("auth").GetString(),
            flat.GetProperty("dlms").GetProperty("hasPassword").GetBoolean()));
        Assert.Equal(["1.0.1.8.0.255", "1.0.16.7.0.255"], flat.GetProperty("dlms").GetProperty("obis").EnumerateArray().Select(e => e.GetString()));
        Assert.DoesNotContain(Password, body, StringComparison.Ordinal);
        Assert.Equal("modbus", doc.RootElement.GetProperty("meters")[0].GetProperty("protocol").GetString());
    }

    [Fact]
    public async Task Refusals_carry_a_stable_code_and_the_values_they_name()
    {
        using var owner = await OwnerAsync();

        using var save = await owner.PostAsync("/api/setup/meters", Json("""
            {"id":"flat","protocol":"dlms","endpoint":"tcp://127.0.0.1:4059","unit":1,"source":"GridImport",
             "dlms":{"transport":"wrapper","client":1,"server":1,"auth":"hls-gmac","blockKey":"0011","obis":["1.0.1.8.0.255"]}}
            """));
        using var test = await owner.PostAsync("/api/setup/meters/test", Json("""
            {"id":"flat","protocol":"dlms","endpoint":"tcp://127.0.0.1:4059","unit":1,"source":"GridImport","timeoutMs":5,
             "dlms":{"transport":"wrapper","client":17,"server":1,"auth":"low","obis":["1.0.1.8.0.255"]}}
            """));

        Assert.Equal(HttpStatusCode.UnprocessableEntity, save.StatusCode);
        using (var doc = JsonDocument.Parse(await save.Content.ReadAsStringAsync()))
        {
            var error = doc.RootElement.GetProperty("errors")[0];
            Assert.Equal(("meters[].dlms.blockKey", "hex", "32"), (error.GetProperty("key").GetString(), error.GetProperty("code").GetString(),
                error.GetProperty("args").GetProperty("digits").GetString()));
        }

        // The test read runs the file's rules on the settings it would save: the timeout's range, with its bounds.
        Assert.Equal(HttpStatusCode.UnprocessableEntity, test.StatusCode);
        using (var doc = JsonDocument.Parse(await test.Content.ReadAsStringAsync()))
        {
            var root = doc.RootElement;
            Assert.Equal("range", root.GetProperty("code").GetString());
            Assert.Equal(("meters[1].timeoutMs", "20", "60000", "5"), (root.GetProperty("args").GetProperty("key").GetString(), root.GetProperty("args").GetProperty("min").GetString(),
                root.GetProperty("args").GetProperty("max").GetString(), root.GetProperty("args").GetProperty("got").GetString()));
            Assert.Empty(root.GetProperty("values").EnumerateArray());
        }
    }
}
