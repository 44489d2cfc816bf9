using System.CommandLine;

namespace EdgeMeter.Agent.Cli;

/// <summary><c>edgemeter read modbus</c> and <c>edgemeter scan modbus</c>.</summary>
internal static class ModbusCommands
{
    public static Command CreateRead() => new("read", "Read a meter and print every quantity of its register map.");

    public static Command CreateScan() => new("scan", "Scan a bus for units that answer and the map that fits.");
}
