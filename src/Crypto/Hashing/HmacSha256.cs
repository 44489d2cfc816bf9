using System.Buffers.Binary;
using System.Numerics;
using System.Runtime.CompilerServices;

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

    private static readonly uint[] RoundConstants = FractionBits(64, 3);
    private static readonly uint[] InitialState = FractionBits(8, 2);

    private State _inner;
    private State _outer;

    /// <summary>Prepares the inner and outer states for a key of at most 64 bytes.</summary>
    public HmacSha256(ReadOnlySpan<byte> key)
    {
        if (key.Length > BlockSize)
            throw new ArgumentException("Keys longer than a block are not needed here.", nameof(key));
        Span<byte> pad = stackalloc byte[BlockSize];
        _inner = Initial();
        _outer = Initial();
        pad.Fill(0x36);
        for (int i = 0; i < key.Length; i++)
            pad[i] ^= key[i];
        Compress(ref _inner, pad);
        pad.Fill(0x5c);
        for (int i = 0; i < key.Length; i++)
            pad[i] ^= key[i];
        Compress(ref _outer, pad);
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
        Write(state, innerHash);

        state = _outer;
        innerHash.CopyTo(message);
        Finish(ref state, message, Size, BlockSize);
        Write(state, mac);
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
    private static void Finish(ref State state, Span<byte> buffer, int length, int absorbed)
    {
        int padded = (length + 9 + BlockSize - 1) / BlockSize * BlockSize;
        buffer[length] = 0x80;
        buffer[(length + 1)..(padded - 8)].Clear();
        BinaryPrimitives.WriteUInt64BigEndian(buffer[(padded - 8)..], (ulong)(absorbed + length) * 8);
        for (int offset = 0; offset < padded; offset += BlockSize)
            Compress(ref state, buffer.Slice(offset, BlockSize));
    }

    private static void Write(in State state, Span<byte> hash)
    {
        for (int i = 0; i < 8; i++)
            BinaryPrimitives.WriteUInt32BigEndian(hash[(4 * i)..], state[i]);
    }

    private static State Initial()
    {
        State s = default;
        for (int i = 0; i < 8; i++)
            s[i] = InitialState[i];
        return s;
    }

    // The SHA-256 compression function, FIPS 180-4 section 6.2.2.
    private static void Compress(ref State state, ReadOnlySpan<byte> block)
    {
        Span<uint> w = stackalloc uint[64];
        for (int t = 0; t < 16; t++)
            w[t] = BinaryPrimitives.ReadUInt32BigEndian(block[(4 * t)..]);
        for (int t = 16; t < 64; t++)
        {
            uint x = w[t - 15], y = w[t - 2];
            uint s0 = BitOperations.RotateRight(x, 7) ^ BitOperations.RotateRight(x, 18) ^ (x >> 3);
            uint s1 = BitOperations.RotateRight(y, 17) ^ BitOperations.RotateRight(y, 19) ^ (y >> 10);
            w[t] = w[t - 16] + s0 + w[t - 7] + s1;
        }

        uint a = state[0], b = state[1], c = state[2], d = state[3], e = state[4], f = state[5], g = state[6], h = state[7];
        var k = RoundConstants;
        for (int t = 0; t < 64; t++)
        {
            uint t1 = h + (BitOperations.RotateRight(e, 6) ^ BitOperations.RotateRight(e, 11) ^ BitOperations.RotateRight(e, 25))
                + ((e & f) ^ (~e & g)) + k[t] + w[t];
            uint t2 = (BitOperations.RotateRight(a, 2) ^ BitOperations.RotateRight(a, 13) ^ BitOperations.RotateRight(a, 22))
                + ((a & b) ^ (a & c) ^ (b & c));
            h = g;
            g = f;
            f = e;
            e = d + t1;
            d = c;
            c = b;
            b = a;
            a = t1 + t2;
        }
        state[0] += a;
        state[1] += b;
        state[2] += c;
        state[3] += d;
        state[4] += e;
        state[5] += f;
        state[6] += g;
        state[7] += h;
    }

    // The first 32 bits of the fractional parts of the square (root 2) or cube (root 3) roots of the first
    // `count` primes: the SHA-256 initial state and round constants, computed rather than copied.
    private static uint[] FractionBits(int count, int root)
    {
        var result = new uint[count];
        int found = 0;
        for (int candidate = 2; found < count; candidate++)
        {
            bool prime = true;
            for (int f = 2; f * f <= candidate; f++)
            {
                if (candidate % f == 0)
                {
                    prime = false;
                    break;
                }
            }
            if (!prime)
                continue;
            // floor(root-th root of (candidate · 2^(32·root))) keeps 32 fraction bits; the low 32 bits are them.
            UInt128 scaled = (UInt128)candidate << (32 * root);
            ulong lo = 0, hi = 1UL << 40;
            while (lo < hi)
            {
                ulong mid = lo + (hi - lo + 1) / 2;
                UInt128 power = root == 2 ? (UInt128)mid * mid : (UInt128)mid * mid * mid;
                if (power <= scaled)
                    lo = mid;
                else
                    hi = mid - 1;
            }
            result[found++] = (uint)lo;
        }
        return result;
    }

    [InlineArray(8)]
    private struct State
    {
        private uint _element;
    }
}
