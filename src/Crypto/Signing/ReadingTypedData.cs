using System.Buffers;
using System.Text;
using EdgeMeter.Crypto.Hashing;
using EdgeMeter.Crypto.Keys;
using EdgeMeter.Crypto.Records;

namespace EdgeMeter.Crypto.Signing;

/// <summary>EIP-712 encoding of <see cref="ReadingRecord"/>.</summary>
/// <remarks>
/// Written out by hand for speed and so that nothing but the record decides the bytes; the general
/// <see cref="Eip712"/> encoder computes the same digest from the export JSON, and the tests hold them equal.
/// </remarks>
public static class ReadingTypedData
{
    /// <summary>The primary type name.</summary>
    public const string PrimaryType = "Reading";

    /// <summary>The EIP-712 type string of a reading; changing it changes every digest.</summary>
    public const string TypeString =
        "Reading(address device,uint64 seq,string meterId,string obis,int256 value,int8 scaler,string unit,uint8 source,bool clean,uint64 gatewayTime,int64 meterTime,uint8 timeStatus,uint8 origin,bytes32 prev)";

    /// <summary>The EIP-712 type string of the domain.</summary>
    public const string DomainTypeString = "EIP712Domain(string name,string version,uint256 chainId)";

    /// <summary>The fields of <see cref="TypeString"/> as (name, type) pairs, in order, for writing the <c>types</c> JSON.</summary>
    public static IReadOnlyList<(string Name, string Type)> Fields { get; } =
    [
        ("device", "address"), ("seq", "uint64"), ("meterId", "string"), ("obis", "string"), ("value", "int256"),
        ("scaler", "int8"), ("unit", "string"), ("source", "uint8"), ("clean", "bool"), ("gatewayTime", "uint64"),
        ("meterTime", "int64"), ("timeStatus", "uint8"), ("origin", "uint8"), ("prev", "bytes32"),
    ];

    /// <summary>The fields of <see cref="DomainTypeString"/>.</summary>
    public static IReadOnlyList<(string Name, string Type)> DomainFields { get; } =
        [("name", "string"), ("version", "string"), ("chainId", "uint256")];

    private static readonly byte[] TypeHash = Keccak256.Hash(Encoding.ASCII.GetBytes(TypeString));
    private static readonly byte[] DomainTypeHash = Keccak256.Hash(Encoding.ASCII.GetBytes(DomainTypeString));

    // One domain per process in practice; keep the last separator (an immutable pair swapped atomically).
    private static Tuple<Eip712Domain, byte[]>? s_lastSeparator;

    /// <summary>The primary type of a chain link: <see cref="PrimaryType"/> or <see cref="GapTypedData.PrimaryType"/>.</summary>
    public static string PrimaryTypeOf(ChainRecord record) => record switch
    {
        ReadingRecord => PrimaryType,
        GapRecord => GapTypedData.PrimaryType,
        _ => throw new ArgumentException($"{record?.GetType().Name} is not a chain record type.", nameof(record)),
    };

    /// <summary>The fields of the primary type of <paramref name="record"/>.</summary>
    public static IReadOnlyList<(string Name, string Type)> FieldsOf(ChainRecord record) =>
        record is GapRecord ? GapTypedData.Fields : Fields;

    /// <summary>keccak256(0x19 0x01 ‖ domainSeparator ‖ hashStruct(record)), for a reading or a gap declaration.</summary>
    /// <exception cref="ArgumentException">The record cannot be encoded: a bad device address, a negative gateway time, a prev hash not 32 bytes.</exception>
    public static void Digest(Eip712Domain domain, ChainRecord record, Span<byte> digest32)
    {
        ArgumentNullException.ThrowIfNull(domain);
        Span<byte> buffer = stackalloc byte[66];
        buffer[0] = 0x19;
        buffer[1] = 0x01;
        DomainSeparator(domain).CopyTo(buffer[2..34]);
        switch (record)
        {
            case ReadingRecord reading:
                HashStruct(reading, buffer[34..66]);
                break;
            case GapRecord gap:
                GapTypedData.HashStruct(gap, buffer[34..66]);
                break;
            default:
                throw new ArgumentException($"{record?.GetType().Name} is not a chain record type.", nameof(record));
        }
        Keccak256.Hash(buffer, digest32);
    }

    /// <summary>hashStruct(EIP712Domain) for <paramref name="domain"/>.</summary>
    public static ReadOnlySpan<byte> DomainSeparator(Eip712Domain domain)
    {
        ArgumentNullException.ThrowIfNull(domain);
        var last = Volatile.Read(ref s_lastSeparator);
        if (last is not null && last.Item1 == domain)
            return last.Item2;

        Span<byte> encoded = stackalloc byte[128];
        DomainTypeHash.CopyTo(encoded);
        HashString(domain.Name, encoded[32..64]);
        HashString(domain.Version, encoded[64..96]);
        Eip712.WriteUInt64(domain.ChainId, encoded[96..128]);
        var separator = Keccak256.Hash(encoded);
        Volatile.Write(ref s_lastSeparator, Tuple.Create(domain, separator));
        return separator;
    }

    /// <summary>hashStruct(Reading) = keccak256(typeHash ‖ encodeData(record)).</summary>
    public static void HashStruct(ReadingRecord record, Span<byte> hash32)
    {
        ArgumentNullException.ThrowIfNull(record);
        if (record.GatewayTimeMs < 0)
            throw new ArgumentException("The gateway time is a uint64 and must not be negative.", nameof(record));
        if (record.PrevHash.Length != 32)
            throw new ArgumentException("The previous-record hash must be 32 bytes.", nameof(record));

        Span<byte> e = stackalloc byte[15 * 32];
        e.Clear();
        TypeHash.CopyTo(e);
        if (!EthereumAddress.TryParse(record.Device, e[(32 + 12)..64]))
            throw new ArgumentException($"The device '{record.Device}' is not a 20-byte 0x address.", nameof(record));
        Eip712.WriteUInt64(record.Sequence, e[64..96]);
        HashString(record.MeterId, e[96..128]);
        HashString(record.Obis, e[128..160]);
        Eip712.WriteInt64(record.Value, e[160..192]);
        Eip712.WriteInt64(record.Scaler, e[192..224]);
        HashString(record.Unit, e[224..256]);
        e[287] = (byte)record.Source;
        e[319] = record.Clean ? (byte)1 : (byte)0;
        Eip712.WriteUInt64((ulong)record.GatewayTimeMs, e[320..352]);
        Eip712.WriteInt64(record.MeterTimeMs, e[352..384]);
        e[415] = (byte)record.TimeStatus;
        e[447] = (byte)record.Origin;
        record.PrevHash.Span.CopyTo(e[448..480]);
        Keccak256.Hash(e, hash32);
    }

    internal static void HashString(string text, Span<byte> hash32)
    {
        ArgumentNullException.ThrowIfNull(text);
        int max = Encoding.UTF8.GetMaxByteCount(text.Length);
        byte[]? rented = max > 256 ? ArrayPool<byte>.Shared.Rent(max) : null;
        Span<byte> utf8 = rented ?? stackalloc byte[256];
        int length = Encoding.UTF8.GetBytes(text, utf8);
        Keccak256.Hash(utf8[..length], hash32);
        if (rented is not null)
            ArrayPool<byte>.Shared.Return(rented);
    }
}
