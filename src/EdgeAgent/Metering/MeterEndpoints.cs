using EdgeMeter.Protocols.Modbus;

namespace EdgeMeter.Agent.Metering;

/// <summary>The endpoint rule of the configuration: a URI the Modbus client can open.</summary>
internal static class MeterEndpoints
{
    /// <summary>Null when <paramref name="endpoint"/> parses, else why not.</summary>
    public static string? Check(string endpoint)
    {
        try
        {
            ModbusEndpoint.Parse(endpoint);
            return null;
        }
        catch (FormatException e)
        {
            return e.Message;
        }
    }
}
