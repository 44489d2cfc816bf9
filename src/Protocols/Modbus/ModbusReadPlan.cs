namespace EdgeMeter.Protocols.Modbus;

/// <summary>One coalesced read request.</summary>
/// <param name="Function">03 or 04.</param>
/// <param name="Address">First register.</param>
/// <param name="Count">Number of registers.</param>
public readonly record struct ModbusReadBlock(ModbusFunction Function, ushort Address, ushort Count);

/// <summary>
/// The fewest read requests that cover every register of a map (values and SunSpec scale factors), merging
/// registers of the same function that are adjacent, or separated by at most the map's allowed gap, up to the
/// map's maximum registers per request.
/// </summary>
public sealed class ModbusReadPlan
{
    private readonly (int Block, int Offset)[] _valueSlots;
    private readonly (int Block, int Offset)?[] _scaleSlots;

    private ModbusReadPlan(RegisterMap map, IReadOnlyList<ModbusReadBlock> blocks, (int, int)[] valueSlots, (int, int)?[] scaleSlots)
    {
        Map = map;
        Blocks = blocks;
        _valueSlots = valueSlots;
        _scaleSlots = scaleSlots;
    }

    /// <summary>The map planned for.</summary>
    public RegisterMap Map { get; }

    /// <summary>The requests, in address order per function.</summary>
    public IReadOnlyList<ModbusReadBlock> Blocks { get; }

    /// <summary>Plans <paramref name="map"/>.</summary>
    public static ModbusReadPlan Create(RegisterMap map)
    {
        ArgumentNullException.ThrowIfNull(map);
        var spans = new List<(ModbusFunction Function, int Start, int End)>();
        foreach (var r in map.Registers)
        {
            spans.Add((r.Function, r.Address, r.Address + r.RegisterCount));
            if (r.ScaleFactorAddress is ushort sf)
            {
                spans.Add((r.Function, sf, sf + 1));
            }
        }

        spans.Sort((a, b) => a.Function != b.Function ? a.Function.CompareTo(b.Function) : a.Start != b.Start ? a.Start.CompareTo(b.Start) : a.End.CompareTo(b.End));
        var blocks = new List<ModbusReadBlock>();
        int limit = Math.Min(map.MaxRegistersPerRequest, ModbusPdu.MaxReadRegisters);
        int i = 0;
        while (i < spans.Count)
        {
            var (function, start, end) = spans[i++];
            while (i < spans.Count && spans[i].Function == function
                && spans[i].Start - end <= map.MaxGapRegisters
                && Math.Max(end, spans[i].End) - start <= limit)
            {
                end = Math.Max(end, spans[i].End);
                i++;
            }

            blocks.Add(new ModbusReadBlock(function, (ushort)start, (ushort)(end - start)));
        }

        var valueSlots = new (int, int)[map.Registers.Count];
        var scaleSlots = new (int, int)?[map.Registers.Count];
        for (int k = 0; k < map.Registers.Count; k++)
        {
            var r = map.Registers[k];
            valueSlots[k] = Locate(blocks, r.Function, r.Address, r.RegisterCount);
            if (r.ScaleFactorAddress is ushort sf)
            {
                scaleSlots[k] = Locate(blocks, r.Function, sf, 1);
            }
        }

        return new ModbusReadPlan(map, blocks, valueSlots, scaleSlots);
    }

    /// <summary>Bytes on the wire for one full read (requests + responses), for the given framing.</summary>
    public int WireBytes(ModbusFraming framing)
    {
        // Request PDU 5 bytes, response PDU 2 + 2n; RTU adds unit + CRC (3), TCP adds the MBAP header (7).
        int overhead = framing == ModbusFraming.Rtu ? 3 : 7;
        int total = 0;
        foreach (var b in Blocks)
        {
            total += 5 + overhead + 2 + (2 * b.Count) + overhead;
        }

        return total;
    }

    /// <summary>Turns the block contents (same order as <see cref="Blocks"/>) into readings, one per map register.</summary>
    public QuantityReading[] Decode(IReadOnlyList<ushort[]> blockData)
    {
        ArgumentNullException.ThrowIfNull(blockData);
        var registers = Map.Registers;
        var result = new QuantityReading[registers.Count];
        for (int k = 0; k < registers.Count; k++)
        {
            var r = registers[k];
            short sf = 0;
            if (_scaleSlots[k] is var (sb, so))
            {
                sf = (short)blockData[sb][so];
                if (sf is < -10 or > 10)
                {
                    throw new RegisterValueException(r.Quantity, $"scale factor register {r.ScaleFactorAddress} holds {sf} (not implemented or out of range)");
                }
            }

            var (vb, vo) = _valueSlots[k];
            long mantissa = RegisterCodec.ToMantissa(r, blockData[vb].AsSpan(vo, r.RegisterCount), sf);
            result[k] = new QuantityReading(r.Quantity, r.Obis, mantissa, r.Scaler, r.Unit);
        }

        return result;
    }

    private static (int, int) Locate(List<ModbusReadBlock> blocks, ModbusFunction function, int address, int count)
    {
        for (int b = 0; b < blocks.Count; b++)
        {
            var block = blocks[b];
            if (block.Function == function && address >= block.Address && address + count <= block.Address + block.Count)
            {
                return (b, address - block.Address);
            }
        }

        throw new InvalidOperationException($"register {address} not covered by the plan");
    }
}

/// <summary>Reads every quantity of a register map from one unit, in as few requests as the map allows.</summary>
public sealed class MeterReader
{
    private readonly ModbusClient _client;

    /// <summary>A reader for <paramref name="unit"/> on <paramref name="client"/>'s bus. The client stays owned by the caller.</summary>
    public MeterReader(ModbusClient client, byte unit, RegisterMap map)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(map);
        _client = client;
        Unit = unit;
        Plan = ModbusReadPlan.Create(map);
    }

    /// <summary>The unit id.</summary>
    public byte Unit { get; }

    /// <summary>The map.</summary>
    public RegisterMap Map => Plan.Map;

    /// <summary>The coalesced requests one read makes.</summary>
    public ModbusReadPlan Plan { get; }

    /// <summary>
    /// Reads all quantities. Throws <see cref="TimeoutException"/>, <see cref="ModbusException"/>,
    /// <see cref="ModbusFrameException"/> or <see cref="RegisterValueException"/>; never returns a partial result.
    /// </summary>
    public ValueTask<IReadOnlyList<QuantityReading>> ReadAsync(CancellationToken cancellationToken) =>
        ReadAsync(null, cancellationToken);

    internal async ValueTask<IReadOnlyList<QuantityReading>> ReadAsync(RequestPolicy? policy, CancellationToken cancellationToken)
    {
        var blocks = Plan.Blocks;
        var data = new ushort[blocks.Count][];
        for (int i = 0; i < blocks.Count; i++)
        {
            var b = blocks[i];
            data[i] = await _client.ReadRegistersAsync(b.Function, Unit, b.Address, b.Count, policy, cancellationToken).ConfigureAwait(false);
        }

        return Plan.Decode(data);
    }
}
