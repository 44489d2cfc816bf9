using System.Buffers.Binary;
using System.Text;

namespace EdgeMeter.Protocols.Modbus;

/// <summary>
/// The data model of one simulated slave: holding and input registers, coils, discrete inputs and device
/// identification. Only addresses that were set exist; reading any other answers exception 02, as real meters do.
/// Thread-safe.
/// </summary>
public sealed class ModbusRegisterBank
{
    private readonly Lock _lock = new();
    private readonly Dictionary<ushort, ushort> _holding = [];
    private readonly Dictionary<ushort, ushort> _input = [];
    private readonly Dictionary<ushort, bool> _coils = [];
    private readonly Dictionary<ushort, bool> _discrete = [];
    private readonly SortedDictionary<byte, string> _identification = [];
    private ModbusExceptionCode _forced;
    private int _forcedRemaining;
    private long _requests;

    /// <summary>Requests this unit has answered or refused (not counting ones it never saw).</summary>
    public long RequestCount => Interlocked.Read(ref _requests);

    /// <summary>Sets consecutive holding registers starting at <paramref name="address"/>.</summary>
    public void SetHoldingRegisters(ushort address, params ReadOnlySpan<ushort> values) => Set(_holding, address, values);

    /// <summary>Sets consecutive input registers starting at <paramref name="address"/>.</summary>
    public void SetInputRegisters(ushort address, params ReadOnlySpan<ushort> values) => Set(_input, address, values);

    /// <summary>Sets a coil.</summary>
    public void SetCoil(ushort address, bool value)
    {
        lock (_lock)
        {
            _coils[address] = value;
        }
    }

    /// <summary>Sets a discrete input.</summary>
    public void SetDiscreteInput(ushort address, bool value)
    {
        lock (_lock)
        {
            _discrete[address] = value;
        }
    }

    /// <summary>A holding register's value, or null if it does not exist.</summary>
    public ushort? GetHoldingRegister(ushort address)
    {
        lock (_lock)
        {
            return _holding.TryGetValue(address, out ushort v) ? v : null;
        }
    }

    /// <summary>A coil's value, or null if it does not exist.</summary>
    public bool? GetCoil(ushort address)
    {
        lock (_lock)
        {
            return _coils.TryGetValue(address, out bool v) ? v : null;
        }
    }

    /// <summary>Sets the device identification objects served through 43/14.</summary>
    public void SetDeviceIdentification(string vendorName, string productCode, string revision)
    {
        lock (_lock)
        {
            _identification[0] = vendorName;
            _identification[1] = productCode;
            _identification[2] = revision;
        }
    }

    /// <summary>Answers the next <paramref name="count"/> requests with exception <paramref name="code"/> (e.g. Busy).</summary>
    public void FailNext(ModbusExceptionCode code, int count)
    {
        lock (_lock)
        {
            _forced = code;
            _forcedRemaining = count;
        }
    }

    /// <summary>
    /// A bank that answers <paramref name="map"/>'s coalesced reads, holding <paramref name="values"/>
    /// (quantity name to value in the map's unit; quantities not given read as zero).
    /// </summary>
    public static ModbusRegisterBank ForMap(RegisterMap map, IReadOnlyDictionary<string, decimal>? values = null)
    {
        var bank = new ModbusRegisterBank();
        bank.DefineRegistersFor(map);
        if (values is not null)
        {
            foreach (var (quantity, value) in values)
            {
                bank.SetQuantity(map, quantity, value);
            }
        }

        return bank;
    }

    /// <summary>
    /// Creates (as zero) every register a coalesced read of <paramref name="map"/> spans, as a real meter answers
    /// for them, and writes its probe values (e.g. the SunSpec marker). Scale-factor registers are left for
    /// <see cref="SetQuantity"/> to choose. Existing registers keep their values.
    /// </summary>
    public void DefineRegistersFor(RegisterMap map)
    {
        ArgumentNullException.ThrowIfNull(map);
        var scaleFactors = new HashSet<ushort>();
        foreach (var r in map.Registers)
        {
            if (r.ScaleFactorAddress is ushort sf)
            {
                scaleFactors.Add(sf);
            }
        }

        lock (_lock)
        {
            foreach (var block in ModbusReadPlan.Create(map).Blocks)
            {
                var target = block.Function == ModbusFunction.ReadInputRegisters ? _input : _holding;
                for (int a = block.Address; a < block.Address + block.Count; a++)
                {
                    if (!scaleFactors.Contains((ushort)a))
                    {
                        target.TryAdd((ushort)a, 0);
                    }
                }
            }

            foreach (var probe in map.Probes)
            {
                var target = probe.Function == ModbusFunction.ReadInputRegisters ? _input : _holding;
                for (int i = 0; i < probe.Values.Count; i++)
                {
                    target[(ushort)(probe.Address + i)] = probe.Values[i];
                }
            }
        }
    }

    /// <summary>
    /// Stores <paramref name="value"/> (in the map's unit, e.g. Wh) the way the real meter would: divided by the
    /// register's scale (and SunSpec scale factor, which is set to the register's scaler if not yet present),
    /// encoded in its type, word and byte order.
    /// </summary>
    public void SetQuantity(RegisterMap map, string quantity, decimal value)
    {
        ArgumentNullException.ThrowIfNull(map);
        var def = map.Find(quantity) ?? throw new ArgumentException($"map '{map.Name}' has no quantity '{quantity}'", nameof(quantity));
        var target = def.Function == ModbusFunction.ReadHoldingRegisters ? _holding : _input;
        Span<ushort> words = stackalloc ushort[4];
        lock (_lock)
        {
            short sf = 0;
            if (def.ScaleFactorAddress is ushort sfa)
            {
                if (!target.TryGetValue(sfa, out ushort existing))
                {
                    // The exponent that puts one raw step at the recorded resolution (e.g. PF in percent: -3 + 2 = -1).
                    int scaleExponent = (int)Math.Round(Math.Log10((double)def.Scale));
                    existing = unchecked((ushort)(short)(def.Scaler - scaleExponent));
                    target[sfa] = existing;
                }

                sf = (short)existing;
            }

            RegisterCodec.Encode(def, value, words, sf);
            for (int i = 0; i < def.RegisterCount; i++)
            {
                target[(ushort)(def.Address + i)] = words[i];
            }
        }
    }

    /// <summary>
    /// Answers one request PDU into <paramref name="response"/>; returns the response PDU length. Used by the
    /// TCP and RTU servers, so both framings share one behaviour.
    /// </summary>
    public int Handle(ReadOnlySpan<byte> request, Span<byte> response)
    {
        Interlocked.Increment(ref _requests);
        if (request.IsEmpty)
        {
            return 0;
        }

        byte fc = request[0];
        lock (_lock)
        {
            if (_forcedRemaining > 0)
            {
                _forcedRemaining--;
                return Exception(response, fc, _forced);
            }

            return fc switch
            {
                0x01 => ReadBits(_coils, request, response),
                0x02 => ReadBits(_discrete, request, response),
                0x03 => ReadRegisters(_holding, request, response),
                0x04 => ReadRegisters(_input, request, response),
                0x05 => WriteSingleCoil(request, response),
                0x06 => WriteSingleRegister(request, response),
                0x0F => WriteMultipleCoils(request, response),
                0x10 => WriteMultipleRegisters(request, response),
                0x2B => DeviceIdentification(request, response),
                _ => Exception(response, fc, ModbusExceptionCode.IllegalFunction),
            };
        }
    }

    private void Set(Dictionary<ushort, ushort> target, ushort address, ReadOnlySpan<ushort> values)
    {
        lock (_lock)
        {
            for (int i = 0; i < values.Length; i++)
            {
                target[(ushort)(address + i)] = values[i];
            }
        }
    }

    private static int Exception(Span<byte> response, byte fc, ModbusExceptionCode code)
    {
        response[0] = (byte)(fc | 0x80);
        response[1] = (byte)code;
        return 2;
    }

    private static bool AllExist<T>(Dictionary<ushort, T> table, int address, int count)
    {
        for (int a = address; a < address + count; a++)
        {
            if (a > 0xFFFF || !table.ContainsKey((ushort)a))
            {
                return false;
            }
        }

        return true;
    }

    private static int ReadRegisters(Dictionary<ushort, ushort> table, ReadOnlySpan<byte> rq, Span<byte> rs)
    {
        if (rq.Length != 5)
        {
            return Exception(rs, rq[0], ModbusExceptionCode.IllegalDataValue);
        }

        ushort address = BinaryPrimitives.ReadUInt16BigEndian(rq[1..]);
        ushort count = BinaryPrimitives.ReadUInt16BigEndian(rq[3..]);
        if (count is < 1 or > ModbusPdu.MaxReadRegisters)
        {
            return Exception(rs, rq[0], ModbusExceptionCode.IllegalDataValue);
        }

        if (!AllExist(table, address, count))
        {
            return Exception(rs, rq[0], ModbusExceptionCode.IllegalDataAddress);
        }

        rs[0] = rq[0];
        rs[1] = (byte)(count * 2);
        for (int i = 0; i < count; i++)
        {
            BinaryPrimitives.WriteUInt16BigEndian(rs[(2 + (2 * i))..], table[(ushort)(address + i)]);
        }

        return 2 + (2 * count);
    }

    private static int ReadBits(Dictionary<ushort, bool> table, ReadOnlySpan<byte> rq, Span<byte> rs)
    {
        if (rq.Length != 5)
        {
            return Exception(rs, rq[0], ModbusExceptionCode.IllegalDataValue);
        }

        ushort address = BinaryPrimitives.ReadUInt16BigEndian(rq[1..]);
        ushort count = BinaryPrimitives.ReadUInt16BigEndian(rq[3..]);
        if (count is < 1 or > ModbusPdu.MaxReadBits)
        {
            return Exception(rs, rq[0], ModbusExceptionCode.IllegalDataValue);
        }

        if (!AllExist(table, address, count))
        {
            return Exception(rs, rq[0], ModbusExceptionCode.IllegalDataAddress);
        }

        int bytes = (count + 7) / 8;
        rs[0] = rq[0];
        rs[1] = (byte)bytes;
        rs.Slice(2, bytes).Clear();
        for (int i = 0; i < count; i++)
        {
            if (table[(ushort)(address + i)])
            {
                rs[2 + (i / 8)] |= (byte)(1 << (i % 8));
            }
        }

        return 2 + bytes;
    }

    private int WriteSingleCoil(ReadOnlySpan<byte> rq, Span<byte> rs)
    {
        ushort address = BinaryPrimitives.ReadUInt16BigEndian(rq[1..]);
        ushort value = BinaryPrimitives.ReadUInt16BigEndian(rq[3..]);
        if (rq.Length != 5 || value is not (0x0000 or 0xFF00))
        {
            return Exception(rs, rq[0], ModbusExceptionCode.IllegalDataValue);
        }

        if (!_coils.ContainsKey(address))
        {
            return Exception(rs, rq[0], ModbusExceptionCode.IllegalDataAddress);
        }

        _coils[address] = value == 0xFF00;
        rq[..5].CopyTo(rs);
        return 5;
    }

    private int WriteSingleRegister(ReadOnlySpan<byte> rq, Span<byte> rs)
    {
        if (rq.Length != 5)
        {
            return Exception(rs, rq[0], ModbusExceptionCode.IllegalDataValue);
        }

        ushort address = BinaryPrimitives.ReadUInt16BigEndian(rq[1..]);
        if (!_holding.ContainsKey(address))
        {
            return Exception(rs, rq[0], ModbusExceptionCode.IllegalDataAddress);
        }

        _holding[address] = BinaryPrimitives.ReadUInt16BigEndian(rq[3..]);
        rq[..5].CopyTo(rs);
        return 5;
    }

    private int WriteMultipleRegisters(ReadOnlySpan<byte> rq, Span<byte> rs)
    {
        if (rq.Length < 6)
        {
            return Exception(rs, rq[0], ModbusExceptionCode.IllegalDataValue);
        }

        ushort address = BinaryPrimitives.ReadUInt16BigEndian(rq[1..]);
        ushort count = BinaryPrimitives.ReadUInt16BigEndian(rq[3..]);
        if (count is < 1 or > ModbusPdu.MaxWriteRegisters || rq[5] != count * 2 || rq.Length != 6 + (count * 2))
        {
            return Exception(rs, rq[0], ModbusExceptionCode.IllegalDataValue);
        }

        if (!AllExist(_holding, address, count))
        {
            return Exception(rs, rq[0], ModbusExceptionCode.IllegalDataAddress);
        }

        for (int i = 0; i < count; i++)
        {
            _holding[(ushort)(address + i)] = BinaryPrimitives.ReadUInt16BigEndian(rq[(6 + (2 * i))..]);
        }

        rq[..5].CopyTo(rs);
        return 5;
    }

    private int WriteMultipleCoils(ReadOnlySpan<byte> rq, Span<byte> rs)
    {
        if (rq.Length < 6)
        {
            return Exception(rs, rq[0], ModbusExceptionCode.IllegalDataValue);
        }

        ushort address = BinaryPrimitives.ReadUInt16BigEndian(rq[1..]);
        ushort count = BinaryPrimitives.ReadUInt16BigEndian(rq[3..]);
        int bytes = (count + 7) / 8;
        if (count is < 1 or > ModbusPdu.MaxWriteCoils || rq[5] != bytes || rq.Length != 6 + bytes)
        {
            return Exception(rs, rq[0], ModbusExceptionCode.IllegalDataValue);
        }

        if (!AllExist(_coils, address, count))
        {
            return Exception(rs, rq[0], ModbusExceptionCode.IllegalDataAddress);
        }

        for (int i = 0; i < count; i++)
        {
            _coils[(ushort)(address + i)] = (rq[6 + (i / 8)] & (1 << (i % 8))) != 0;
        }

        rq[..5].CopyTo(rs);
        return 5;
    }

    private int DeviceIdentification(ReadOnlySpan<byte> rq, Span<byte> rs)
    {
        if (rq.Length != 4 || rq[1] != 0x0E || rq[2] is < 1 or > 4)
        {
            return Exception(rs, rq[0], ModbusExceptionCode.IllegalDataValue);
        }

        if (_identification.Count == 0)
        {
            return Exception(rs, rq[0], ModbusExceptionCode.IllegalFunction);
        }

        byte code = rq[2];
        byte first = rq[3];
        if (code == 4 && !_identification.ContainsKey(first))
        {
            return Exception(rs, rq[0], ModbusExceptionCode.IllegalDataAddress);
        }

        rs[0] = 0x2B;
        rs[1] = 0x0E;
        rs[2] = code;
        rs[3] = 0x81; // basic identification, stream and individual access
        rs[4] = 0x00; // no more follows
        rs[5] = 0x00;
        int count = 0;
        int pos = 7;
        foreach (var (id, text) in _identification)
        {
            if ((code == 4 && id != first) || (code != 4 && id < first))
            {
                continue;
            }

            int n = Encoding.ASCII.GetBytes(text, rs[(pos + 2)..]);
            rs[pos] = id;
            rs[pos + 1] = (byte)n;
            pos += 2 + n;
            count++;
        }

        rs[6] = (byte)count;
        return pos;
    }
}
