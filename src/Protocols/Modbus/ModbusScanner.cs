namespace EdgeMeter.Protocols.Modbus;

/// <summary>What a scan found at one unit id.</summary>
/// <param name="Unit">Unit id.</param>
/// <param name="Map">The best-fitting map (probes matched, read completely with plausible values, most quantities), or null.</param>
/// <param name="FittingMaps">Every map that read completely with plausible values (mains frequency, voltage, power factor), best first.</param>
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

                var readings = await new MeterReader(client, unit, map).ReadAsync(policy, cancellationToken).ConfigureAwait(false);
                answered = true;
                if (IsPlausible(readings))
                {
                    fits.Add(map);
                }
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

    // Many devices answer for wide address ranges, so "the read succeeded" alone would let the wrong map fit.
    // A meter on a live grid reports a mains frequency, sane voltages and a power factor within [-1, 1].
    private static bool IsPlausible(IReadOnlyList<QuantityReading> readings)
    {
        foreach (var r in readings)
        {
            decimal v = r.Value;
            bool ok = r.Quantity switch
            {
                "frequency" => v is >= 40m and <= 70m,
                "power_factor" => v is >= -1m and <= 1m,
                _ when r.Quantity.StartsWith("voltage", StringComparison.Ordinal) => v is >= 0m and <= 1000m,
                _ => true,
            };
            if (!ok)
            {
                return false;
            }
        }

        return true;
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
