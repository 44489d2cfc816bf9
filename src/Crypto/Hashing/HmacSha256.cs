using System.Buffers.Binary;

namespace EdgeMeter.Crypto.Hashing;

/// <summary>
/// HMAC-SHA256 (RFC 2104, FIPS 180-4) for one key and many short messages, as RFC 6979 uses it: the key's
/// inner and outer states are computed once, so each MAC costs the message blocks plus one outer block.
/// A value type on the stack; nothing is allocated. The platform HMAC costs a library call and a context
/// per MAC, which is most of the time of a signature's five MACs.
/// </summary>
internal struct HmacSha256
{
    /// <summary>The MAC size in bytes.</summary>
    public const int Size = 32;

    private const int BlockSize = 64;

    private Sha256.State _inner;
    private Sha256.State _outer;

    /// <summary>Prepares the inner and outer states for a key of at most 64 bytes.</summary>
    public HmacSha256(ReadOnlySpan<byte> key)
    {
        if (key.Length > BlockSize)
            throw new ArgumentException("Keys longer than a block are not needed here.", nameof(key));
        Span<byte> pad = stackalloc byte[BlockSize];
        _inner = Sha256.Initial();
        _outer = Sha256.Initial();
        pad.Fill(0x36);
        for (int i = 0; i < key.Length; i++)
            pad[i] ^= key[i];
        Sha256.Compress(ref _inner, pad);
        pad.Fill(0x5c);
        for (int i = 0; i < key.Length; i++)
            pad[i] ^= key[i];
        Sha256.Compress(ref _outer, pad);
        pad.Clear();
    }

    /// <summary>HMAC(key, part1 ‖ part2 ‖ part3) into <paramref name="mac"/> (32 bytes); the output may overlap the inputs.</summary>
    public readonly void Compute(ReadOnlySpan<byte> part1, ReadOnlySpan<byte> part2, ReadOnlySpan<byte> part3, Span<byte> mac)
    {
        Span<byte> message = stackalloc byte[256];
        int length = part1.Length + part2.Length + part3.Length;
        if (length > message.Length - BlockSize)
            throw new ArgumentException("The message is longer than this MAC is meant for.");
        part1.CopyTo(message);
        part2.CopyTo(message[part1.Length..]);
        part3.CopyTo(message[(part1.Length + part2.Length)..]);

        Span<byte> innerHash = stackalloc byte[Size];
        var state = _inner;
        Finish(ref state, message, length, BlockSize);
        Sha256.Write(state, innerHash);

        state = _outer;
        innerHash.CopyTo(message);
        Finish(ref state, message, Size, BlockSize);
        Sha256.Write(state, mac);
        message.Clear();
        innerHash.Clear();
    }

    /// <summary>Wipes the key states.</summary>
    public void Clear()
    {
        _inner = default;
        _outer = default;
    }

    // Pads the message in place (the buffer has room for it) and compresses every block; the state has
    // already absorbed `absorbed` bytes (the key block).
    private static void Finish(ref Sha256.State state, Span<byte> buffer, int length, int absorbed)
    {
        int padded = (length + 9 + BlockSize - 1) / BlockSize * BlockSize;
        buffer[length] = 0x80;
        buffer[(length + 1)..(padded - 8)].Clear();
        BinaryPrimitives.WriteUInt64BigEndian(buffer[(padded - 8)..], (ulong)(absorbed + length) * 8);
        for (int offset = 0; offset < padded; offset += BlockSize)
            Sha256.Compress(ref state, buffer.Slice(offset, BlockSize));
    }
}
