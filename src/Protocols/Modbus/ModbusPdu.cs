using System.Buffers.Binary;

namespace EdgeMeter.Protocols.Modbus;

/// <summary>
/// Builds request PDUs and checks response PDUs (function code + data, without unit id, MBAP header or CRC).
/// Pure span code: no I/O, no allocation.
/// </summary>
public static class ModbusPdu
{
    /// <summary>The largest PDU the spec allows (256-byte RTU ADU minus address and CRC).</summary>
    public const int MaxLength = 253;

    /// <summary>Most registers one read (03/04) may ask for.</summary>
    public const int MaxReadRegisters = 125;

    /// <summary>Most bits one read (01/02) may ask for.</summary>
    public const int MaxReadBits = 2000;

    /// <summary>Most registers one write (16) may carry.</summary>
    public const int MaxWriteRegisters = 123;

    /// <summary>Most coils one write (15) may carry.</summary>
    public const int MaxWriteCoils = 1968;

    /// <summary>Writes a read request (01, 02, 03, 04): function, start address, quantity. Returns 5.</summary>
    public static int WriteReadRequest(Span<byte> destination, ModbusFunction function, ushort address, ushort count)
    {
        int max = function is ModbusFunction.ReadCoils or ModbusFunction.ReadDiscreteInputs ? MaxReadBits : MaxReadRegisters;
        if (function is not (ModbusFunction.ReadCoils or ModbusFunction.ReadDiscreteInputs
            or ModbusFunction.ReadHoldingRegisters or ModbusFunction.ReadInputRegisters))
        {
            throw new ArgumentOutOfRangeException(nameof(function), function, "not a read function");
        }

        if (count < 1 || count > max)
        {
            throw new ArgumentOutOfRangeException(nameof(count), count, $"must be 1..{max}");
        }

        if (address + count > 0x10000)
        {
            throw new ArgumentOutOfRangeException(nameof(count), count, "address + count exceeds 65536");
        }

        destination[0] = (byte)function;
        BinaryPrimitives.WriteUInt16BigEndian(destination[1..], address);
        BinaryPrimitives.WriteUInt16BigEndian(destination[3..], count);
        return 5;
    }

    /// <summary>Writes a write-single-coil request (05). Returns 5.</summary>
    public static int WriteSingleCoilRequest(Span<byte> destination, ushort address, bool value)
    {
        destination[0] = (byte)ModbusFunction.WriteSingleCoil;
        BinaryPrimitives.WriteUInt16BigEndian(destination[1..], address);
        BinaryPrimitives.WriteUInt16BigEndian(destination[3..], value ? (ushort)0xFF00 : (ushort)0x0000);
        return 5;
    }

    /// <summary>Writes a write-single-register request (06). Returns 5.</summary>
    public static int WriteSingleRegisterRequest(Span<byte> destination, ushort address, ushort value)
    {
        destination[0] = (byte)ModbusFunction.WriteSingleRegister;
        BinaryPrimitives.WriteUInt16BigEndian(destination[1..], address);
        BinaryPrimitives.WriteUInt16BigEndian(destination[3..], value);
        return 5;
    }

    /// <summary>Writes a write-multiple-registers request (16). Returns its length.</summary>
    public static int WriteMultipleRegistersRequest(Span<byte> destination, ushort address, ReadOnlySpan<ushort> values)
    {
        if (values.Length < 1 || values.Length > MaxWriteRegisters)
        {
            throw new ArgumentOutOfRangeException(nameof(values), values.Length, $"must carry 1..{MaxWriteRegisters} registers");
        }

        destination[0] = (byte)ModbusFunction.WriteMultipleRegisters;
        BinaryPrimitives.WriteUInt16BigEndian(destination[1..], address);
        BinaryPrimitives.WriteUInt16BigEndian(destination[3..], (ushort)values.Length);
        destination[5] = (byte)(values.Length * 2);
        for (int i = 0; i < values.Length; i++)
        {
            BinaryPrimitives.WriteUInt16BigEndian(destination[(6 + (2 * i))..], values[i]);
        }

        return 6 + (2 * values.Length);
    }

    /// <summary>Writes a write-multiple-coils request (15). Returns its length.</summary>
    public static int WriteMultipleCoilsRequest(Span<byte> destination, ushort address, ReadOnlySpan<bool> values)
    {
        if (values.Length < 1 || values.Length > MaxWriteCoils)
        {
            throw new ArgumentOutOfRangeException(nameof(values), values.Length, $"must carry 1..{MaxWriteCoils} coils");
        }

        int bytes = (values.Length + 7) / 8;
        destination[0] = (byte)ModbusFunction.WriteMultipleCoils;
        BinaryPrimitives.WriteUInt16BigEndian(destination[1..], address);
        BinaryPrimitives.WriteUInt16BigEndian(destination[3..], (ushort)values.Length);
        destination[5] = (byte)bytes;
        PackBits(values, destination.Slice(6, bytes));
        return 6 + bytes;
    }

    /// <summary>Writes a Read Device Identification request (43/14). Returns 4.</summary>
    public static int WriteDeviceIdentificationRequest(Span<byte> destination, ModbusDeviceIdCode code, byte objectId)
    {
        destination[0] = (byte)ModbusFunction.EncapsulatedInterface;
        destination[1] = 0x0E;
        destination[2] = (byte)code;
        destination[3] = objectId;
        return 4;
    }

    /// <summary>Packs bits LSB-first into bytes, as coils travel on the wire.</summary>
    public static void PackBits(ReadOnlySpan<bool> values, Span<byte> destination)
    {
        destination[..((values.Length + 7) / 8)].Clear();
        for (int i = 0; i < values.Length; i++)
        {
            if (values[i])
            {
                destination[i / 8] |= (byte)(1 << (i % 8));
            }
        }
    }

    /// <summary>
    /// Throws <see cref="ModbusException"/> if <paramref name="response"/> is an exception response to
    /// <paramref name="function"/>, and <see cref="ModbusFrameException"/> if it answers another function.
    /// </summary>
    public static void ThrowIfError(ReadOnlySpan<byte> response, byte function, byte unit)
    {
        if (response.IsEmpty)
        {
            throw new ModbusFrameException(ModbusFrameError.Garbage, unit, "empty response");
        }

        if (response[0] == (function | 0x80))
        {
            if (response.Length != 2)
            {
                throw new ModbusFrameException(ModbusFrameError.Garbage, unit, $"exception response of {response.Length} bytes");
            }

            throw new ModbusException((ModbusExceptionCode)response[1], function, unit);
        }

        if (response[0] != function)
        {
            throw new ModbusFrameException(ModbusFrameError.Mismatch, unit,
                $"response function 0x{response[0]:X2} does not answer request function 0x{function:X2}");
        }
    }

    /// <summary>Checks a 03/04 response for <paramref name="destination"/>.Length registers and decodes them.</summary>
    public static void ParseRegisters(ReadOnlySpan<byte> response, byte function, byte unit, Span<ushort> destination)
    {
        ThrowIfError(response, function, unit);
        int expected = destination.Length * 2;
        if (response.Length < 2 || response[1] != expected || response.Length != 2 + expected)
        {
            throw new ModbusFrameException(ModbusFrameError.Mismatch, unit,
                $"expected {destination.Length} registers, response carries byte count {(response.Length > 1 ? response[1] : -1)} in {response.Length} bytes");
        }

        for (int i = 0; i < destination.Length; i++)
        {
            destination[i] = BinaryPrimitives.ReadUInt16BigEndian(response[(2 + (2 * i))..]);
        }
    }

    /// <summary>Checks a 01/02 response for <paramref name="destination"/>.Length bits and unpacks them.</summary>
    public static void ParseBits(ReadOnlySpan<byte> response, byte function, byte unit, Span<bool> destination)
    {
        ThrowIfError(response, function, unit);
        int expected = (destination.Length + 7) / 8;
        if (response.Length < 2 || response[1] != expected || response.Length != 2 + expected)
        {
            throw new ModbusFrameException(ModbusFrameError.Mismatch, unit,
                $"expected {expected} data bytes for {destination.Length} bits, got a {response.Length}-byte response");
        }

        for (int i = 0; i < destination.Length; i++)
        {
            destination[i] = (response[2 + (i / 8)] & (1 << (i % 8))) != 0;
        }
    }

    /// <summary>Checks that a write response (05, 06, 15, 16) echoes the request's first five bytes.</summary>
    public static void ParseWriteEcho(ReadOnlySpan<byte> response, ReadOnlySpan<byte> request, byte unit)
    {
        ThrowIfError(response, request[0], unit);
        if (response.Length != 5 || !response.SequenceEqual(request[..5]))
        {
            throw new ModbusFrameException(ModbusFrameError.Mismatch, unit, "write response does not echo the request");
        }
    }
}
