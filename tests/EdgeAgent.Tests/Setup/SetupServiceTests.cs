using System.Text.Json;
using EdgeMeter.Agent.Configuration;
using EdgeMeter.Agent.Metering;
using EdgeMeter.Agent.Setup;
using EdgeMeter.Agent.Tests.Support;
using EdgeMeter.Crypto.Records;
using EdgeMeter.Protocols.Dlms;
using EdgeMeter.Protocols.Dlms.Simulator;
using Microsoft.Extensions.Logging.Abstractions;
using Xunit;

namespace EdgeMeter.Agent.Tests.Setup;

public sealed class SetupServiceTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("edgemeter-setup-").FullName;
    private readonly string _path;

    public SetupServiceTests()
    {
        _path = Path.Combine(_dir, "edgemeter.json");
        File.WriteAllText(_path, $$"""
            {
              // The installer's comment and hand-written keys must survive an edit.
              "dataDirectory": "{{_dir}}",
              "meters": [
                { "id": "grid", "endpoint": "tcp://127.0.0.1:1502", "unit": 1, "map": "eastron-sdm630", "source": "GridImport", "record": ["active_power"] }
              ],
              "mqtt": { "broker": "mqtt://127.0.0.1:1883", "password": "secret" },
              "display": { "rows": 4, "columns": 20 }
            }
            """);
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private SetupService Create()
    {
        var options = ConfigLoader.Load(ConfigLoader.Build(_path), _path, requireMeters: true, MeterEndpoints.Check, EdgeMeter.Agent.Hosting.RegisterMaps.Check);
        return new SetupService(_path, options, requireMeters: true, MeterEndpoints.Check, NullLogger<SetupService>.Instance);
    }

    private static MeterSetup Pv(string endpoint, int unit = 7) => new()
    {
        Id = "pv-garage", Endpoint = endpoint, Unit = unit, Map = "eastron-sdm630", Source = EnergySource.Pv, TimeoutMs = 500,
    };

    [Fact]
    public async Task Test_read_shows_the_meters_live_values_and_saves_nothing()
    {
        await using var meter = SimulatedMeter.Start(7, ("active_power", 1234.5m), ("import_active_energy", 4321000m));
        var before = File.ReadAllBytes(_path);
        var setup = Create();

        var result = await setup.TestReadAsync(Pv(meter.Endpoint), CancellationToken.None);

        Assert.True(result.Ok, result.Error);
        Assert.Equal(1234.5m, result.Values.Single(v => v.Quantity == "active_power").Value);
        Assert.Equal("W", result.Values.Single(v => v.Quantity == "active_power").Unit);
        Assert.Equal(4321000m, result.Values.Single(v => v.Quantity == "import_active_energy").Value);
        Assert.Equal(before, File.ReadAllBytes(_path));
    }

    [Fact]
    public async Task Test_read_of_a_silent_unit_gives_one_clear_error()
    {
        await using var meter = SimulatedMeter.Start(7, ("active_power", 1m));
        var setup = Create();

        var result = await setup.TestReadAsync(Pv(meter.Endpoint, unit: 9) with { TimeoutMs = 200 }, CancellationToken.None);

        Assert.False(result.Ok);
        Assert.StartsWith(meter.Endpoint.Replace("tcp://", "", StringComparison.Ordinal), result.Error!.Replace("tcp://", "", StringComparison.Ordinal), StringComparison.Ordinal);
        Assert.Empty(result.Values);
    }

    [Fact]
    public void Saving_a_meter_writes_the_file_atomically_keeps_other_keys_and_announces_it()
    {
        var setup = Create();
        AgentOptions? announced = null;
        setup.Changed += o => announced = o;

        var outcome = setup.SaveMeter(Pv("tcp://127.0.0.1:1503"));

        Assert.True(outcome.Ok);
        Assert.False(File.Exists(_path + ".tmp"));
        using var doc = JsonDocument.Parse(File.ReadAllText(_path));
        var meters = doc.RootElement.GetProperty("meters");
        Assert.Equal(2, meters.GetArrayLength());
        Assert.Equal("active_power", meters[0].GetProperty("record")[0].GetString());
        Assert.Equal("pv-garage", meters[1].GetProperty("id").GetString());
        Assert.Equal("Pv", meters[1].GetProperty("source").GetString());
        Assert.Equal(7, meters[1].GetProperty("unit").GetInt32());
        Assert.Equal(4, doc.RootElement.GetProperty("display").GetProperty("rows").GetInt32());
        Assert.Equal("secret", doc.RootElement.GetProperty("mqtt").GetProperty("password").GetString());
        Assert.NotNull(announced);
        Assert.Equal(["grid", "pv-garage"], announced.Meters.Select(m => m.Id));
        Assert.Same(announced, setup.Current);
        // What was written loads back through the start-up path.
        Assert.Equal(2, Create().Current.Meters.Count);
    }

    [Fact]
    public void Saving_the_same_id_replaces_that_meter()
    {
        var setup = Create();
        setup.SaveMeter(Pv("tcp://127.0.0.1:1503"));

        Assert.True(setup.SaveMeter(Pv("tcp://127.0.0.1:1504", unit: 3)).Ok);

        Assert.Equal(2, setup.Current.Meters.Count);
        Assert.Equal(("tcp://127.0.0.1:1504", 3), (setup.Current.Meters[1].Endpoint, setup.Current.Meters[1].Unit));
    }

    [Theory]
    [InlineData("tcp://127.0.0.1:1503", 0, "eastron-sdm630", 500, "meters[1].unit", "must be 1..247 (got 0)")]
    [InlineData("tcp://127.0.0.1:1503", 1, "no-such-map", 500, "meters[1].map", "no built-in register map")]
    [InlineData("ftp://127.0.0.1:1503", 1, "eastron-sdm630", 500, "meters[1].endpoint", "")]
    [InlineData("tcp://127.0.0.1:1503", 1, "eastron-sdm630", 5, "meters[1].timeoutMs", "must be 20..60000 (got 5)")]
    public void Invalid_meter_is_refused_with_the_config_files_rule_and_nothing_is_written(string endpoint, int unit, string map, int timeoutMs, string key, string reason)
    {
        var setup = Create();
        var before = File.ReadAllBytes(_path);
        bool announced = false;
        setup.Changed += _ => announced = true;

        var outcome = setup.SaveMeter(Pv(endpoint, unit) with { Map = map, TimeoutMs = timeoutMs });

        Assert.False(outcome.Ok);
        Assert.Equal(key, outcome.Errors[0].Key);
        Assert.StartsWith(reason, outcome.Errors[0].Reason, StringComparison.Ordinal);
        Assert.Equal(before, File.ReadAllBytes(_path));
        Assert.False(announced);
        Assert.Single(setup.Current.Meters);
    }

    [Fact]
    public void Removing_the_last_meter_is_refused_like_an_empty_config_file()
    {
        var setup = Create();

        var outcome = setup.RemoveMeter("grid");

        Assert.Equal(new ConfigError("meters", "at least one meter is required"), outcome.Errors.Single());
    }

    private const string BlockKey = "000102030405060708090A0B0C0D0E0F";
    private const string AuthKey = "D0D1D2D3D4D5D6D7D8D9DADBDCDDDEDF";

    private static DlmsSimulatorServer DlmsMeter(SimulatedMeterSecurity security) =>
        DlmsSimulatorServer.Start(SimulatedDlmsMeter.Typical(security, wattHoursPerHour: 4321), DlmsFraming.Wrapper);

    private static MeterSetup Dlms(DlmsSimulatorServer server, DlmsSetup association) => new()
    {
        Id = "flat-dlms", Protocol = "dlms", Endpoint = $"tcp://127.0.0.1:{server.Port}", Source = EnergySource.GridImport, TimeoutMs = 2000,
        Dlms = association,
    };

    [Fact]
    public async Task Dlms_test_read_with_low_security_shows_the_meters_scaled_values_and_saves_nothing()
    {
        await using var server = DlmsMeter(new SimulatedMeterSecurity { AllowNoAuthentication = false, Password = "12345678"u8.ToArray() });
        var before = File.ReadAllBytes(_path);
        var setup = Create();

        var result = await setup.TestReadAsync(Dlms(server, new DlmsSetup
        {
            Client = 17, Auth = "low", Password = "12345678", Obis = ["1.0.1.8.0.255", "1.0.1.7.0.255", "1.0.32.7.0.255"],
        }), CancellationToken.None);

        Assert.True(result.Ok, result.Error);
        // The simulator's power register is 43210 with scaler -1 W; its voltage 2300..2306 with scaler -1 V.
        Assert.Equal(["active_power", "import_active_energy", "voltage_l1"], result.Values.Select(v => v.Quantity));
        Assert.Equal(new TestValue("active_power", 4321.0m, "W"), result.Values[0]);
        Assert.Equal("Wh", result.Values[1].Unit);
        Assert.True(result.Values[1].Value > 5_000_000m, result.Values[1].Value.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Assert.InRange(result.Values[2].Value, 230.0m, 230.6m);
        Assert.Equal("V", result.Values[2].Unit);
        Assert.Equal(before, File.ReadAllBytes(_path));
    }

    [Fact]
    public async Task Dlms_test_read_with_a_wrong_password_is_a_clear_refusal_never_a_value_and_never_the_password()
    {
        await using var server = DlmsMeter(new SimulatedMeterSecurity { AllowNoAuthentication = false, Password = "12345678"u8.ToArray() });
        var setup = Create();

        var result = await setup.TestReadAsync(Dlms(server, new DlmsSetup { Client = 17, Auth = "low", Password = "wrong-pw-77", Obis = ["1.0.1.8.0.255"] }), CancellationToken.None);

        Assert.False(result.Ok);
        Assert.Empty(result.Values);
        Assert.Equal("dlms_refused", result.Code);
        Assert.StartsWith($"tcp://127.0.0.1:{server.Port}: the meter refused the association", result.Error, StringComparison.Ordinal);
        Assert.DoesNotContain("wrong-pw-77", result.Error, StringComparison.Ordinal);
        Assert.DoesNotContain(result.Args, a => a.Value.Contains("wrong-pw-77", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Dlms_meter_with_hls_gmac_is_test_read_then_saved_validated_like_the_file_and_announced()
    {
        await using var server = DlmsMeter(new SimulatedMeterSecurity { AllowNoAuthentication = false, BlockCipherKey = Convert.FromHexString(BlockKey), AuthenticationKey = Convert.FromHexString(AuthKey) });
        var setup = Create();
        AgentOptions? announced = null;
        setup.Changed += o => announced = o;
        var meter = Dlms(server, new DlmsSetup
        {
            Client = 1, Auth = "hls-gmac", BlockKey = BlockKey, AuthKey = AuthKey, SystemTitle = "4544474D45544552",
            Obis = ["1.0.1.8.0.255", "1.0.2.8.0.255", "1.0.1.7.0.255"],
        });

        var badKey = setup.SaveMeter(meter with { Dlms = meter.Dlms! with { AuthKey = "short" } });
        var read = await setup.TestReadAsync(meter, CancellationToken.None);
        var save = setup.SaveMeter(meter);

        Assert.Equal(new ConfigError("meters[].dlms.authKey", "must be 32 hex digits"), badKey.Errors.Single());
        Assert.True(read.Ok, read.Error);
        Assert.Equal(12_345m, read.Values.Single(v => v.Quantity == "export_active_energy").Value);
        // The test read drew its invocation counter from the meter's own counter file, as the poller will.
        Assert.True(File.Exists(Path.Combine(_dir, "dlms-flat-dlms.ic")));
        Assert.True(save.Ok, string.Join("; ", save.Errors));
        var saved = announced!.Meters.Single(m => m.Id == "flat-dlms");
        Assert.True(DlmsMeterOptions.IsDlms(saved));
        Assert.Equal(("hls-gmac", 1, BlockKey, AuthKey), (saved.Dlms.Authentication, saved.Dlms.Client, saved.Dlms.BlockCipherKey, saved.Dlms.AuthenticationKey));
        Assert.Equal(["import_active_energy", "export_active_energy", "active_power"], saved.Record);
        Assert.Equal(["grid", "flat-dlms"], setup.Current.Meters.Select(m => m.Id));
        // A password the page sends for low security is refused when missing, by the file's own rule.
        Assert.Equal("meters[1].dlms.password: is required for low authentication",
            setup.SaveMeter(meter with { Dlms = meter.Dlms! with { Auth = "low" } }).Errors.Single().ToString());
        using var file = JsonDocument.Parse(File.ReadAllBytes(_path));
        var entry = file.RootElement.GetProperty("meters")[1];
        Assert.Equal("dlms", entry.GetProperty("protocol").GetString());
        Assert.False(entry.TryGetProperty("map", out _));
        Assert.Equal("hls-gmac", entry.GetProperty("dlms").GetProperty("authentication").GetString());

        // Saved again without the keys (the page never gets them back): the stored ones stay.
        var again = setup.SaveMeter(meter with { TimeoutMs = 3000, Dlms = meter.Dlms! with { BlockKey = "", AuthKey = null } });
        Assert.True(again.Ok, string.Join("; ", again.Errors));
        Assert.Equal((3000, BlockKey, AuthKey), (setup.Current.Meters[1].TimeoutMs, setup.Current.Meters[1].Dlms.BlockCipherKey, setup.Current.Meters[1].Dlms.AuthenticationKey));
    }

    [Theory]
    [InlineData("FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF", AuthKey)]
    [InlineData(BlockKey, "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF")]
    public async Task Dlms_test_read_with_a_wrong_hls_key_is_a_refusal_not_a_value(string blockKey, string authKey)
    {
        await using var server = DlmsMeter(new SimulatedMeterSecurity { AllowNoAuthentication = false, BlockCipherKey = Convert.FromHexString(BlockKey), AuthenticationKey = Convert.FromHexString(AuthKey) });
        var setup = Create();

        var result = await setup.TestReadAsync(Dlms(server, new DlmsSetup
        {
            Client = 1, Auth = "hls-gmac", BlockKey = blockKey, AuthKey = authKey, SystemTitle = "4544474D45544552", Obis = ["1.0.1.8.0.255"],
        }), CancellationToken.None);

        Assert.False(result.Ok);
        Assert.Empty(result.Values);
        Assert.Equal("dlms_refused", result.Code);
        Assert.DoesNotContain("FFFFFFFF", result.Error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("1.0.99.1.0.255", "obis_not_recorded")]
    [InlineData("1.0.1.8.0.255:2", "obis_invalid")]
    [InlineData("1.0.16.7.0.255 1.0.1.7.0.255", "obis_twice")]
    public void Dlms_registers_must_be_quantities_the_agent_records(string obis, string code)
    {
        var setup = Create();
        var meter = new MeterSetup
        {
            Id = "flat-dlms", Protocol = "dlms", Endpoint = "tcp://127.0.0.1:4059",
            Dlms = new DlmsSetup { Auth = "none", Obis = obis.Split(' ') },
        };
        var before = File.ReadAllBytes(_path);

        var outcome = setup.SaveMeter(meter);

        Assert.Equal("meters[].dlms.obis", outcome.Errors.Single().Key);
        Assert.Equal(code, ConfigErrorCodes.Classify(outcome.Errors.Single()).Code);
        Assert.Equal(before, File.ReadAllBytes(_path));
    }

    [Fact]
    public void Dlms_net_power_register_is_recorded_as_active_power_with_its_override()
    {
        var setup = Create();

        var outcome = setup.SaveMeter(new MeterSetup
        {
            Id = "flat-dlms", Protocol = "dlms", Endpoint = "tcp://127.0.0.1:4059",
            Dlms = new DlmsSetup { Auth = "none", Obis = ["1.0.1.8.0.255", "1.0.16.7.0.255"] },
        });

        Assert.True(outcome.Ok, string.Join("; ", outcome.Errors));
        var saved = setup.Current.Meters.Single(m => m.Id == "flat-dlms");
        Assert.Equal(["import_active_energy", "active_power"], saved.Record);
        Assert.Equal("1.0.16.7.0.255", DlmsQuantities.ObisOf(saved, "active_power"));
        Assert.Equal("1.0.1.8.0.255", DlmsQuantities.ObisOf(saved, "import_active_energy"));
    }

    [Fact]
    public void Uplink_password_is_kept_when_not_sent_and_never_needed_back()
    {
        var setup = Create();

        Assert.True(setup.SaveUplink(new UplinkSetup("mqtts://ledger.example:8883", "gw-1", null, "311")).Ok);

        Assert.Equal(("mqtts://ledger.example:8883", "gw-1", "secret", "311"),
            (setup.Current.Mqtt.Broker, setup.Current.Mqtt.Username, setup.Current.Mqtt.Password, setup.Current.Mqtt.Protocol));
        var bad = setup.SaveUplink(new UplinkSetup("http://ledger.example", null, null, "5"));
        Assert.Equal("mqtt.broker", bad.Errors.Single().Key);
    }

    [Fact]
    public async Task Uplink_test_connects_to_a_real_broker_and_reports_a_dead_one()
    {
        await using var broker = await EdgeMeter.Agent.Sync.EmbeddedBroker.StartAsync();
        var setup = Create();

        var ok = await setup.TestUplinkAsync(new UplinkSetup(broker.Url, null, null, "5"), CancellationToken.None);
        await broker.DisposeAsync();
        var down = await setup.TestUplinkAsync(new UplinkSetup(broker.Url, null, null, "5"), CancellationToken.None);

        Assert.True(ok.Ok, ok.Error);
        Assert.Equal("MQTT 5", ok.Detail);
        Assert.False(down.Ok);
        Assert.StartsWith(broker.Url, down.Error, StringComparison.Ordinal);
        Assert.Equal("refused", down.Code);
        Assert.Equal(KeyValuePair.Create("endpoint", broker.Url), down.Args.Single());
    }

    [Fact]
    public async Task Test_read_of_a_port_where_nothing_listens_is_a_refused_connection()
    {
        var setup = Create();
        using var probe = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        probe.Start();
        var port = ((System.Net.IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();

        var result = await setup.TestReadAsync(Pv($"tcp://127.0.0.1:{port}"), CancellationToken.None);

        Assert.Equal("refused", result.Code);
        Assert.Equal(KeyValuePair.Create("endpoint", $"tcp://127.0.0.1:{port}"), result.Args.Single());
        Assert.Empty(result.Values);
    }

    [Fact]
    public void Ca_upload_is_stored_owner_only_and_configured_and_garbage_is_refused()
    {
        var setup = Create();
        using var key = System.Security.Cryptography.ECDsa.Create();
        var request = new System.Security.Cryptography.X509Certificates.CertificateRequest("CN=test-ca", key, System.Security.Cryptography.HashAlgorithmName.SHA256);
        using var ca = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30));

        var outcome = setup.SaveUplinkFile(UplinkFileKind.Ca, ca.ExportCertificatePem());
        var garbage = setup.SaveUplinkFile(UplinkFileKind.Ca, "hello");

        Assert.True(outcome.Ok);
        var stored = Path.Combine(_dir, "uplink", "ca.pem");
        Assert.Equal(stored, setup.Current.Mqtt.CaFile);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(stored));
        Assert.Equal(new ConfigError("mqtt.caFile", "not a PEM file"), garbage.Errors.Single());
    }

    [Fact]
    public void Time_zone_must_be_a_known_zone()
    {
        var setup = Create();

        Assert.True(setup.SaveTimeZone("Asia/Shanghai").Ok);
        var bad = setup.SaveTimeZone("Mars/Olympus");

        Assert.Equal("Asia/Shanghai", setup.Current.TimeZone);
        Assert.Equal("timeZone", bad.Errors.Single().Key);
    }
}
