using System.Net;
using EdgeMeter.Protocols.Modbus;

namespace EdgeMeter.Protocols.Tests.Modbus;

public sealed class TcpRoundTripTests
{
    // No retry, so that the request count below is exact. The in-process server answers in about a millisecond; the
    // timeout is not what is tested here, and 300 ms was once not enough while parallel test projects loaded CI.
    private static readonly ModbusClientOptions NoRetry = new() { Timeout = TimeSpan.FromSeconds(5), MaxRetries = 0 };

    [Fact]
    public async Task Meter_reader_reads_every_sdm630_quantity_from_simulator_over_tcp()
    {
        var map = RegisterMapCatalog.LoadBuiltin("eastron-sdm630");
        var bank = new ModbusRegisterBank();
        var values = new Dictionary<string, decimal>
        {
            ["voltage_l1"] = 230.1m, ["voltage_l2"] = 229.8m, ["voltage_l3"] = 231.0m,
            ["current_l1"] = 5.123m, ["current_l2"] = 0.5m, ["current_l3"] = 12.25m,
            ["active_power_l1"] = 1150.5m, ["active_power_l2"] = -110.2m, ["active_power_l3"] = 2800m,
            ["active_power"] = 3840.3m, ["power_factor"] = 0.987m, ["frequency"] = 49.98m,
            ["import_active_energy"] = 1234567m, ["export_active_energy"] = 89000m, ["total_active_energy"] = 1323567m,
        };
        FillGaps(bank, map);
        foreach (var (q, v) in values)
        {
            bank.SetQuantity(map, q, v);
        }

        await using var server = new ModbusTcpServer(new IPEndPoint(IPAddress.Loopback, 0), new Dictionary<byte, ModbusRegisterBank> { [7] = bank });
        server.Start();
        var endpoint = ModbusEndpoint.Parse($"tcp://127.0.0.1:{server.LocalEndPoint.Port}");
        await using var client = await ModbusClient.ConnectAsync(endpoint, NoRetry, CancellationToken.None);
        var reader = new MeterReader(client, 7, map);

        var readings = await reader.ReadAsync(CancellationToken.None);

        Assert.Equal(map.Registers.Count, readings.Count);
        foreach (var r in readings)
        {
            Assert.Equal(values[r.Quantity], r.Value);
        }

        // Registers 30001-30076 in one request, the total at 30343 (0x0156) in a second.
        Assert.Equal([(0, 76), (0x0156, 2)], reader.Plan.Blocks.Select(b => ((int)b.Address, (int)b.Count)));
        Assert.Equal(2, client.GetStatistics(7).Requests);
    }

    internal static void FillGaps(ModbusRegisterBank bank, RegisterMap map) => bank.DefineRegistersFor(map);
}

public sealed class ShippedMapRoundTripTests
{
    private static readonly Dictionary<string, decimal> Values = new()
    {
        ["voltage_l1"] = 230.1m, ["voltage_l2"] = 229.9m, ["voltage_l3"] = 231.4m,
        ["current_l1"] = 5.12m, ["current_l2"] = 0.25m, ["current_l3"] = 16.08m,
        ["active_power"] = 2300m, ["active_power_l1"] = 800m, ["active_power_l2"] = 700m, ["active_power_l3"] = 800m,
        ["frequency"] = 49.9m, ["power_factor"] = 0.95m,
        ["import_active_energy"] = 1234500m, ["export_active_energy"] = 98700m, ["total_active_energy"] = 1333200m,
    };

    public static TheoryData<string> Maps() => [.. RegisterMapCatalog.BuiltinNames];

    [Theory]
    [MemberData(nameof(Maps))]
    public async Task Every_quantity_of_the_shipped_map_reads_back_exactly_in_the_planned_number_of_requests(string name)
    {
        var map = RegisterMapCatalog.LoadBuiltin(name);
        var bank = new ModbusRegisterBank();
        TcpRoundTripTests.FillGaps(bank, map);
        foreach (var r in map.Registers)
        {
            bank.SetQuantity(map, r.Quantity, Values[r.Quantity]);
        }

        await using var server = new ModbusTcpServer(new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, 0), new Dictionary<byte, ModbusRegisterBank> { [1] = bank });
        server.Start();
        await using var client = await ModbusClient.ConnectAsync(ModbusEndpoint.Tcp("127.0.0.1", server.LocalEndPoint.Port), ModbusClientOptions.Default, CancellationToken.None);
        var reader = new MeterReader(client, 1, map);

        var readings = await reader.ReadAsync(CancellationToken.None);

        Assert.Equal(map.Registers.Select(r => r.Quantity), readings.Select(r => r.Quantity));
        Assert.All(readings, r => Assert.Equal(Values[r.Quantity], r.Value));
        Assert.Equal(reader.Plan.Blocks.Count, client.GetStatistics(1).Requests);
        Assert.InRange(reader.Plan.Blocks.Count, 1, 3);
    }
}

public sealed class ScannerTests
{
    private static IReadOnlyList<RegisterMap> AllMaps() => [.. RegisterMapCatalog.BuiltinNames.Select(RegisterMapCatalog.LoadBuiltin)];

    private static ModbusRegisterBank Meter(RegisterMap map)
    {
        var bank = ModbusRegisterBank.ForMap(map);
        foreach (var r in map.Registers)
        {
            bank.SetQuantity(map, r.Quantity, r.Quantity switch
            {
                "frequency" => 50m,
                "power_factor" => 0.9m,
                var q when q.StartsWith("voltage", StringComparison.Ordinal) => 230m,
                var q when q.Contains("energy", StringComparison.Ordinal) => 1000m,
                _ => 1m,
            });
        }

        return bank;
    }

    [Fact]
    public async Task Scan_over_rtu_over_tcp_finds_each_meter_and_its_map_and_skips_silent_units()
    {
        var units = new Dictionary<byte, ModbusRegisterBank>
        {
            [3] = Meter(RegisterMapCatalog.LoadBuiltin("sunspec-meter-203")),
            [5] = Meter(RegisterMapCatalog.LoadBuiltin("eastron-sdm630")),
            [6] = Meter(RegisterMapCatalog.LoadBuiltin("abb-b23")),
        };
        units[6].SetDeviceIdentification("ABB", "B23 312-100", "1.2");
        await using var server = new ModbusTcpServer(new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, 0), units, ModbusFraming.Rtu);
        server.Start();
        await using var client = await ModbusClient.ConnectAsync(ModbusEndpoint.Parse($"rtu+tcp://127.0.0.1:{server.LocalEndPoint.Port}"),
            new ModbusClientOptions { MaxRetries = 0 }, CancellationToken.None);

        var found = new List<ModbusScanResult>();
        for (byte u = 2; u <= 6; u++)
        {
            if (await ModbusScanner.ScanUnitAsync(client, u, AllMaps(), TimeSpan.FromMilliseconds(100), CancellationToken.None) is { } r)
            {
                found.Add(r);
            }
        }

        Assert.Equal(new byte[] { 3, 5, 6 }, found.Select(r => r.Unit));
        Assert.Equal("sunspec-meter-203", found[0].Map?.Name);
        Assert.Equal("eastron-sdm630", found[1].Map?.Name);
        Assert.Equal("abb-b23", found[2].Map?.Name);
        Assert.Equal("ABB", found[2].Identification?.VendorName);
        Assert.Equal(1, client.GetStatistics(2).Requests);
        Assert.Equal(1, client.GetStatistics(4).Requests);
    }

    [Fact]
    public async Task Map_whose_registers_exist_but_hold_no_mains_frequency_does_not_fit()
    {
        var sdm630 = RegisterMapCatalog.LoadBuiltin("eastron-sdm630");
        var bank = ModbusRegisterBank.ForMap(sdm630, new Dictionary<string, decimal> { ["voltage_l1"] = 230m });
        await using var server = new ModbusTcpServer(new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, 0), new Dictionary<byte, ModbusRegisterBank> { [1] = bank });
        server.Start();
        await using var client = await ModbusClient.ConnectAsync(ModbusEndpoint.Tcp("127.0.0.1", server.LocalEndPoint.Port), ModbusClientOptions.Default, CancellationToken.None);

        var result = await ModbusScanner.ScanUnitAsync(client, 1, [sdm630], TimeSpan.FromMilliseconds(200), CancellationToken.None);

        Assert.NotNull(result);
        Assert.Null(result.Map);
        bank.SetQuantity(sdm630, "frequency", 50.01m);
        result = await ModbusScanner.ScanUnitAsync(client, 1, [sdm630], TimeSpan.FromMilliseconds(200), CancellationToken.None);
        Assert.Equal("eastron-sdm630", result?.Map?.Name);
    }
}
