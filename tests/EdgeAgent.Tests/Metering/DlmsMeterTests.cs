using EdgeMeter.Agent.Configuration;
using EdgeMeter.Agent.Hosting;
using EdgeMeter.Agent.Tests.Support;
using EdgeMeter.Protocols.Dlms;
using EdgeMeter.Protocols.Dlms.Simulator;
using Microsoft.Extensions.Logging.Abstractions;

namespace EdgeMeter.Agent.Tests.Metering;

public sealed class DlmsMeterTests
{
    private const string Ek = "000102030405060708090A0B0C0D0E0F";
    private const string Ak = "D0D1D2D3D4D5D6D7D8D9DADBDCDDDEDF";

    private static DlmsMeterOptions Hls(string ek = Ek) => new()
    {
        Client = 1,
        Authentication = "hls-gmac",
        BlockCipherKey = ek,
        AuthenticationKey = Ak,
        SystemTitle = "4544474D45544552",
    };

    [Fact]
    public async Task Dlms_meters_are_polled_signed_and_stored_beside_a_dead_one_whose_breaker_opens()
    {
        var security = new SimulatedMeterSecurity { AllowNoAuthentication = false, BlockCipherKey = Convert.FromHexString(Ek), AuthenticationKey = Convert.FromHexString(Ak) };
        await using var server = DlmsSimulatorServer.Start(SimulatedDlmsMeter.Typical(security, wattHoursPerHour: 1200), DlmsFraming.Wrapper);
        using var dir = new TempDir();
        var options = new AgentOptions
        {
            DataDirectory = dir.Path,
            Http = new HttpOptions { Url = "" },
            Storage = new StorageOptions { CommitIntervalSeconds = 0 },
            Meters =
            [
                new MeterOptions { Id = "live", Endpoint = $"tcp://127.0.0.1:{server.Port}", Protocol = "dlms", Dlms = Hls(), TimeoutMs = 5000 },
                new MeterOptions { Id = "wrong-key", Endpoint = $"tcp://127.0.0.1:{server.Port}", Protocol = "dlms", Dlms = Hls("FF" + Ek[2..]), TimeoutMs = 5000 },
            ],
        };
        Assert.Empty(AgentOptionsValidator.Validate(options, requireMeters: true));
        await using (var agent = new AgentRuntime(options, NullLoggerFactory.Instance, displayMirror: TextWriter.Null))
        {
            for (var i = 0; i < 4; i++)
                await agent.Poller.PollOnceAsync(CancellationToken.None);

            var status = agent.Current;
            var live = status.Meters.Single(m => m.MeterId == "live");
            var refused = status.Meters.Single(m => m.MeterId == "wrong-key");
            Assert.True(live.Online);
            Assert.Equal(1200.0m, live.ActivePowerW);
            Assert.Equal("closed", live.Breaker);
            Assert.False(refused.Online);
            Assert.Equal("open", refused.Breaker);
            Assert.Equal(12, status.Counters.Stored);
        }

        // The client counter survives the restart in the data directory and moved past what this run used.
        string[] counter = File.ReadAllText(Path.Combine(dir.Path, "dlms-live.ic")).Split(' ');
        Assert.True(uint.Parse(counter[0], System.Globalization.CultureInfo.InvariantCulture) >= 32);
        Assert.NotEqual("-", counter[1].Trim());
    }

    [Fact]
    public void Dlms_options_are_validated_without_echoing_secrets()
    {
        var options = new AgentOptions
        {
            DataDirectory = "/var/lib/edgemeter",
            Meters =
            [
                new MeterOptions
                {
                    Id = "m", Endpoint = "udp://x", Protocol = "dlms",
                    Dlms = new DlmsMeterOptions { Authentication = "hls-gmac", BlockCipherKey = "SECRET-NOT-HEX", AuthenticationKey = Ak, SystemTitle = "01" },
                },
                new MeterOptions { Id = "n", Endpoint = "tcp://127.0.0.1:4059", Protocol = "iec" },
            ],
        };

        var errors = AgentOptionsValidator.Validate(options, requireMeters: true).Select(e => e.ToString()).ToList();

        Assert.Contains(errors, e => e.Contains("meters[0].endpoint", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.Contains("meters[0].dlms.blockCipherKey: must be 32 hex digits for hls-gmac", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.Contains("meters[0].dlms.systemTitle: must be 16 hex digits", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.Contains("meters[1].protocol", StringComparison.Ordinal));
        Assert.DoesNotContain(errors, e => e.Contains("SECRET", StringComparison.Ordinal));
    }

    [Fact]
    public void A_dlms_meter_binds_from_the_configuration_file_with_the_password_from_an_override()
    {
        using var dir = new TempDir();
        string path = Path.Combine(dir.Path, "edgemeter.json");
        File.WriteAllText(path, $$"""
            { "dataDirectory": "{{dir.Path}}",
              "meters": [ { "id": "utility", "endpoint": "serial:///dev/ttyUSB1?baud=9600", "protocol": "dlms", "source": "GridImport",
                            "dlms": { "transport": "hdlc", "client": 17, "server": 1, "physicalAddress": 17, "authentication": "low",
                                      "obis": { "active_power": "1.0.16.7.0.255" } } } ] }
            """);

        // EDGEMETER_Meters__0__Dlms__Password in the service's environment arrives as this key.
        var configuration = ConfigLoader.Build(path, new Dictionary<string, string?> { ["Meters:0:Dlms:Password"] = "from-env" });
        var options = ConfigLoader.Load(configuration, path, requireMeters: true);

        var meter = Assert.Single(options.Meters);
        Assert.True(DlmsMeterOptions.IsDlms(meter));
        Assert.Equal(("hdlc", 17, 17, "low", "from-env"), (meter.Dlms.Transport, meter.Dlms.Client, meter.Dlms.PhysicalAddress, meter.Dlms.Authentication, meter.Dlms.Password));
        Assert.Equal("1.0.16.7.0.255", DlmsQuantities.ObisOf(meter, "active_power"));
        Assert.Equal("1.0.1.8.0.255", DlmsQuantities.ObisOf(meter, "import_active_energy"));
    }
}
