using System.Text;
using EdgeMeter.Crypto.Hashing;
using EdgeMeter.Crypto.Keys;
using EdgeMeter.Crypto.Records;

namespace EdgeMeter.Crypto.Signing;

/// <summary>EIP-712 encoding of <see cref="GapRecord"/>, under the same domain as readings.</summary>
/// <remarks>
/// Its own primary type, so that no reading can ever be read as a gap declaration or the reverse (the type hash
/// differs); the chain fields (device, seq, gatewayTime, timeStatus, prev) mean what they mean in a reading.
/// </remarks>
public static class GapTypedData
{
    /// <summary>The primary type name.</summary>
    public const string PrimaryType = "Gap";

    /// <summary>The EIP-712 type string of a gap declaration; changing it changes every digest.</summary>
    public const string TypeString =
        "Gap(address device,uint64 seq,uint64 fromSeq,uint64 toSeq,uint8 reason,uint64 gatewayTime,uint8 timeStatus,bytes32 prev)";

    /// <summary>The fields of <see cref="TypeString"/> as (name, type) pairs, in order.</summary>
    public static IReadOnlyList<(string Name, string Type)> Fields { get; } =
    [
        ("device", "address"), ("seq", "uint64"), ("fromSeq", "uint64"), ("toSeq", "uint64"), ("reason", "uint8"),
        ("gatewayTime", "uint64"), ("timeStatus", "uint8"), ("prev", "bytes32"),
    ];

    private static readonly byte[] TypeHash = Keccak256.Hash(Encoding.ASCII.GetBytes(TypeString));

    /// <summary>hashStruct(Gap) = keccak256(typeHash ‖ encodeData(gap)).</summary>
    /// <exception cref="ArgumentException">A bad device address, a negative gateway time, a prev hash not 32 bytes.</exception>
    public static void HashStruct(GapRecord gap, Span<byte> hash32)
    {
        ArgumentNullException.ThrowIfNull(gap);
        if (gap.GatewayTimeMs < 0)
            throw new ArgumentException("The gateway time is a uint64 and must not be negative.", nameof(gap));
        if (gap.PrevHash.Length != 32)
            throw new ArgumentException("The previous-record hash must be 32 bytes.", nameof(gap));

        Span<byte> e = stackalloc byte[9 * 32];
        e.Clear();
        TypeHash.CopyTo(e);
        if (!EthereumAddress.TryParse(gap.Device, e[(32 + 12)..64]))
            throw new ArgumentException($"The device '{gap.Device}' is not a 20-byte 0x address.", nameof(gap));
        Eip712.WriteUInt64(gap.Sequence, e[64..96]);
        Eip712.WriteUInt64(gap.FromSequence, e[96..128]);
        Eip712.WriteUInt64(gap.ToSequence, e[128..160]);
        e[191] = (byte)gap.Reason;
        Eip712.WriteUInt64((ulong)gap.GatewayTimeMs, e[192..224]);
        e[255] = (byte)gap.TimeStatus;
        gap.PrevHash.Span.CopyTo(e[256..288]);
        Keccak256.Hash(e, hash32);
    }
}
