using System.Buffers.Binary;
using System.Numerics;
using System.Runtime.CompilerServices;

namespace EdgeMeter.Crypto.Hashing;

/// <summary>
/// SHA-256 (FIPS 180-4), ours rather than the platform's: on Linux the platform hash is OpenSSL, and loading
/// libcrypto and libssl (which never unload) costs a gateway about 3.7 MB of resident memory for a few hashes a
/// second. A value type: the state and the partial block live inline, nothing is allocated.
/// <code>
/// var sha = new Sha256();
/// sha.AppendData(part1);
/// sha.AppendData(part2);
/// sha.GetHashAndReset(hash);
/// </code>
/// Like <see cref="System.Security.Cryptography.IncrementalHash"/>, but a struct: pass it by reference, never by value.
/// </summary>
public struct Sha256
{
    /// <summary>The hash size in bytes.</summary>
    public const int HashSize = 32;

    private const int BlockSize = 64;

    private static readonly uint[] RoundConstants = FractionBits(64, 3);
    private static readonly uint[] InitialState = FractionBits(8, 2);

    private State _state;
    private Block _pending;
    private ulong _length;
    private bool _started;

    /// <summary>A fresh hash.</summary>
    public Sha256()
    {
        _state = Initial();
        _started = true;
    }

    /// <summary>SHA-256 of <paramref name="data"/>.</summary>
    public static byte[] HashData(ReadOnlySpan<byte> data)
    {
        var hash = new byte[HashSize];
        HashData(data, hash);
        return hash;
    }

    /// <summary>SHA-256 of <paramref name="data"/> into the first 32 bytes of <paramref name="destination"/>.</summary>
    /// <exception cref="ArgumentException"><paramref name="destination"/> is shorter than 32 bytes.</exception>
    public static void HashData(ReadOnlySpan<byte> data, Span<byte> destination)
    {
        var sha = new Sha256();
        sha.AppendData(data);
        sha.GetHashAndReset(destination);
    }

    /// <summary>Adds <paramref name="data"/> to the message.</summary>
    public void AppendData(ReadOnlySpan<byte> data)
    {
        if (!_started)
            this = new Sha256();
        int fill = (int)(_length % BlockSize);
        _length += (ulong)data.Length;
        Span<byte> pending = _pending;
        if (fill > 0)
        {
            int take = Math.Min(BlockSize - fill, data.Length);
            data[..take].CopyTo(pending[fill..]);
            data = data[take..];
            if (fill + take < BlockSize)
                return;
            Compress(ref _state, pending);
        }
        while (data.Length >= BlockSize)
        {
            Compress(ref _state, data[..BlockSize]);
            data = data[BlockSize..];
        }
        data.CopyTo(pending);
    }

    /// <summary>Writes the hash of everything appended into <paramref name="destination"/> (32 bytes) and starts over.</summary>
    /// <exception cref="ArgumentException"><paramref name="destination"/> is shorter than 32 bytes.</exception>
    public void GetHashAndReset(Span<byte> destination)
    {
        if (destination.Length < HashSize)
            throw new ArgumentException("The hash buffer must hold 32 bytes.", nameof(destination));
        if (!_started)
            this = new Sha256();
        int fill = (int)(_length % BlockSize);
        Span<byte> pending = _pending;
        pending[fill] = 0x80;
        if (fill + 1 > BlockSize - 8)
        {
            pending[(fill + 1)..].Clear();
            Compress(ref _state, pending);
            pending.Clear();
        }
        else
        {
            pending[(fill + 1)..].Clear();
        }
        BinaryPrimitives.WriteUInt64BigEndian(pending[(BlockSize - 8)..], _length * 8);
        Compress(ref _state, pending);
        Write(_state, destination);
        this = new Sha256();
    }

    /// <summary>The hash of everything appended, as a new array; starts over.</summary>
    public byte[] GetHashAndReset()
    {
        var hash = new byte[HashSize];
        GetHashAndReset(hash);
        return hash;
    }

    internal static State Initial()
    {
        State s = default;
        for (int i = 0; i < 8; i++)
            s[i] = InitialState[i];
        return s;
    }

    internal static void Write(in State state, Span<byte> hash)
    {
        for (int i = 0; i < 8; i++)
            BinaryPrimitives.WriteUInt32BigEndian(hash[(4 * i)..], state[i]);
    }

    // The SHA-256 compression function, FIPS 180-4 section 6.2.2.
    internal static void Compress(ref State state, ReadOnlySpan<byte> block)
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

    // The first 32 bits of the fractional parts of the square (root 2) or cube (root 3) roots of the first

    [InlineArray(8)]
    internal struct State
    {
        private uint _element;
    }

    [InlineArray(BlockSize)]
    private struct Block
    {
        private byte _element;
    }
}
