using System.Globalization;
using System.Text;

namespace EdgeMeter.Protocols.Dlms;

/// <summary>A-XDR data type tags (IEC 62056-6-2, the <c>Data</c> CHOICE).</summary>
public enum DlmsDataType : byte
{
    /// <summary>null-data.</summary>
    NullData = 0,
    /// <summary>array of elements of one type.</summary>
    Array = 1,
    /// <summary>structure of elements.</summary>
    Structure = 2,
    /// <summary>boolean.</summary>
    Boolean = 3,
    /// <summary>bit-string.</summary>
    BitString = 4,
    /// <summary>double-long (int32).</summary>
    DoubleLong = 5,
    /// <summary>double-long-unsigned (uint32).</summary>
    DoubleLongUnsigned = 6,
    /// <summary>octet-string.</summary>
    OctetString = 9,
    /// <summary>visible-string.</summary>
    VisibleString = 10,
    /// <summary>utf8-string.</summary>
    Utf8String = 12,
    /// <summary>bcd (one byte).</summary>
    Bcd = 13,
    /// <summary>integer (int8).</summary>
    Integer = 15,
    /// <summary>long (int16).</summary>
    Long = 16,
    /// <summary>unsigned (uint8).</summary>
    Unsigned = 17,
    /// <summary>long-unsigned (uint16).</summary>
    LongUnsigned = 18,
    /// <summary>long64 (int64).</summary>
    Long64 = 20,
    /// <summary>long64-unsigned (uint64).</summary>
    Long64Unsigned = 21,
    /// <summary>enum (uint8).</summary>
    Enum = 22,
    /// <summary>float32 (IEEE 754 single, big endian).</summary>
    Float32 = 23,
    /// <summary>float64 (IEEE 754 double, big endian).</summary>
    Float64 = 24,
    /// <summary>date-time (12 bytes).</summary>
    DateTime = 25,
    /// <summary>date (5 bytes).</summary>
    Date = 26,
    /// <summary>time (4 bytes).</summary>
    Time = 27,
}

/// <summary>
/// One decoded A-XDR value: a typed scalar, a byte string or a list of values (array, structure).
/// Integers keep their exact value; <see cref="ToDecimal"/> never goes through binary floating point for them.
/// </summary>
public sealed class DlmsValue : IEquatable<DlmsValue>
{
    private readonly long _signed;
    private readonly ulong _unsigned;
    private readonly byte[]? _bytes;
    private readonly DlmsValue[]? _items;

    private DlmsValue(DlmsDataType type, long signed = 0, ulong unsigned = 0, byte[]? bytes = null, DlmsValue[]? items = null, int bitLength = 0)
    {
        Type = type;
        _signed = signed;
        _unsigned = unsigned;
        _bytes = bytes;
        _items = items;
        BitLength = bitLength;
    }

    /// <summary>The A-XDR type.</summary>
    public DlmsDataType Type { get; }

    /// <summary>The number of bits of a bit-string.</summary>
    public int BitLength { get; }

    /// <summary>null-data.</summary>
    public static DlmsValue Null { get; } = new(DlmsDataType.NullData);

    /// <summary>Whether the type is a signed or unsigned integer type (including enum and bcd).</summary>
    public bool IsInteger => Type is DlmsDataType.Integer or DlmsDataType.Long or DlmsDataType.DoubleLong or DlmsDataType.Long64
        or DlmsDataType.Unsigned or DlmsDataType.LongUnsigned or DlmsDataType.DoubleLongUnsigned or DlmsDataType.Long64Unsigned
        or DlmsDataType.Enum or DlmsDataType.Bcd or DlmsDataType.Boolean;

    private bool IsSigned => Type is DlmsDataType.Integer or DlmsDataType.Long or DlmsDataType.DoubleLong or DlmsDataType.Long64;

    /// <summary>The elements of an array or structure.</summary>
    public IReadOnlyList<DlmsValue> Items => _items ?? throw new DlmsException($"{Name(Type)} has no elements");

    /// <summary>The bytes of an octet-string, visible-string, utf8-string, bit-string or date/time.</summary>
    public ReadOnlySpan<byte> Bytes => _bytes ?? throw new DlmsException($"{Name(Type)} is not a string");

    /// <summary>A signed integer value.</summary>
    public static DlmsValue FromSigned(DlmsDataType type, long value) => new(type, signed: value);

    /// <summary>An unsigned integer value (unsigned, long-unsigned, …, enum, bcd, boolean 0/1).</summary>
    public static DlmsValue FromUnsigned(DlmsDataType type, ulong value) => new(type, unsigned: value);

    /// <summary>A float32 or float64 value.</summary>
    public static DlmsValue FromDouble(DlmsDataType type, double value) => new(type, signed: BitConverter.DoubleToInt64Bits(value));

    /// <summary>An octet-string (or visible-string, utf8-string, date-time, date, time) value.</summary>
    public static DlmsValue FromBytes(DlmsDataType type, byte[] bytes) => new(type, bytes: bytes);

    /// <summary>A bit-string of <paramref name="bitLength"/> bits.</summary>
    public static DlmsValue FromBits(byte[] bytes, int bitLength) => new(DlmsDataType.BitString, bytes: bytes, bitLength: bitLength);

    /// <summary>An array or structure.</summary>
    public static DlmsValue FromItems(DlmsDataType type, params DlmsValue[] items) => new(type, items: items);

    /// <summary>An octet-string.</summary>
    public static DlmsValue OctetString(ReadOnlySpan<byte> bytes) => new(DlmsDataType.OctetString, bytes: bytes.ToArray());

    /// <summary>The value of an integer type as <see cref="long"/>; throws for types that do not fit.</summary>
    public long ToInt64()
    {
        if (IsSigned)
        {
            return _signed;
        }

        if (IsInteger && _unsigned <= long.MaxValue)
        {
            return (long)_unsigned;
        }

        throw new DlmsException($"{Name(Type)} is not an integer that fits 64 signed bits");
    }

    /// <summary>
    /// The numeric value as <see cref="decimal"/>: exact for every integer type; float32/float64 (the meter's own
    /// binary floating point) converted once.
    /// </summary>
    public decimal ToDecimal()
    {
        if (IsSigned)
        {
            return _signed;
        }

        if (IsInteger)
        {
            return _unsigned;
        }

        if (Type is DlmsDataType.Float32 or DlmsDataType.Float64)
        {
            double d = BitConverter.Int64BitsToDouble(_signed);
            if (double.IsFinite(d) && Math.Abs(d) < 7.9e28)
            {
                return decimal.Parse(d.ToString("R", CultureInfo.InvariantCulture), NumberStyles.Float, CultureInfo.InvariantCulture);
            }

            throw new DlmsException($"{Name(Type)} {d} is not a finite number");
        }

        throw new DlmsException($"{Name(Type)} is not a number");
    }

    /// <summary>The double of a float32/float64.</summary>
    public double ToDouble() => Type is DlmsDataType.Float32 or DlmsDataType.Float64
        ? BitConverter.Int64BitsToDouble(_signed)
        : (double)ToDecimal();

    /// <summary>The standard's name of a type, e.g. <c>double-long-unsigned</c>.</summary>
    public static string Name(DlmsDataType type) => type switch
    {
        DlmsDataType.NullData => "null-data",
        DlmsDataType.Array => "array",
        DlmsDataType.Structure => "structure",
        DlmsDataType.Boolean => "boolean",
        DlmsDataType.BitString => "bit-string",
        DlmsDataType.DoubleLong => "double-long",
        DlmsDataType.DoubleLongUnsigned => "double-long-unsigned",
        DlmsDataType.OctetString => "octet-string",
        DlmsDataType.VisibleString => "visible-string",
        DlmsDataType.Utf8String => "utf8-string",
        DlmsDataType.Bcd => "bcd",
        DlmsDataType.Integer => "integer",
        DlmsDataType.Long => "long",
        DlmsDataType.Unsigned => "unsigned",
        DlmsDataType.LongUnsigned => "long-unsigned",
        DlmsDataType.Long64 => "long64",
        DlmsDataType.Long64Unsigned => "long64-unsigned",
        DlmsDataType.Enum => "enum",
        DlmsDataType.Float32 => "float32",
        DlmsDataType.Float64 => "float64",
        DlmsDataType.DateTime => "date-time",
        DlmsDataType.Date => "date",
        DlmsDataType.Time => "time",
        _ => $"type {(byte)type}",
    };

    /// <inheritdoc/>
    public override string ToString()
    {
        if (_items is not null)
        {
            return $"{Name(Type)}[{string.Join(", ", _items.Select(i => i.ToString()))}]";
        }

        return Type switch
        {
            DlmsDataType.NullData => "null",
            DlmsDataType.VisibleString or DlmsDataType.Utf8String => Encoding.UTF8.GetString(_bytes!),
            DlmsDataType.OctetString or DlmsDataType.BitString or DlmsDataType.DateTime or DlmsDataType.Date or DlmsDataType.Time
                => Convert.ToHexString(_bytes!),
            _ => ToDecimal().ToString(CultureInfo.InvariantCulture),
        };
    }

    /// <inheritdoc/>
    public bool Equals(DlmsValue? other)
    {
        if (other is null || other.Type != Type || other._signed != _signed || other._unsigned != _unsigned || other.BitLength != BitLength)
        {
            return false;
        }

        if (_bytes is not null || other._bytes is not null)
        {
            return _bytes is not null && other._bytes is not null && _bytes.AsSpan().SequenceEqual(other._bytes);
        }

        if (_items is not null || other._items is not null)
        {
            return _items is not null && other._items is not null && _items.SequenceEqual(other._items);
        }

        return true;
    }

    /// <inheritdoc/>
    public override bool Equals(object? obj) => Equals(obj as DlmsValue);

    /// <inheritdoc/>
    public override int GetHashCode() => HashCode.Combine(Type, _signed, _unsigned, _bytes?.Length ?? -1, _items?.Length ?? -1);
}
