namespace EdgeMeter.Protocols.Modbus;

/// <summary>Whether a buffer holds a whole frame yet.</summary>
public enum FrameStatus
{
    /// <summary>More bytes are needed.</summary>
    Incomplete,
    /// <summary>The buffer starts with a whole frame of the reported length (CRC not yet checked).</summary>
    Complete,
    /// <summary>The bytes cannot start a frame: garbage.</summary>
    Invalid,
}

/// <summary>
/// RTU framing (Modbus over Serial Line V1.02, 2.5): unit, PDU, CRC-16 low byte first. Frame lengths are
/// derived from the function code so a frame is known complete without relying on timing, which a TCP
/// gateway or a USB adapter would blur anyway; the 3.5-character silence is still kept between frames.
/// </summary>
public static class ModbusRtuFraming
{
    /// <summary>Largest RTU frame: 256 bytes.</summary>
    public const int MaxFrameLength = 256;

    /// <summary>Writes unit + PDU + CRC into <paramref name="destination"/>; returns the frame length.</summary>
    public static int WriteFrame(Span<byte> destination, byte unit, ReadOnlySpan<byte> pdu)
    {
        destination[0] = unit;
        pdu.CopyTo(destination[1..]);
        int n = 1 + pdu.Length;
        ModbusCrc.Write(destination[..n], destination[n..]);
        return n + 2;
    }

    /// <summary>
    /// The 3.5-character inter-frame silence for <paramref name="baudRate"/>: 11 bits per character
    /// (start, 8 data, parity or second stop, stop); fixed at 1.75 ms above 19200 baud as the spec recommends.
    /// </summary>
    public static TimeSpan InterFrameDelay(int baudRate)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(baudRate);
        return baudRate > 19200
            ? TimeSpan.FromMicroseconds(1750)
            : TimeSpan.FromTicks((long)Math.Ceiling(3.5 * 11 * TimeSpan.TicksPerSecond / baudRate));
    }

    /// <summary>Determines the length of the response frame at the start of <paramref name="buffer"/>.</summary>
    public static FrameStatus TryGetResponseLength(ReadOnlySpan<byte> buffer, out int length)
    {
        length = 0;
        if (buffer.Length < 2)
        {
            return FrameStatus.Incomplete;
        }

        byte function = buffer[1];
        if ((function & 0x80) != 0)
        {
            return Fixed(5, buffer, out length);
        }

        switch (function)
        {
            case 0x01 or 0x02 or 0x03 or 0x04 or 0x0C or 0x11 or 0x14 or 0x15 or 0x17:
                if (buffer.Length < 3)
                {
                    return FrameStatus.Incomplete;
                }

                if (buffer[2] == 0 || buffer[2] > 250)
                {
                    return FrameStatus.Invalid;
                }

                return Fixed(5 + buffer[2], buffer, out length);
            case 0x05 or 0x06 or 0x08 or 0x0B or 0x0F or 0x10:
                return Fixed(8, buffer, out length);
            case 0x07:
                return Fixed(5, buffer, out length);
            case 0x16:
                return Fixed(10, buffer, out length);
            case 0x2B:
                return TryGetDeviceIdLength(buffer, out length);
            default:
                return FrameStatus.Invalid;
        }
    }

    /// <summary>Determines the length of the request frame at the start of <paramref name="buffer"/> (slave side).</summary>
    public static FrameStatus TryGetRequestLength(ReadOnlySpan<byte> buffer, out int length)
    {
        length = 0;
        if (buffer.Length < 2)
        {
            return FrameStatus.Incomplete;
        }

        switch (buffer[1])
        {
            case 0x01 or 0x02 or 0x03 or 0x04 or 0x05 or 0x06 or 0x08:
                return Fixed(8, buffer, out length);
            case 0x07 or 0x0B or 0x0C or 0x11:
                return Fixed(4, buffer, out length);
            case 0x0F or 0x10:
                if (buffer.Length < 7)
                {
                    return FrameStatus.Incomplete;
                }

                return Fixed(9 + buffer[6], buffer, out length);
            case 0x16:
                return Fixed(10, buffer, out length);
            case 0x17:
                if (buffer.Length < 11)
                {
                    return FrameStatus.Incomplete;
                }

                return Fixed(13 + buffer[10], buffer, out length);
            case 0x2B:
                return Fixed(7, buffer, out length);
            default:
                return FrameStatus.Invalid;
        }
    }

    private static FrameStatus Fixed(int frameLength, ReadOnlySpan<byte> buffer, out int length)
    {
        length = frameLength;
        if (frameLength > MaxFrameLength)
        {
            return FrameStatus.Invalid;
        }

        return buffer.Length >= frameLength ? FrameStatus.Complete : FrameStatus.Incomplete;
    }

    // 43/14 responses carry a list of (id, length, value) objects; walk it to find the end.
    private static FrameStatus TryGetDeviceIdLength(ReadOnlySpan<byte> buffer, out int length)
    {
        length = 0;
        if (buffer.Length < 3)
        {
            return FrameStatus.Incomplete;
        }

        if (buffer[2] != 0x0E)
        {
            return FrameStatus.Invalid;
        }

        // unit, 2B, 0E, code, conformity, more, next, count
        if (buffer.Length < 8)
        {
            return FrameStatus.Incomplete;
        }

        int pos = 8;
        int count = buffer[7];
        for (int i = 0; i < count; i++)
        {
            if (buffer.Length < pos + 2)
            {
                return FrameStatus.Incomplete;
            }

            pos += 2 + buffer[pos + 1];
            if (pos + 2 > MaxFrameLength)
            {
                return FrameStatus.Invalid;
            }
        }

        return Fixed(pos + 2, buffer, out length);
    }
}

/// <summary>Modbus TCP MBAP header (Modbus Messaging on TCP/IP Implementation Guide V1.0b, 3.1.3).</summary>
public readonly record struct MbapHeader(ushort TransactionId, ushort ProtocolId, ushort Length, byte Unit)
{
    /// <summary>Header length on the wire: transaction (2), protocol (2), length (2), unit (1).</summary>
    public const int Size = 7;

    /// <summary>Length of the PDU that follows the header.</summary>
    public int PduLength => Length - 1;

    /// <summary>Writes header + PDU into <paramref name="destination"/>; returns the ADU length.</summary>
    public static int WriteFrame(Span<byte> destination, ushort transactionId, byte unit, ReadOnlySpan<byte> pdu)
    {
        System.Buffers.Binary.BinaryPrimitives.WriteUInt16BigEndian(destination, transactionId);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt16BigEndian(destination[2..], 0);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt16BigEndian(destination[4..], (ushort)(pdu.Length + 1));
        destination[6] = unit;
        pdu.CopyTo(destination[Size..]);
        return Size + pdu.Length;
    }

    /// <summary>
    /// Parses a header; false if the bytes cannot be a Modbus header (protocol id not 0, length outside 2..254),
    /// in which case the stream cannot be resynchronised and must be drained.
    /// </summary>
    public static bool TryParse(ReadOnlySpan<byte> source, out MbapHeader header)
    {
        header = default;
        if (source.Length < Size)
        {
            return false;
        }

        header = new MbapHeader(
            System.Buffers.Binary.BinaryPrimitives.ReadUInt16BigEndian(source),
            System.Buffers.Binary.BinaryPrimitives.ReadUInt16BigEndian(source[2..]),
            System.Buffers.Binary.BinaryPrimitives.ReadUInt16BigEndian(source[4..]),
            source[6]);
        return header.ProtocolId == 0 && header.Length >= 2 && header.Length <= ModbusPdu.MaxLength + 1;
    }
}
