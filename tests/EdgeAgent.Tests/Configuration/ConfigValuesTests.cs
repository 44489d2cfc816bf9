using System.Collections;
using System.Text;
using System.Text.RegularExpressions;
using CsCheck;
using EdgeMeter.Agent.Configuration;

namespace EdgeMeter.Agent.Tests.Configuration;

/// <summary>
/// The configuration model that replaced Microsoft.Extensions.Configuration and its binder: the file's JSON, then
/// <c>EDGEMETER_*</c> variables with <c>__</c> between sections, keys in any case, and the binder's messages.
/// </summary>
public sealed class ConfigValuesTests
{
    private const string Meter = """ "meters": [ { "id": "grid", "endpoint": "tcp://127.0.0.1:1502", "map": "eastron-sdm630" } ] """;

    private static AgentOptions Load(string json, IDictionary? environment = null)
    {
        var values = new ConfigValues();
        values.AddJson(Encoding.UTF8.GetBytes(json));
        if (environment is not null)
            values.AddEnvironment(ConfigLoader.EnvironmentPrefix, environment);
        return ConfigLoader.Load(values, "f.json", requireMeters: true);
    }

    private static string Error(string json, IDictionary? environment = null) =>
        Assert.Throws<ConfigException>(() => Load(json, environment)).Message;

    [Fact]
    public void Environment_variables_override_the_file_with_double_underscores_between_sections_and_keys_in_any_case()
    {
        var options = Load("""{ "MQTT": { "broker": "mqtt://a:1883", "password": "file" }, "pollintervalseconds": 2, """ + Meter + " }",
            new Hashtable
            {
                ["EDGEMETER_Mqtt__Password"] = "from-env",
                ["edgemeter_METERS__0__UNIT"] = "7",
                ["EDGEMETER_Meters__0__Dlms__Obis__active_power"] = "1.0.16.7.0.255",
                ["EDGEMETER_Http__AllowedHosts__0"] = "gateway.example",
                ["OTHER_Mqtt__Password"] = "ignored",
            });

        Assert.Equal(("mqtt://a:1883", "from-env", 2.0), (options.Mqtt.Broker, options.Mqtt.Password, options.PollIntervalSeconds));
        Assert.Equal(("grid", 7, "1.0.16.7.0.255"), (options.Meters[0].Id, options.Meters[0].Unit, options.Meters[0].Dlms.Obis["active_power"]));
        Assert.Equal(["gateway.example"], options.Http.AllowedHosts);
    }

    [Fact]
    public void Values_convert_as_the_configuration_binder_converted_them()
    {
        var options = Load("""
            { "chainId": 5, "storage": { "commitIntervalSeconds": "1e1" }, "factors": { "includeCurrentInterval": " TRUE " },
              "timeZone": null, "http": { "allowedHosts": [] },
              "meters": [ { "id": "pv", "endpoint": "tcp://127.0.0.1:1502", "map": "eastron-sdm630", "unit": " +3", "source": "pv",
                            "clean": false, "record": [ "active_power", null ], "timeoutMs": 1500 }, ] // a comment
            }
            """);

        Assert.Equal((5ul, 10.0, true, null), (options.ChainId, options.Storage.CommitIntervalSeconds, options.Factors.IncludeCurrentInterval, options.TimeZone));
        var m = options.Meters[0];
        Assert.Equal((3, EdgeMeter.Crypto.Records.EnergySource.Pv, (bool?)false, 1500), (m.Unit, m.Source, m.Clean, m.TimeoutMs));
        Assert.Equal(["active_power"], m.Record);
        Assert.Equal("http://127.0.0.1:8080", options.Http.Url);
    }

    [Theory]
    [InlineData("\"unit\": 1.5", "f.json: meters[0].unit: must be a whole number (got '1.5')")]
    [InlineData("\"clean\": \"yes\"", "f.json: meters[0].clean: must be true or false (got 'yes')")]
    [InlineData("\"source\": \"sun\"", "f.json: meters[0].source: must be one of GridImport, GridExport, Pv, Battery, Wind, Chp, Heat, Other (got 'sun')")]
    [InlineData("\"Unitt\": 1", "f.json: meters[].Unitt: unknown key (misspelt?)")]
    [InlineData("\"dlms\": { \"clinet\": 1 }", "f.json: meters[].dlms.clinet: unknown key (misspelt?)")]
    public void A_meter_value_that_does_not_bind_is_one_line_naming_its_key(string fragment, string expected)
    {
        var json = """{ "meters": [ { "id": "grid", "endpoint": "tcp://127.0.0.1:1502", "map": "eastron-sdm630", """ + fragment + " } ] }";
        Assert.Equal(expected, Error(json));
    }

    [Theory]
    [InlineData("{ \"pollIntervalSeconds\": \"1,5\", " + Meter + " }", "f.json: pollIntervalSeconds: must be a number (got '1,5')")]
    [InlineData("{ \"chainId\": -1, " + Meter + " }", "f.json: chainId: must be a whole number (got '-1')")]
    [InlineData("{ \"zeta\": null, \"alpha\": 1, " + Meter + " }", "f.json: alpha', 'zeta: unknown key (misspelt?)")]
    [InlineData("{ \"mqtt\": { \"brokr\": \"x\" }, " + Meter + " }", "f.json: mqtt.brokr: unknown key (misspelt?)")]
    [InlineData("{ \"factors\": { \"interval\": 5 }, " + Meter + " }", "f.json: factors.interval: unknown key (misspelt?)")]
    [InlineData("{ \"display\": { \"pins\": { \"d8\": 1 } }, " + Meter + " }", "f.json: display.pins.d8: unknown key (misspelt?)")]
    public void Each_section_reports_its_first_problem_with_the_key_path(string json, string expected) =>
        Assert.Equal(expected, Error(json));

    [Fact]
    public void An_environment_value_that_does_not_convert_names_the_key_as_the_file_would()
    {
        Assert.Equal("f.json: mqtt.batchMaxRecords: must be a whole number (got 'many')",
            Error("{ " + Meter + " }", new Hashtable { ["EDGEMETER_Mqtt__BatchMaxRecords"] = "many" }));
    }

    [Theory]
    [InlineData("{ \"a\": 1, \"A\": 2 }", "A duplicate key 'A' was found.")]
    [InlineData("{ \"mqtt\": { \"broker\": 1, \"Broker\": 2 } }", "A duplicate key 'mqtt:Broker' was found.")]
    [InlineData("[1, 2]", "Top-level JSON element must be an object. Instead, 'Array' was found.")]
    [InlineData("{ \"meters\": [ }", "Could not parse the JSON file.")]
    [InlineData("", "Could not parse the JSON file.")]
    public void Json_that_is_no_configuration_is_one_line(string json, string expected) =>
        Assert.Equal(expected, Assert.Throws<ConfigException>(() => new ConfigValues().AddJson(Encoding.UTF8.GetBytes(json))).Message);

    [Fact]
    public void A_bare_value_where_a_section_belongs_is_ignored_as_the_binder_ignored_it()
    {
        var options = Load("{ \"mqtt\": \"x\", \"display\": 3, " + Meter + " }");
        Assert.Equal(("", 16), (options.Mqtt.Broker, options.Display.Columns));
    }

    // The shapes ConfigErrorCodes and the validators used to match with regular expressions, now written out: on
    // reasons built from the pieces those shapes are made of, both give the same answer.
    [Fact]
    public void The_written_out_reason_shapes_agree_with_the_regular_expressions_they_replaced()
    {
        var piece = Gen.OneOfConst("must be ", "1", "-2", "..", " (got ", "'", ")", "x", " ", "mqtt://", "host:port", " or ", "hex digits",
            "1-64 characters of ", "duplicate meter id ", " is not a register the agent records", " is a second register for ",
            " is not an OBIS code", "unknown time zone ", "file not found: ", "expected a", "n", ", got ", "://", "ab");
        var reasons = Gen.Int[0, 8].SelectMany(n => piece.Array[n]).Select(p => string.Concat(p));
        (string Code, string Args) Classify(string reason)
        {
            var (code, args) = ConfigErrorCodes.Classify(new ConfigError("k", reason));
            return (code, string.Join(' ', args.Select(a => a.Key + "=" + a.Value)));
        }

        reasons.Sample(reason => Assert.Equal(ByRegex(reason), Classify(reason)), iter: 20_000);

        Assert.True(TextShapes.IsDottedObis("1.0.1.8.0.255"));
        Assert.False(TextShapes.IsDottedObis("1.0.1.8.0.2555"));
        Assert.False(TextShapes.IsDottedObis("1.0.1.8.0"));
        Assert.True(TextShapes.IsMeterId("grid-1.a_b"));
        Assert.False(TextShapes.IsMeterId("a b"));
        Assert.False(TextShapes.IsMeterId(new string('a', 65)));
        Assert.True(TextShapes.IsHex("00ff00FF00ff00FF", 16));
        Assert.False(TextShapes.IsHex("00ff00FF00ff00FG", 16));
    }

    // The classifier as it was, with its regular expressions, for the comparison above.
    private static (string Code, string Args) ByRegex(string reason)
    {
        static string Args(params (string K, Group G)[] args) => string.Join(' ', args.Select(a => a.K + "=" + a.G.Value));
        Match m;
        if ((m = Regex.Match(reason, @"^must be (-?\d+)\.\.(-?\d+)(?: \(got (.*)\))?$")).Success)
            return ("range", Args(("min", m.Groups[1]), ("max", m.Groups[2]), ("got", m.Groups[3])));
        if ((m = Regex.Match(reason, @"^must be (\d+) hex digits")).Success)
            return ("hex", Args(("digits", m.Groups[1])));
        if (reason.StartsWith("is required", StringComparison.Ordinal))
            return ("required", "");
        if ((m = Regex.Match(reason, @"^must be 1-64 characters of .* \(got '(.*)'\)$")).Success)
            return ("id_format", Args(("got", m.Groups[1])));
        if ((m = Regex.Match(reason, @"^duplicate meter id '(.*)'$")).Success)
            return ("duplicate_id", Args(("got", m.Groups[1])));
        if (reason == "at least one meter is required")
            return ("meter_required", "");
        if ((m = Regex.Match(reason, @"^must be ([a-z]+://)host:port or ([a-z]+://)host:port \(got '(.*)'\)$")).Success)
            return ("url_format", Args(("a", m.Groups[1]), ("b", m.Groups[2]), ("got", m.Groups[3])));
        if ((m = Regex.Match(reason, @"^'(.*)' is not a register the agent records")).Success)
            return ("obis_not_recorded", Args(("got", m.Groups[1])));
        if ((m = Regex.Match(reason, @"^'(.*)' is a second register for ")).Success)
            return ("obis_twice", Args(("got", m.Groups[1])));
        if ((m = Regex.Match(reason, @"^'(.*)' is not an OBIS code")).Success)
            return ("obis_invalid", Args(("got", m.Groups[1])));
        if ((m = Regex.Match(reason, @"^must be .* \(got '(.*)'\)$")).Success)
            return ("one_of", Args(("got", m.Groups[1])));
        if ((m = Regex.Match(reason, @"^unknown time zone '(.*)'")).Success)
            return ("unknown_time_zone", Args(("got", m.Groups[1])));
        if ((m = Regex.Match(reason, @"^file not found: (.*)$")).Success)
            return ("file_not_found", Args(("got", m.Groups[1])));
        if ((m = Regex.Match(reason, @"^expected an? .*, got '(.*)'$")).Success)
            return ("pem_kind", Args(("got", m.Groups[1])));
        return ("invalid", "");
    }
}
