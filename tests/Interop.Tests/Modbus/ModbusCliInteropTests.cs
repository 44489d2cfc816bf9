using System.Globalization;
using System.Text;
using System.Text.Json;
using EdgeMeter.Protocols.Modbus;
using Xunit;

namespace EdgeMeter.Interop.Tests.Modbus;

/// <summary>
/// <c>edgemeter read modbus</c> / <c>scan modbus</c> against libmodbus (not our code) over TCP and over RTU on a
/// socat pty pair. Register contents are written as raw words here, independently of our encoder.
/// </summary>
public sealed class ModbusCliInteropTests : IAsyncLifetime
{
    private const byte Unit = 17;
    private string _dir = "";
    private string _mapFile = "";

    // The map under test: float32, int32 with swapped words, scaled int16, uint32 input registers, an exception register.
    private const string MapJson = """
        {
          "name": "interop-test",
          "maxRegistersPerRequest": 125,
          "maxGapRegisters": 10,
          "registers": [
            { "quantity": "voltage_l1", "address": 0, "function": 3, "type": "float32", "unit": "V", "obis": "1-0:32.7.0*255", "scaler": -1 },
            { "quantity": "frequency", "address": 2, "function": 3, "type": "float32", "unit": "Hz", "obis": "1-0:14.7.0*255", "scaler": -2 },
            { "quantity": "active_power", "address": 10, "function": 3, "type": "int32", "wordOrder": "little", "scale": 0.1, "unit": "W", "obis": "1-0:16.7.0*255", "scaler": -1 },
            { "quantity": "import_active_energy", "address": 12, "function": 3, "type": "int32", "wordOrder": "little", "unit": "Wh", "obis": "1-0:1.8.0*255", "scaler": 0 },
            { "quantity": "current_l1", "address": 20, "function": 3, "type": "int16", "scale": 0.001, "unit": "A", "obis": "1-0:31.7.0*255", "scaler": -3 },
            { "quantity": "power_factor", "address": 21, "function": 3, "type": "int16", "scale": 0.001, "unit": "", "obis": "1-0:13.7.0*255", "scaler": -3 },
            { "quantity": "voltage_l2", "address": 22, "function": 3, "type": "uint16", "scale": 0.1, "unit": "V", "obis": "1-0:52.7.0*255", "scaler": -1 },
            { "quantity": "export_active_energy", "address": 100, "function": 4, "type": "uint32", "scale": 10, "unit": "Wh", "obis": "1-0:2.8.0*255", "scaler": 0 }
          ]
        }
        """;

    private const string FaultMapJson = """
        {
          "name": "interop-fault", "maxRegistersPerRequest": 125,
          "registers": [ { "quantity": "voltage_l3", "address": 500, "function": 3, "type": "uint16", "unit": "V", "obis": "1-0:72.7.0*255", "scaler": 0 } ]
        }
        """;

    // What the CLI must print, with exactly these decimal places.
    private static readonly Dictionary<string, (string Value, string Unit)> Expected = new()
    {
        ["voltage_l1"] = ("230.1", "V"),
        ["frequency"] = ("49.98", "Hz"),
        ["active_power"] = ("-12345.6", "W"),
        ["import_active_energy"] = ("987654321", "Wh"),
        ["current_l1"] = ("5.123", "A"),
        ["power_factor"] = ("-0.950", ""),
        ["voltage_l2"] = ("230.1", "V"),
        ["export_active_energy"] = ("1234560", "Wh"),
    };

    private static string Layout()
    {
        var sb = new StringBuilder();
        sb.AppendLine(CultureInfo.InvariantCulture, $"unit {Unit}");
        void H(int address, int value) => sb.AppendLine(CultureInfo.InvariantCulture, $"h {address} {value & 0xFFFF}");
        uint v = BitConverter.SingleToUInt32Bits(230.1f);
        H(0, (int)(v >> 16));
        H(1, (int)v);
        uint f = BitConverter.SingleToUInt32Bits(49.98f);
        H(2, (int)(f >> 16));
        H(3, (int)f);
        H(10, 0x1DC0); // -123456 = 0xFFFE1DC0, low word first
        H(11, 0xFFFE);
        H(12, 0x68B1); // 987654321 = 0x3ADE68B1, low word first
        H(13, 0x3ADE);
        H(20, 5123);
        H(21, -950);
        H(22, 2301);
        sb.AppendLine("i 100 1");      // 123456 = 0x0001E240, high word first
        sb.AppendLine("i 101 57920");
        sb.AppendLine("h 500 1");
        sb.AppendLine("x 3 500 4");    // reading 500 answers exception 04 (server device failure)
        return sb.ToString();
    }

    public async Task InitializeAsync()
    {
        _dir = Directory.CreateTempSubdirectory("edgemeter-maps-").FullName;
        _mapFile = Path.Combine(_dir, "interop-test.json");
        await File.WriteAllTextAsync(_mapFile, MapJson);
        await File.WriteAllTextAsync(Path.Combine(_dir, "interop-fault.json"), FaultMapJson);
    }

    public Task DisposeAsync()
    {
        Directory.Delete(_dir, recursive: true);
        return Task.CompletedTask;
    }

    private static void AssertExactValues(string stdout)
    {
        using var doc = JsonDocument.Parse(stdout);
        var root = doc.RootElement;
        Assert.Equal(Expected.Count, root.EnumerateObject().Count());
        foreach (var (quantity, (value, unit)) in Expected)
        {
            var q = root.GetProperty(quantity);
            Assert.Equal(JsonValueKind.Number, q.GetProperty("value").ValueKind);
            Assert.Equal(value, q.GetProperty("value").GetRawText());
            Assert.Equal(unit, q.GetProperty("unit").GetString());
        }
    }

    [Fact]
    public async Task Read_modbus_over_tcp_returns_every_value_exactly()
    {
        await using var server = await LibmodbusServer.StartTcpAsync(Layout());
        var (code, stdout, stderr) = await EdgemeterCli.RunAsync("read", "modbus", "--endpoint", $"tcp://127.0.0.1:{server.Port}",
            "--unit", "17", "--map", _mapFile, "--json");
        Assert.True(code == 0, stderr);
        AssertExactValues(stdout);
    }

    [Fact]
    public async Task Read_modbus_text_output_prints_value_and_unit_per_quantity()
    {
        await using var server = await LibmodbusServer.StartTcpAsync(Layout());
        var (code, stdout, stderr) = await EdgemeterCli.RunAsync("read", "modbus", "--endpoint", $"tcp://127.0.0.1:{server.Port}",
            "--unit", "17", "--map", _mapFile);
        Assert.True(code == 0, stderr);
        var lines = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(Expected.Count, lines.Length);
        Assert.Contains(lines, l => l.StartsWith("voltage_l1", StringComparison.Ordinal) && l.EndsWith(" 230.1 V", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("power_factor", StringComparison.Ordinal) && l.EndsWith(" -0.950", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Read_modbus_over_rtu_on_a_pty_returns_every_value_exactly()
    {
        await using var pty = await SocatPtyPair.StartAsync();
        await using var server = await LibmodbusServer.StartRtuAsync(Layout(), pty.SlaveEnd, 9600);
        var (code, stdout, stderr) = await EdgemeterCli.RunAsync("read", "modbus", "--endpoint", $"serial://{pty.MasterEnd}?baud=9600&parity=N&stop=1",
            "--unit", "17", "--map", _mapFile, "--json");
        Assert.True(code == 0, stderr);
        AssertExactValues(stdout);
    }

    [Fact]
    public async Task Exception_response_is_one_line_on_stderr_and_exit_1()
    {
        await using var server = await LibmodbusServer.StartTcpAsync(Layout());
        var (code, stdout, stderr) = await EdgemeterCli.RunAsync("read", "modbus", "--endpoint", $"tcp://127.0.0.1:{server.Port}",
            "--unit", "17", "--map", Path.Combine(_dir, "interop-fault.json"));
        Assert.Equal(1, code);
        Assert.Equal("", stdout);
        string line = Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains("unit 17 answered function 0x03 with exception 0x04", line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Unit_that_never_answers_times_out_with_one_line_and_exit_1()
    {
        await using var server = await LibmodbusServer.StartTcpAsync(Layout());
        var (code, _, stderr) = await EdgemeterCli.RunAsync("read", "modbus", "--endpoint", $"tcp://127.0.0.1:{server.Port}",
            "--unit", "18", "--map", _mapFile, "--timeout", "300");
        Assert.Equal(1, code);
        string line = Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains("unit 18 did not answer within 300 ms", line, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--unit", "300", "--unit '300'")]
    [InlineData("--timeout", "soon", "--timeout 'soon'")]
    [InlineData("--endpoint", "udp://x:1", "unknown scheme")]
    public async Task Bad_argument_is_one_line_on_stderr_and_exit_2(string option, string value, string fragment)
    {
        var args = new Dictionary<string, string> { ["--endpoint"] = "tcp://127.0.0.1:1", ["--unit"] = "1", ["--map"] = "eastron-sdm630" };
        args[option] = value;
        var (code, _, stderr) = await EdgemeterCli.RunAsync(["read", "modbus", .. args.SelectMany(kv => new[] { kv.Key, kv.Value })]);
        Assert.Equal(2, code);
        Assert.Contains(fragment, Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries)), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Scan_lists_only_the_answering_unit_and_the_map_that_fits()
    {
        await using var server = await LibmodbusServer.StartTcpAsync(Layout());
        var (code, stdout, stderr) = await EdgemeterCli.RunAsync("scan", "modbus", "--endpoint", $"tcp://127.0.0.1:{server.Port}",
            "--units", "16-18", "--timeout", "200", "--maps-dir", _dir, "--json");
        Assert.True(code == 0, stderr);
        using var doc = JsonDocument.Parse(stdout);
        var unit = Assert.Single(doc.RootElement.EnumerateArray());
        Assert.Equal(17, unit.GetProperty("unit").GetInt32());
        Assert.Equal("interop-test", unit.GetProperty("map").GetString());
    }

    [Fact]
    public async Task Scheduler_on_a_real_rtu_line_keeps_reading_the_live_unit_while_the_dead_one_is_cut_off()
    {
        await using var pty = await SocatPtyPair.StartAsync();
        await using var server = await LibmodbusServer.StartRtuAsync(Layout(), pty.SlaveEnd, 19200);
        var map = RegisterMapCatalog.Parse(Encoding.UTF8.GetBytes(MapJson), "interop-test.json");
        await using var client = await ModbusClient.ConnectAsync(ModbusEndpoint.Parse($"serial://{pty.MasterEnd}?baud=19200&parity=N&stop=1"),
            ModbusClientOptions.Default, CancellationToken.None);
        using var scheduler = new ModbusBusScheduler(client);
        var options = new ModbusDeviceOptions { Timeout = TimeSpan.FromMilliseconds(300), FailureThreshold = 2, OpenDuration = TimeSpan.FromHours(1) };
        scheduler.AddDevice("dead", 18, map, options);
        // The live unit answers in ~4 ms; its longer timeout only keeps a CI machine that stalls the libmodbus peer for
        // 300 ms (seen once, load from parallel AOT publishes) from failing the test: it still must never time out.
        scheduler.AddDevice("live", Unit, map, options with { Timeout = TimeSpan.FromSeconds(3) });

        for (int cycle = 0; cycle < 5; cycle++)
        {
            var results = await scheduler.PollOnceAsync(CancellationToken.None);
            var live = results.Single(r => r.Device == "live");
            Assert.True(live.Succeeded, $"cycle {cycle}: {live.Error?.Message} dead={client.GetStatistics(18)} live={client.GetStatistics(Unit)}");
            Assert.Equal(-123456, live.Readings!.Single(q => q.Quantity == "active_power").Mantissa);
        }

        Assert.Equal(2, client.GetStatistics(18).Timeouts);
        Assert.Equal(0, client.GetStatistics(Unit).Timeouts);
        Assert.Equal(0, client.GetStatistics(Unit).CrcErrors);
        Assert.Equal(CircuitState.Open, scheduler.GetStatus().Single(s => s.Device == "dead").Breaker);
    }

    [Fact]
    public async Task Client_writes_registers_that_libmodbus_stores_and_reads_them_back_over_tcp()
    {
        await using var server = await LibmodbusServer.StartTcpAsync(Layout());
        await using var client = await ModbusClient.ConnectAsync(ModbusEndpoint.Tcp("127.0.0.1", server.Port), ModbusClientOptions.Default, CancellationToken.None);

        await client.WriteMultipleRegistersAsync(Unit, 20, new ushort[] { 1, 2, 3 }, CancellationToken.None);
        await client.WriteSingleRegisterAsync(Unit, 21, 0xBEEF, CancellationToken.None);

        Assert.Equal(new ushort[] { 1, 0xBEEF, 3 }, await client.ReadHoldingRegistersAsync(Unit, 20, 3, CancellationToken.None));
        Assert.Equal(new ushort[] { 1, 57920 }, await client.ReadInputRegistersAsync(Unit, 100, 2, CancellationToken.None));
        var e = await Assert.ThrowsAsync<ModbusException>(() => client.ReadHoldingRegistersAsync(Unit, 600, 1, CancellationToken.None));
        Assert.Equal(ModbusExceptionCode.IllegalDataAddress, e.Code);
    }
}
