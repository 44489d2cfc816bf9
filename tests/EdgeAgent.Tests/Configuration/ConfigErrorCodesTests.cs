using EdgeMeter.Agent.Configuration;
using EdgeMeter.Agent.Hosting;
using EdgeMeter.Agent.Metering;

namespace EdgeMeter.Agent.Tests.Configuration;

/// <summary>
/// Every configuration rule the local page can break has a stable code (the Chinese page is built from it) and
/// the arguments its reason quotes; none of them falls through to the catch-all <c>invalid</c>.
/// </summary>
public sealed class ConfigErrorCodesTests
{
    private static ConfigError FirstError(string meter, string extra = "")
    {
        var json = $$"""
            { "dataDirectory": "/var/lib/edgemeter", {{extra}} "meters": [ {{meter}} ] }
            """;
        // As the page's setup meets it: the first problem of the loader, split into key and reason.
        var e = Assert.Throws<ConfigException>(() => ConfigLoader.Load(ConfigLoader.BuildFromJson(System.Text.Encoding.UTF8.GetBytes(json)), "",
            requireMeters: true, MeterEndpoints.Check, RegisterMaps.Check));
        var message = e.Message[2..];
        var colon = message.IndexOf(": ", StringComparison.Ordinal);
        return new ConfigError(message[..colon], message[(colon + 2)..]);
    }

    private const string Grid = """ "id": "grid", "endpoint": "tcp://127.0.0.1:1502", "map": "eastron-sdm630", "source": "GridImport" """;
    private const string Dlms = """ "id": "flat", "endpoint": "tcp://127.0.0.1:4059", "protocol": "dlms", "source": "GridImport" """;

    [Theory]
    [InlineData("{" + Grid + ", \"unit\": 300 }", "", "meters[0].unit", "range", "min=1 max=247 got=300")]
    [InlineData("{" + Grid + ", \"timeoutMs\": 5 }", "", "meters[0].timeoutMs", "range", "min=20 max=60000 got=5")]
    [InlineData("{ \"id\": \"grid\", \"endpoint\": \"tcp://127.0.0.1:1502\", \"map\": \"eastron-sdm630\" }, { \"id\": \"grid\", \"endpoint\": \"tcp://127.0.0.1:1503\", \"map\": \"eastron-sdm630\" }", "", "meters[1].id", "duplicate_id", "got=grid")]
    [InlineData("{ \"id\": \"a b\", \"endpoint\": \"tcp://127.0.0.1:1502\", \"map\": \"eastron-sdm630\" }", "", "meters[0].id", "id_format", "got=a b")]
    [InlineData("{ \"id\": \"grid\", \"endpoint\": \"tcp://127.0.0.1:1502\", \"map\": \"no-such-map\" }", "", "meters[0].map", "map", "")]
    [InlineData("{ \"id\": \"grid\", \"endpoint\": \"ftp://x\", \"map\": \"eastron-sdm630\" }", "", "meters[0].endpoint", "endpoint", "")]
    [InlineData("{" + Grid + "}", "\"mqtt\": { \"broker\": \"ftp://x\" },", "mqtt.broker", "url_format", "a=mqtt:// b=mqtts:// got=ftp://x")]
    [InlineData("{" + Grid + "}", "\"timeZone\": \"Mars/Olympus\",", "timeZone", "unknown_time_zone", "got=Mars/Olympus")]
    [InlineData("{" + Grid + "}", "\"mqtt\": { \"caFile\": \"/nonexistent/ca.pem\" },", "mqtt.caFile", "file_not_found", "got=/nonexistent/ca.pem")]
    [InlineData("{" + Dlms + ", \"dlms\": { \"authentication\": \"low\" } }", "", "meters[0].dlms.password", "required", "")]
    [InlineData("{" + Dlms + ", \"dlms\": { \"authentication\": \"hls-gmac\", \"blockCipherKey\": \"00\" } }", "", "meters[0].dlms.blockCipherKey", "hex", "digits=32")]
    [InlineData("{" + Dlms + ", \"dlms\": { \"authentication\": \"secret\" } }", "", "meters[0].dlms.authentication", "one_of", "got=secret")]
    [InlineData("{" + Dlms + ", \"dlms\": { \"server\": 0 } }", "", "meters[0].dlms.server", "range", "min=1 max=16383 got=0")]
    public void Page_reachable_rules_have_their_own_code_and_arguments(string meters, string extra, string key, string code, string args)
    {
        var error = FirstError(meters, extra);

        var (actualCode, actualArgs) = ConfigErrorCodes.Classify(error);

        Assert.Equal(key, error.Key);
        Assert.Equal(code, actualCode);
        Assert.Equal(args, string.Join(' ', actualArgs.Select(a => a.Key + "=" + a.Value)));
    }

    [Fact]
    public void The_last_meter_and_a_reason_of_no_known_shape_have_codes_too()
    {
        Assert.Equal("meter_required", ConfigErrorCodes.Classify(new ConfigError("meters", "at least one meter is required")).Code);
        Assert.Equal("invalid", ConfigErrorCodes.Classify(new ConfigError("display.rows", "something new")).Code);
    }
}
