using System.Net;
using EdgeMeter.Protocols.Modbus;

namespace EdgeMeter.Interop.Tests.Support;

/// <summary>A simulated SDM630 on loopback and an <c>edgemeter run</c> configuration that polls it every second.</summary>
public static class RunConfig
{
    /// <summary>Starts an SDM630 at <paramref name="unit"/> (2500 kWh imported, 1234.5 W) on a free loopback port.</summary>
    public static ModbusTcpServer StartSdm630(byte unit)
    {
        var map = RegisterMapCatalog.LoadBuiltin("eastron-sdm630");
        var bank = new ModbusRegisterBank();
        bank.SetInputRegisters(0, new ushort[512]);
        bank.SetQuantity(map, "import_active_energy", 2_500_000m);
        bank.SetQuantity(map, "active_power", 1234.5m);
        var meter = new ModbusTcpServer(new IPEndPoint(IPAddress.Loopback, 0), new Dictionary<byte, ModbusRegisterBank> { [unit] = bank });
        meter.Start();
        return meter;
    }

    /// <summary>Writes <c>edgemeter.json</c> in <paramref name="dir"/> (data below it, page on a free port); returns its path.</summary>
    public static async Task<string> WriteAsync(string dir, ModbusTcpServer meter, byte unit)
    {
        var config = Path.Combine(dir, "edgemeter.json");
        await File.WriteAllTextAsync(config, $$"""
            { "dataDirectory": "{{dir}}/data", "pollIntervalSeconds": 1, "http": { "url": "http://127.0.0.1:0" },
              "meters": [ { "id": "main", "endpoint": "tcp://127.0.0.1:{{meter.LocalEndPoint.Port}}", "unit": {{unit}}, "map": "eastron-sdm630" } ] }
            """);
        return config;
    }
}
