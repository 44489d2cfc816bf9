namespace EdgeMeter.Protocols.Modbus;

/// <summary>What a scan found at one unit id.</summary>
/// <param name="Unit">Unit id.</param>
/// <param name="Map">The best-fitting map (the one that read completely with the most quantities), or null.</param>
/// <param name="FittingMaps">Every map that read completely, best first.</param>
/// <param name="Identification">43/14 basic identification, if the device supports it.</param>
public sealed record ModbusScanResult(byte Unit, RegisterMap? Map, IReadOnlyList<RegisterMap> FittingMaps, ModbusDeviceIdentification? Identification);

/// <summary>Finds units that answer on a bus and the register map that fits each.</summary>
public static class ModbusScanner
{
    /// <summary>
    /// Probes <paramref name="unit"/>: null if it never answers within <paramref name="timeout"/>; otherwise the maps
    /// whose probe registers match and whose every quantity reads as a finite value.
    /// </summary>
    public static async Task<ModbusScanResult?> ScanUnitAsync(ModbusClient client, byte unit, IReadOnlyList<RegisterMap> candidates,
        TimeSpan timeout, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(candidates);
        var policy = new RequestPolicy(timeout, 0, RetryTimeouts: false);
        bool answered = false;
        var fits = new List<RegisterMap>();
        foreach (var map in candidates)
        {
            try
            {
                if (!await ProbesMatchAsync(client, unit, map, policy, cancellationToken).ConfigureAwait(false))
                {
                    answered = true;
                    continue;
                }

                await new MeterReader(client, unit, map).ReadAsync(policy, cancellationToken).ConfigureAwait(false);
                answered = true;
                fits.Add(map);
            }
            catch (TimeoutException)
            {
                if (!answered)
                {
                    return null; // silent unit: do not spend a timeout per candidate map
                }
            }
            catch (Exception e) when (e is ModbusException or ModbusFrameException or RegisterValueException)
            {
                answered = true;
            }
        }

        ModbusDeviceIdentification? identification = null;
        try
        {
            identification = await client.ReadDeviceIdentificationAsync(unit, ModbusDeviceIdCode.Basic, cancellationToken).ConfigureAwait(false);
            answered = true;
        }
        catch (Exception e) when (e is TimeoutException or ModbusException or ModbusFrameException)
        {
            // optional function; most meters do not implement it
        }

        if (!answered)
        {
            return null;
        }

        // Probed maps (SunSpec) are the most specific; otherwise more quantities read means a closer fit.
        fits.Sort((a, b) => a.Probes.Count != b.Probes.Count ? b.Probes.Count.CompareTo(a.Probes.Count) : b.Registers.Count.CompareTo(a.Registers.Count));
        return new ModbusScanResult(unit, fits.Count > 0 ? fits[0] : null, fits, identification);
    }

    private static async Task<bool> ProbesMatchAsync(ModbusClient client, byte unit, RegisterMap map, RequestPolicy policy, CancellationToken cancellationToken)
    {
        foreach (var probe in map.Probes)
        {
            var values = await client.ReadRegistersAsync(probe.Function, unit, probe.Address, (ushort)probe.Values.Count, policy, cancellationToken)
                .ConfigureAwait(false);
            if (!values.AsSpan().SequenceEqual(probe.Values.ToArray()))
            {
                return false;
            }
        }

        return true;
    }
}
