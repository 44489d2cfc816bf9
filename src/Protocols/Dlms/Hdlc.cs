using System.Buffers.Binary;

namespace EdgeMeter.Protocols.Dlms;

/// <summary>
/// An HDLC address (IEC 62056-46): the client's one-byte address, or a server's upper (logical device) and
/// lower (physical device) address in 1, 2 or 4 bytes. Each byte carries 7 bits; the last byte has bit 0 set.
/// </summary>
public readonly record struct HdlcAddress(ushort Upper, ushort Lower, int Size)
{
    /// <summary>A client address: one byte.</summary>
    public static HdlcAddress Client(byte address) => new(address, 0, 1);

    /// <summary>
    /// A server address: one byte (upper only) when <paramref name="lower"/> is null, else two bytes when both fit
    /// 7 bits and <paramref name="size"/> is not 4, else four bytes.
    /// </summary>
    public static HdlcAddress Server(ushort upper, ushort? lower = null, int size = 0)
    {
        if (upper > 0x3FFF || lower > 0x3FFF)
        {
            throw new ArgumentOutOfRangeException(nameof(upper), "HDLC server addresses have at most 14 bits");
        }

        int chosen = size != 0 ? size : lower is null ? (upper < 0x80 ? 1 : 2) : (upper < 0x80 && lower < 0x80 ? 2 : 4);
        if (chosen is not (1 or 2 or 4) || (chosen == 1 && (upper >= 0x80 || lower is > 0)) || (chosen == 2 && (upper >= 0x80 || lower >= 0x80)))
        {
            throw new ArgumentOutOfRangeException(nameof(size), $"server address {upper}/{lower} does not fit {chosen} bytes");
        }

        return new HdlcAddress(upper, lower ?? 0, chosen);
    }

    /// <summary>Writes the address bytes; returns how many.</summary>
    public int WriteTo(Span<byte> destination)
    {
        switch (Size)
        {
            case 1:
                destination[0] = (byte)((Upper << 1) | 1);
                return 1;
            case 2:
                destination[0] = (byte)(Upper << 1);
                destination[1] = (byte)((Lower << 1) | 1);
                return 2;
            case 4:
                destination[0] = (byte)((Upper >> 7) << 1);
                destination[1] = (byte)((Upper & 0x7F) << 1);
                destination[2] = (byte)((Lower >> 7) << 1);
                destination[3] = (byte)(((Lower & 0x7F) << 1) | 1);
                return 4;
            default:
                throw new InvalidOperationException($"HDLC address size {Size}");
        }
    }

    /// <summary>Reads an address of 1, 2 or 4 bytes ending with the byte whose bit 0 is set.</summary>
    public static bool TryRead(ReadOnlySpan<byte> data, out HdlcAddress address, out int length)
    {
        address = default;
        length = 0;
        while (length < data.Length && length < 4)
        {
            if ((data[length++] & 1) != 0)
            {
                break;
            }

            if (length == data.Length || length == 4)
            {
                return false;
            }
        }

        if (length == 0 || (data[length - 1] & 1) == 0)
        {
            return false;
        }

        switch (length)
        {
            case 1:
                address = new HdlcAddress((ushort)(data[0] >> 1), 0, 1);
                return true;
            case 2:
                address = new HdlcAddress((ushort)(data[0] >> 1), (ushort)(data[1] >> 1), 2);
                return true;
            case 4:
                address = new HdlcAddress((ushort)(((data[0] >> 1) << 7) | (data[1] >> 1)), (ushort)(((data[2] >> 1) << 7) | (data[3] >> 1)), 4);
                return true;
            default:
                return false;
        }
    }

    /// <inheritdoc/>
    public override string ToString() => Size == 1 ? $"{Upper}" : $"{Upper}/{Lower}";
}

/// <summary>HDLC control field values (IEC 62056-46 / ISO 13239, normal response mode).</summary>
internal static class HdlcControl
{
    public const byte Snrm = 0x93;
    public const byte Ua = 0x73;
    public const byte Disc = 0x53;
    public const byte Dm = 0x1F;
    public const byte Frmr = 0x97;
    public const byte Ui = 0x13;
    public const byte PollFinal = 0x10;

    public static bool IsInformation(byte control) => (control & 1) == 0;

    public static bool IsReceiveReady(byte control) => (control & 0x0F) == 0x01;

    public static bool IsReceiveNotReady(byte control) => (control & 0x0F) == 0x05;

    public static int SendSequence(byte control) => (control >> 1) & 7;

    public static int ReceiveSequence(byte control) => (control >> 5) & 7;

    public static byte Information(int sendSequence, int receiveSequence) =>
        (byte)((receiveSequence << 5) | PollFinal | (sendSequence << 1));

    public static byte ReceiveReady(int receiveSequence) => (byte)((receiveSequence << 5) | PollFinal | 0x01);
}

/// <summary>
/// One HDLC frame of format type 3: flag, frame format (type, segmentation bit, 11-bit length), destination and
/// source addresses, control, HCS (when there is an information field), information, FCS, flag.
/// </summary>
public readonly struct HdlcFrame
{
    /// <summary>The opening and closing flag.</summary>
    public const byte Flag = 0x7E;

    /// <summary>The largest frame the 11-bit length allows, flags included.</summary>
    public const int MaxFrameLength = 2047 + 2;

    /// <summary>Creates a frame.</summary>
    public HdlcFrame(HdlcAddress destination, HdlcAddress source, byte control, ReadOnlyMemory<byte> information, bool segmented = false)
    {
        Destination = destination;
        Source = source;
        Control = control;
        Information = information;
        Segmented = segmented;
    }

    /// <summary>The destination address.</summary>
    public HdlcAddress Destination { get; }

    /// <summary>The source address.</summary>
    public HdlcAddress Source { get; }

    /// <summary>The control field.</summary>
    public byte Control { get; }

    /// <summary>The information field (empty for most supervisory and unnumbered frames).</summary>
    public ReadOnlyMemory<byte> Information { get; }

    /// <summary>The segmentation bit: more segments of the same APDU follow.</summary>
    public bool Segmented { get; }

    /// <summary>The encoded length of this frame with both flags.</summary>
    public int EncodedLength => 2 + 2 + Destination.Size + Source.Size + 1 + (Information.Length > 0 ? 2 + Information.Length : 0) + 2;

    /// <summary>Writes the frame with both flags into <paramref name="destination"/>; returns the byte count.</summary>
    public int WriteTo(Span<byte> destination)
    {
        int total = EncodedLength;
        if (total > MaxFrameLength)
        {
            throw new DlmsException($"HDLC frame of {total} bytes exceeds the 11-bit length");
        }

        destination[0] = Flag;
        BinaryPrimitives.WriteUInt16BigEndian(destination[1..], (ushort)(0xA000 | (Segmented ? 0x0800 : 0) | (total - 2)));
        int p = 3;
        p += Destination.WriteTo(destination[p..]);
        p += Source.WriteTo(destination[p..]);
        destination[p++] = Control;
        if (Information.Length > 0)
        {
            BinaryPrimitives.WriteUInt16LittleEndian(destination[p..], DlmsCrc.Compute(destination[1..p]));
            p += 2;
            Information.Span.CopyTo(destination[p..]);
            p += Information.Length;
        }

        BinaryPrimitives.WriteUInt16LittleEndian(destination[p..], DlmsCrc.Compute(destination[1..p]));
        p += 2;
        destination[p++] = Flag;
        return p;
    }

    /// <summary>The frame as a new array.</summary>
    public byte[] ToArray()
    {
        var bytes = new byte[EncodedLength];
        WriteTo(bytes);
        return bytes;
    }

    /// <summary>
    /// Parses one frame at the start of <paramref name="data"/> (which must begin with the flag). Returns false when
    /// more bytes are needed; throws <see cref="DlmsException"/> for a frame that cannot be valid (wrong format type,
    /// bad HCS or FCS, bad addresses). The information field is copied, so the frame outlives the buffer.
    /// </summary>
    public static bool TryParse(ReadOnlySpan<byte> data, out HdlcFrame frame, out int consumed)
    {
        frame = default;
        consumed = 0;
        if (data.Length < 3)
        {
            return false;
        }

        if (data[0] != Flag)
        {
            throw new DlmsException($"HDLC frame does not start with the flag (0x{data[0]:X2})");
        }

        ushort format = BinaryPrimitives.ReadUInt16BigEndian(data[1..]);
        if ((format & 0xF000) != 0xA000)
        {
            throw new DlmsException($"HDLC frame format 0x{format:X4} is not type 3");
        }

        int length = format & 0x07FF;
        if (length < 7)
        {
            throw new DlmsException($"HDLC frame length {length} is too short");
        }

        if (data.Length < length + 2)
        {
            return false;
        }

        if (data[length + 1] != Flag)
        {
            throw new DlmsException("HDLC frame does not end with the flag");
        }

        var body = data.Slice(1, length);
        if (!HdlcAddress.TryRead(body[2..], out var destination, out int dLen) ||
            !HdlcAddress.TryRead(body[(2 + dLen)..], out var source, out int sLen))
        {
            throw new DlmsException("HDLC frame has a malformed address");
        }

        int headerEnd = 2 + dLen + sLen + 1;
        if (headerEnd + 2 > length)
        {
            throw new DlmsException($"HDLC frame length {length} is too short for its header");
        }

        byte control = body[headerEnd - 1];
        ushort fcs = BinaryPrimitives.ReadUInt16LittleEndian(body[(length - 2)..]);
        if (DlmsCrc.Compute(body[..(length - 2)]) != fcs)
        {
            throw new DlmsException("HDLC frame check sequence (FCS) mismatch");
        }

        byte[] information = [];
        if (length > headerEnd + 2)
        {
            if (length < headerEnd + 4)
            {
                throw new DlmsException("HDLC frame has a header check sequence but no room for the information field");
            }

            ushort hcs = BinaryPrimitives.ReadUInt16LittleEndian(body[headerEnd..]);
            if (DlmsCrc.Compute(body[..headerEnd]) != hcs)
            {
                throw new DlmsException("HDLC header check sequence (HCS) mismatch");
            }

            information = body[(headerEnd + 2)..(length - 2)].ToArray();
        }

        frame = new HdlcFrame(destination, source, control, information, (format & 0x0800) != 0);
        consumed = length + 2;
        return true;
    }
}

/// <summary>HDLC link parameters negotiated by SNRM/UA (IEC 62056-46 6.4.4.4.3.2).</summary>
public readonly record struct HdlcParameters(int MaxInfoTransmit, int MaxInfoReceive, int WindowTransmit, int WindowReceive)
{
    /// <summary>The defaults that apply when SNRM or UA carries no information field.</summary>
    public static HdlcParameters Default { get; } = new(128, 128, 1, 1);

    /// <summary>Whether every value is the default.</summary>
    public bool IsDefault => this == Default;

    /// <summary>Encodes the parameter negotiation field (format 0x81, group 0x80).</summary>
    public byte[] Encode()
    {
        var bytes = new List<byte> { 0x81, 0x80, 0 };
        AddLength(bytes, 0x05, MaxInfoTransmit);
        AddLength(bytes, 0x06, MaxInfoReceive);
        AddWindow(bytes, 0x07, WindowTransmit);
        AddWindow(bytes, 0x08, WindowReceive);
        bytes[2] = (byte)(bytes.Count - 3);
        return [.. bytes];
    }

    /// <summary>Decodes the parameter field; parameters not present keep their defaults.</summary>
    public static HdlcParameters Decode(ReadOnlySpan<byte> information)
    {
        var result = Default;
        if (information.IsEmpty)
        {
            return result;
        }

        if (information.Length < 3 || information[0] != 0x81 || information[1] != 0x80 || information[2] > information.Length - 3)
        {
            throw new DlmsException("HDLC parameter negotiation field is malformed");
        }

        var group = information.Slice(3, information[2]);
        while (!group.IsEmpty)
        {
            if (group.Length < 2 || group[1] > group.Length - 2 || group[1] is 0 or > 4)
            {
                throw new DlmsException("HDLC parameter negotiation field is malformed");
            }

            uint value = 0;
            foreach (byte b in group.Slice(2, group[1]))
            {
                value = (value << 8) | b;
            }

            int v = (int)Math.Min(value, int.MaxValue);
            result = group[0] switch
            {
                0x05 => result with { MaxInfoTransmit = v },
                0x06 => result with { MaxInfoReceive = v },
                0x07 => result with { WindowTransmit = v },
                0x08 => result with { WindowReceive = v },
                _ => result,
            };
            group = group[(2 + group[1])..];
        }

        if (result.MaxInfoTransmit is < 32 or > 2030 || result.MaxInfoReceive is < 32 or > 2030 || result.WindowTransmit is < 1 or > 7 || result.WindowReceive is < 1 or > 7)
        {
            throw new DlmsException($"HDLC parameters out of range: {result}");
        }

        return result;
    }

    private static void AddLength(List<byte> bytes, byte id, int value)
    {
        bytes.Add(id);
        if (value <= 0xFF)
        {
            bytes.Add(1);
            bytes.Add((byte)value);
        }
        else
        {
            bytes.Add(2);
            bytes.Add((byte)(value >> 8));
            bytes.Add((byte)value);
        }
    }

    private static void AddWindow(List<byte> bytes, byte id, int value)
    {
        bytes.Add(id);
        bytes.Add(4);
        bytes.Add(0);
        bytes.Add(0);
        bytes.Add(0);
        bytes.Add((byte)value);
    }
}
