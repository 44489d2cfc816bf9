using System.Buffers;
using System.Buffers.Binary;

namespace EdgeMeter.Protocols.Dlms;

/// <summary>
/// A cursor over received bytes for A-XDR and the BER-style lengths of xDLMS. Every read is bounds-checked and
/// throws <see cref="DlmsException"/> on a short or malformed input; nothing is allocated beyond what the input holds.
/// </summary>
public ref struct AxdrReader
{
    /// <summary>Deepest nesting of arrays and structures accepted (profile rows need 2; a meter never needs 16).</summary>
    public const int MaxDepth = 16;

    private readonly ReadOnlySpan<byte> _data;

    /// <summary>Starts reading at the beginning of <paramref name="data"/>.</summary>
    public AxdrReader(ReadOnlySpan<byte> data)
    {
        _data = data;
        Position = 0;
    }

    /// <summary>Bytes consumed so far.</summary>
    public int Position { get; private set; }

    /// <summary>Bytes left.</summary>
    public readonly int Remaining => _data.Length - Position;

    /// <summary>The bytes not yet read.</summary>
    public readonly ReadOnlySpan<byte> Rest => _data[Position..];

    /// <summary>Reads one byte.</summary>
    public byte ReadByte()
    {
        Need(1);
        return _data[Position++];
    }

    /// <summary>Looks at the next byte without consuming it.</summary>
    public readonly byte Peek()
    {
        if (Remaining < 1)
        {
            throw Short(1);
        }

        return _data[Position];
    }

    /// <summary>Reads <paramref name="count"/> bytes.</summary>
    public ReadOnlySpan<byte> ReadBytes(int count)
    {
        Need(count);
        var span = _data.Slice(Position, count);
        Position += count;
        return span;
    }

    /// <summary>Reads a big-endian 16-bit value.</summary>
    public ushort ReadUInt16() => BinaryPrimitives.ReadUInt16BigEndian(ReadBytes(2));

    /// <summary>Reads a big-endian 32-bit value.</summary>
    public uint ReadUInt32() => BinaryPrimitives.ReadUInt32BigEndian(ReadBytes(4));

    /// <summary>Reads an A-XDR / BER length: one byte below 0x80, else 0x8N followed by N big-endian bytes (N ≤ 4).</summary>
    public int ReadLength()
    {
        byte first = ReadByte();
        if (first < 0x80)
        {
            return first;
        }

        int n = first & 0x7F;
        if (n is 0 or > 4)
        {
            throw new DlmsException($"length with {n} length bytes at offset {Position - 1}");
        }

        uint value = 0;
        foreach (byte b in ReadBytes(n))
        {
            value = (value << 8) | b;
        }

        if (value > int.MaxValue)
        {
            throw new DlmsException($"length {value} at offset {Position - n - 1} is too large");
        }

        return (int)value;
    }

    /// <summary>Reads a length and checks that at least <c>length * minimumItemSize</c> bytes follow.</summary>
    public int ReadCount(int minimumItemSize)
    {
        int start = Position;
        int count = ReadLength();
        if ((long)count * minimumItemSize > Remaining)
        {
            throw new DlmsException($"count {count} at offset {start} exceeds the {Remaining} bytes left");
        }

        return count;
    }

    /// <summary>Reads one tagged A-XDR value.</summary>
    public DlmsValue ReadValue() => ReadValue(0);

    private DlmsValue ReadValue(int depth)
    {
        int start = Position;
        var type = (DlmsDataType)ReadByte();
        switch (type)
        {
            case DlmsDataType.NullData:
                return DlmsValue.Null;
            case DlmsDataType.Array:
            case DlmsDataType.Structure:
                {
                    if (depth >= MaxDepth)
                    {
                        throw new DlmsException($"data nested deeper than {MaxDepth} at offset {start}");
                    }

                    int count = ReadCount(1);
                    var items = new DlmsValue[count];
                    for (int i = 0; i < count; i++)
                    {
                        items[i] = ReadValue(depth + 1);
                    }

                    return DlmsValue.FromItems(type, items);
                }

            case DlmsDataType.Boolean:
                return DlmsValue.FromUnsigned(type, ReadByte() != 0 ? 1u : 0u);
            case DlmsDataType.BitString:
                {
                    int bits = ReadLength();
                    int bytes = (int)(((long)bits + 7) / 8);
                    return DlmsValue.FromBits(ReadBytes(bytes).ToArray(), bits);
                }

            case DlmsDataType.DoubleLong:
                return DlmsValue.FromSigned(type, BinaryPrimitives.ReadInt32BigEndian(ReadBytes(4)));
            case DlmsDataType.DoubleLongUnsigned:
                return DlmsValue.FromUnsigned(type, ReadUInt32());
            case DlmsDataType.OctetString:
            case DlmsDataType.VisibleString:
            case DlmsDataType.Utf8String:
                return DlmsValue.FromBytes(type, ReadBytes(ReadLength()).ToArray());
            case DlmsDataType.Bcd:
            case DlmsDataType.Unsigned:
            case DlmsDataType.Enum:
                return DlmsValue.FromUnsigned(type, ReadByte());
            case DlmsDataType.Integer:
                return DlmsValue.FromSigned(type, (sbyte)ReadByte());
            case DlmsDataType.Long:
                return DlmsValue.FromSigned(type, BinaryPrimitives.ReadInt16BigEndian(ReadBytes(2)));
            case DlmsDataType.LongUnsigned:
                return DlmsValue.FromUnsigned(type, ReadUInt16());
            case DlmsDataType.Long64:
                return DlmsValue.FromSigned(type, BinaryPrimitives.ReadInt64BigEndian(ReadBytes(8)));
            case DlmsDataType.Long64Unsigned:
                return DlmsValue.FromUnsigned(type, BinaryPrimitives.ReadUInt64BigEndian(ReadBytes(8)));
            case DlmsDataType.Float32:
                return DlmsValue.FromDouble(type, BinaryPrimitives.ReadSingleBigEndian(ReadBytes(4)));
            case DlmsDataType.Float64:
                return DlmsValue.FromDouble(type, BinaryPrimitives.ReadDoubleBigEndian(ReadBytes(8)));
            case DlmsDataType.DateTime:
                return DlmsValue.FromBytes(type, ReadBytes(12).ToArray());
            case DlmsDataType.Date:
                return DlmsValue.FromBytes(type, ReadBytes(5).ToArray());
            case DlmsDataType.Time:
                return DlmsValue.FromBytes(type, ReadBytes(4).ToArray());
            default:
                throw new DlmsException($"unknown A-XDR type tag {(byte)type} at offset {start}");
        }
    }

    private readonly void Need(int count)
    {
        if (count < 0 || count > Remaining)
        {
            throw Short(count);
        }
    }

    private readonly DlmsException Short(int count) =>
        new($"truncated data: {count} bytes needed at offset {Position}, {Remaining} left");
}

/// <summary>A-XDR and xDLMS encoding into a growing buffer (<see cref="IBufferWriter{T}"/> spans).</summary>
public static class AxdrWriter
{
    /// <summary>Writes one byte.</summary>
    public static void WriteByte(this IBufferWriter<byte> writer, byte value)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.GetSpan(1)[0] = value;
        writer.Advance(1);
    }

    /// <summary>Writes big-endian 16 bits.</summary>
    public static void WriteUInt16(this IBufferWriter<byte> writer, ushort value)
    {
        ArgumentNullException.ThrowIfNull(writer);
        BinaryPrimitives.WriteUInt16BigEndian(writer.GetSpan(2), value);
        writer.Advance(2);
    }

    /// <summary>Writes big-endian 32 bits.</summary>
    public static void WriteUInt32(this IBufferWriter<byte> writer, uint value)
    {
        ArgumentNullException.ThrowIfNull(writer);
        BinaryPrimitives.WriteUInt32BigEndian(writer.GetSpan(4), value);
        writer.Advance(4);
    }

    /// <summary>Writes an A-XDR / BER length (short form below 128, else 0x81/0x82/0x84 and the length).</summary>
    public static void WriteLength(this IBufferWriter<byte> writer, int length)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        if (length < 0x80)
        {
            writer.WriteByte((byte)length);
        }
        else if (length <= 0xFF)
        {
            writer.WriteByte(0x81);
            writer.WriteByte((byte)length);
        }
        else if (length <= 0xFFFF)
        {
            writer.WriteByte(0x82);
            writer.WriteUInt16((ushort)length);
        }
        else
        {
            writer.WriteByte(0x84);
            writer.WriteUInt32((uint)length);
        }
    }

    /// <summary>Writes one tagged value.</summary>
    public static void WriteValue(this IBufferWriter<byte> writer, DlmsValue value)
    {
        ArgumentNullException.ThrowIfNull(value);
        writer.WriteByte((byte)value.Type);
        switch (value.Type)
        {
            case DlmsDataType.NullData:
                break;
            case DlmsDataType.Array:
            case DlmsDataType.Structure:
                writer.WriteLength(value.Items.Count);
                foreach (var item in value.Items)
                {
                    writer.WriteValue(item);
                }

                break;
            case DlmsDataType.Boolean:
            case DlmsDataType.Bcd:
            case DlmsDataType.Unsigned:
            case DlmsDataType.Enum:
            case DlmsDataType.Integer:
                writer.WriteByte((byte)value.ToInt64());
                break;
            case DlmsDataType.BitString:
                writer.WriteLength(value.BitLength);
                writer.Write(value.Bytes);
                break;
            case DlmsDataType.DoubleLong:
            case DlmsDataType.DoubleLongUnsigned:
                writer.WriteUInt32((uint)value.ToInt64());
                break;
            case DlmsDataType.OctetString:
            case DlmsDataType.VisibleString:
            case DlmsDataType.Utf8String:
                writer.WriteLength(value.Bytes.Length);
                writer.Write(value.Bytes);
                break;
            case DlmsDataType.Long:
            case DlmsDataType.LongUnsigned:
                writer.WriteUInt16((ushort)value.ToInt64());
                break;
            case DlmsDataType.Long64:
                BinaryPrimitives.WriteInt64BigEndian(writer.GetSpan(8), value.ToInt64());
                writer.Advance(8);
                break;
            case DlmsDataType.Long64Unsigned:
                BinaryPrimitives.WriteUInt64BigEndian(writer.GetSpan(8), (ulong)value.ToDecimal());
                writer.Advance(8);
                break;
            case DlmsDataType.Float32:
                BinaryPrimitives.WriteSingleBigEndian(writer.GetSpan(4), (float)value.ToDouble());
                writer.Advance(4);
                break;
            case DlmsDataType.Float64:
                BinaryPrimitives.WriteDoubleBigEndian(writer.GetSpan(8), value.ToDouble());
                writer.Advance(8);
                break;
            case DlmsDataType.DateTime:
            case DlmsDataType.Date:
            case DlmsDataType.Time:
                writer.Write(value.Bytes);
                break;
            default:
                throw new DlmsException($"cannot encode {DlmsValue.Name(value.Type)}");
        }
    }
}
