using EdgeMeter.Agent.Configuration;
using EdgeMeter.Agent.Tests.Support;

namespace EdgeMeter.Agent.Tests.Configuration;

[Collection(ConsoleCollection.Name)]
public sealed class ConfigValidationTests
{
    private static string ValidConfig(string dataDir, string pollInterval = "1", string extra = "") => $$"""
        {
          "dataDirectory": "{{dataDir}}",
          "pollIntervalSeconds": {{pollInterval}},
          {{extra}}
          "meters": [
            { "id": "grid", "endpoint": "tcp://127.0.0.1:1502", "unit": 1, "map": "eastron-sdm630", "source": "GridImport" }
          ]
        }
        """;

    [Fact]
    public async Task Run_with_negative_poll_interval_exits_2_with_one_line_naming_the_key()
    {
        using var dir = new TempDir();
        var config = dir.File("edgemeter.json");
        await File.WriteAllTextAsync(config, ValidConfig(dir.File("data"), "-5"));

        var (code, stdout, stderr) = await CliRunner.RunAsync("run", "--config", config);

        Assert.Equal(2, code);
        Assert.Equal("", stdout);
        var lines = stderr.TrimEnd('\n').Split('\n');
        Assert.Single(lines);
        Assert.Equal($"edgemeter: {config}: pollIntervalSeconds: must be greater than 0 and at most 3600 (got -5)", lines[0]);
        Assert.False(Directory.Exists(dir.File("data")), "a rejected config must not create the data directory");
    }

    [Theory]
    [InlineData("\"unit\": 300,", "meters[0].unit: must be 1..247 (got 300)")]
    [InlineData("\"mqtt\": { \"broker\": \"http://x\" },", "mqtt.broker: must be mqtt://host:port or mqtts://host:port (got 'http://x')")]
    [InlineData("\"pollIntervalSecondz\": 3,", ": pollIntervalSecondz: unknown key (misspelt?)")]
    [InlineData("\"display\": { \"rows\": 9 },", "display.rows: must be 1, 2 or 4 (got 9)")]
    [InlineData("\"display\": { \"rows\": 4, \"columns\": 16 },", "display.columns: a 4-row display must have 20 columns (got 16)")]
    [InlineData("\"display\": { \"pins\": { \"d4\": 8 } },", "display.pins.d4: must be a PCF8574 port bit 0..7 (got 8)")]
    [InlineData("\"display\": { \"pins\": { \"enable\": 4 } },", "display.pins.d4: bit 4 is already used by another signal")]
    [InlineData("\"display\": { \"backlightSeconds\": -1 },", "display.backlightSeconds: must not be negative (got -1)")]
    [InlineData("\"button\": { \"pin\": 64 },", "button.pin: must be a GPIO line 0..63, or -1 for none (got 64)")]
    [InlineData("\"button\": { \"longPressMs\": 100 },", "button.longPressMs: must be 300..10000 (got 100)")]
    [InlineData("\"rtc\": { \"i2cBus\": -2 },", "rtc.i2cBus: must be 0..255, or -1 for no RTC (got -2)")]
    [InlineData("\"pollIntervalSeconds\": \"soon\",", "pollIntervalSeconds: must be a number (got 'soon')")]
    public async Task Each_bad_value_is_reported_with_its_key(string fragment, string expected)
    {
        using var dir = new TempDir();
        var config = dir.File("edgemeter.json");
        var json = fragment.StartsWith("\"unit\"", StringComparison.Ordinal)
            ? ValidConfig(dir.File("data")).Replace("\"unit\": 1,", fragment, StringComparison.Ordinal)
            : ValidConfig(dir.File("data")).Replace("\"pollIntervalSeconds\": 1,", fragment.Contains("pollIntervalSeconds\"", StringComparison.Ordinal) ? fragment : "\"pollIntervalSeconds\": 1," + fragment, StringComparison.Ordinal);
        await File.WriteAllTextAsync(config, json);

        var (code, _, stderr) = await CliRunner.RunAsync("run", "--config", config);

        Assert.Equal(2, code);
        Assert.Single(stderr.TrimEnd('\n').Split('\n'));
        Assert.Contains(expected, stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Missing_config_file_exits_2()
    {
        var (code, _, stderr) = await CliRunner.RunAsync("run", "--config", "/nonexistent/edgemeter.json");
        Assert.Equal(2, code);
        Assert.Equal("edgemeter: /nonexistent/edgemeter.json: configuration file not found\n", stderr);
    }

    [Fact]
    public void Validator_accepts_the_defaults_plus_one_meter()
    {
        var options = new AgentOptions
        {
            Meters = [new MeterOptions { Id = "m1", Endpoint = "tcp://127.0.0.1:502", Unit = 1, Map = "eastron-sdm630" }],
        };
        Assert.Empty(AgentOptionsValidator.Validate(options, requireMeters: true));
    }

    [Fact]
    public void Validator_reports_duplicate_meter_ids_and_half_configured_mtls()
    {
        var options = new AgentOptions
        {
            Meters =
            [
                new MeterOptions { Id = "m1", Endpoint = "tcp://a:502", Unit = 1, Map = "x" },
                new MeterOptions { Id = "m1", Endpoint = "tcp://a:502", Unit = 2, Map = "x" },
            ],
            Mqtt = new MqttOptions { Broker = "mqtts://broker:8883", CertFile = "/etc/hostname" },
        };
        var errors = AgentOptionsValidator.Validate(options, requireMeters: true).Select(e => e.ToString()).ToList();
        Assert.Equal(["meters[1].id: duplicate meter id 'm1'", "mqtt.keyFile: certFile and keyFile go together for mutual TLS"], errors);
    }

    [Fact]
    public void The_shipped_example_configuration_is_valid()
    {
        var root = AppContext.BaseDirectory;
        while (!File.Exists(Path.Combine(root, "EdgeMeter.sln")))
            root = Path.GetDirectoryName(root)!;
        var path = Path.Combine(root, "hardware", "edgemeter.example.json");
        // The CA file names a path on a gateway; everything else is checked as written.
        var configuration = ConfigLoader.Build(path, new Dictionary<string, string?> { ["Mqtt:CaFile"] = "" });

        var options = ConfigLoader.Load(configuration, path, requireMeters: true,
            e => EdgeMeter.Protocols.Modbus.ModbusEndpoint.TryParse(e, out _) ? null : "bad endpoint",
            EdgeMeter.Agent.Hosting.RegisterMaps.Check);

        Assert.Equal(2, options.Meters.Count);
        Assert.Equal(EdgeMeter.Crypto.Records.EnergySource.Pv, options.Meters[1].Source);
        Assert.Equal(15, options.Storage.CommitIntervalSeconds);
        Assert.Equal("mqtts://ledger.example.net:8883", options.Mqtt.Broker);
    }
}
