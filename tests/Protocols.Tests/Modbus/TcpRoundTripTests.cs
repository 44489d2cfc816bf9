using System.Net;
using EdgeMeter.Protocols.Modbus;

namespace EdgeMeter.Protocols.Tests.Modbus;

public sealed class TcpRoundTripTests
{
    private static readonly ModbusClientOptions Fast = new() { Timeout = TimeSpan.FromMilliseconds(300), MaxRetries = 0 };

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
            ["import_active_energy"] = 1234567m, ["export_active_energy"] = 89000m,
        };
        FillGaps(bank, map);
        foreach (var (q, v) in values)
        {
            bank.SetQuantity(map, q, v);
        }

        await using var server = new ModbusTcpServer(new IPEndPoint(IPAddress.Loopback, 0), new Dictionary<byte, ModbusRegisterBank> { [7] = bank });
        server.Start();
        var endpoint = ModbusEndpoint.Parse($"tcp://127.0.0.1:{server.LocalEndPoint.Port}");
        await using var client = await ModbusClient.ConnectAsync(endpoint, Fast, CancellationToken.None);
        var reader = new MeterReader(client, 7, map);

        var readings = await reader.ReadAsync(CancellationToken.None);

        Assert.Equal(map.Registers.Count, readings.Count);
        foreach (var r in readings)
        {
            Assert.Equal(values[r.Quantity], r.Value);
        }

        Assert.Single(reader.Plan.Blocks);
        Assert.Equal(1, client.GetStatistics(7).Requests);
    }

    internal static void FillGaps(ModbusRegisterBank bank, RegisterMap map)
    {
        foreach (var block in ModbusReadPlan.Create(map).Blocks)
        {
            var zeros = new ushort[block.Count];
            if (block.Function == ModbusFunction.ReadInputRegisters)
            {
                bank.SetInputRegisters(block.Address, zeros);
            }
            else
            {
                bank.SetHoldingRegisters(block.Address, zeros);
            }
        }
    }
}
