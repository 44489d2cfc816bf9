using EdgeMeter.Agent.Configuration;
using EdgeMeter.Crypto.Records;
using EdgeMeter.Protocols.Modbus;

namespace EdgeMeter.Agent.Metering;

/// <summary>A configured meter: how to reach it, its map, and how its readings are labelled and recorded.</summary>
internal sealed class MeterChannel
{
    /// <summary>Quantities signed when the configuration names none: the energy registers and total power.</summary>
    public static readonly IReadOnlyList<string> DefaultRecorded = ["import_active_energy", "export_active_energy", "active_power"];

    public MeterChannel(MeterOptions options, RegisterMap map)
    {
        Options = options;
        Map = map;
        Clean = options.Clean ?? options.Source is EnergySource.Pv or EnergySource.Wind;
        var wanted = options.Record.Count > 0 ? options.Record : DefaultRecorded;
        Recorded = wanted.Where(q => map.Registers.Any(r => r.Quantity == q)).ToHashSet(StringComparer.Ordinal);
    }

    public MeterOptions Options { get; }

    public RegisterMap Map { get; }

    public string Id => Options.Id;

    public EnergySource Source => Options.Source;

    public bool Clean { get; }

    /// <summary>The quantities of this meter that become signed records.</summary>
    public IReadOnlySet<string> Recorded { get; }
}
