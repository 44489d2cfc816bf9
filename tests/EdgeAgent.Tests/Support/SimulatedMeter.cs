using System.Net;
using EdgeMeter.Protocols.Modbus;

namespace EdgeMeter.Agent.Tests.Support;

/// <summary>An Eastron SDM630 simulated behind a real Modbus TCP socket on loopback, answering as one unit.</summary>
internal sealed class SimulatedMeter : IAsyncDisposable
{
    private readonly ModbusTcpServer _server;

    private SimulatedMeter(ModbusTcpServer server, RegisterMap map)
    {
        _server = server;
        Map = map;
    }

    public RegisterMap Map { get; }

    /// <summary><c>tcp://127.0.0.1:PORT</c>.</summary>
    public string Endpoint => $"tcp://127.0.0.1:{_server.LocalEndPoint.Port}";

    public static SimulatedMeter Start(byte unit, params (string Quantity, decimal Value)[] values)
    {
        var map = RegisterMapCatalog.LoadBuiltin("eastron-sdm630");
        var bank = new ModbusRegisterBank();
        bank.SetInputRegisters(0, new ushort[512]);
        foreach (var (quantity, value) in values)
            bank.SetQuantity(map, quantity, value);
        var server = new ModbusTcpServer(new IPEndPoint(IPAddress.Loopback, 0), new Dictionary<byte, ModbusRegisterBank> { [unit] = bank });
        server.Start();
        return new SimulatedMeter(server, map);
    }

    public ValueTask DisposeAsync() => _server.DisposeAsync();
}
