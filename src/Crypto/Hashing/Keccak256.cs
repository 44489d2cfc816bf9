using System.Buffers.Binary;
using System.Numerics;

namespace EdgeMeter.Crypto.Hashing;

/// <summary>
/// Keccak-256 as Ethereum uses it (the original Keccak padding 0x01, not SHA3-256's 0x06).
/// Allocation-free: the sponge state lives on the stack.
/// </summary>
public static class Keccak256
{
    /// <summary>Digest size in bytes.</summary>
    public const int HashSize = 32;

    private const int RateBytes = 136;
    private const int RateLanes = RateBytes / 8;

    private static ReadOnlySpan<ulong> RoundConstants =>
    [
        0x0000000000000001UL, 0x0000000000008082UL, 0x800000000000808aUL, 0x8000000080008000UL,
        0x000000000000808bUL, 0x0000000080000001UL, 0x8000000080008081UL, 0x8000000000008009UL,
        0x000000000000008aUL, 0x0000000000000088UL, 0x0000000080008009UL, 0x000000008000000aUL,
        0x000000008000808bUL, 0x800000000000008bUL, 0x8000000000008089UL, 0x8000000000008003UL,
        0x8000000000008002UL, 0x8000000000000080UL, 0x000000000000800aUL, 0x800000008000000aUL,
        0x8000000080008081UL, 0x8000000000008080UL, 0x0000000080000001UL, 0x8000000080008008UL,
    ];

    // ρ rotation amounts and π lane order, walked along the single cycle π makes through the 24 non-origin lanes.
    private static ReadOnlySpan<byte> Rotations => [1, 3, 6, 10, 15, 21, 28, 36, 45, 55, 2, 14, 27, 41, 56, 8, 25, 43, 62, 18, 39, 61, 20, 44];
    private static ReadOnlySpan<byte> PiLanes => [10, 7, 11, 17, 18, 3, 5, 16, 8, 21, 24, 4, 15, 23, 19, 13, 12, 2, 20, 14, 22, 9, 6, 1];

    /// <summary>Hashes <paramref name="data"/> into the first 32 bytes of <paramref name="digest"/>.</summary>
    /// <exception cref="ArgumentException"><paramref name="digest"/> is shorter than 32 bytes.</exception>
    public static void Hash(ReadOnlySpan<byte> data, Span<byte> digest)
    {
        if (digest.Length < HashSize)
            throw new ArgumentException("The digest buffer must hold 32 bytes.", nameof(digest));

        Span<ulong> state = stackalloc ulong[25];
        state.Clear();
        while (data.Length >= RateBytes)
        {
            for (int i = 0; i < RateLanes; i++)
                state[i] ^= BinaryPrimitives.ReadUInt64LittleEndian(data[(i * 8)..]);
            Permute(state);
            data = data[RateBytes..];
        }

        Span<byte> last = stackalloc byte[RateBytes];
        last.Clear();
        data.CopyTo(last);
        last[data.Length] ^= 0x01;
        last[RateBytes - 1] ^= 0x80;
        for (int i = 0; i < RateLanes; i++)
            state[i] ^= BinaryPrimitives.ReadUInt64LittleEndian(last[(i * 8)..]);
        Permute(state);

        for (int i = 0; i < HashSize / 8; i++)
            BinaryPrimitives.WriteUInt64LittleEndian(digest[(i * 8)..], state[i]);
    }

    /// <summary>Hashes <paramref name="data"/> and returns the 32-byte digest.</summary>
    public static byte[] Hash(ReadOnlySpan<byte> data)
    {
        var digest = new byte[HashSize];
        Hash(data, digest);
        return digest;
    }

    /// <summary>Keccak-f[1600], 24 rounds.</summary>
    private static void Permute(Span<ulong> a)
    {
        Span<ulong> c = stackalloc ulong[5];
        for (int round = 0; round < 24; round++)
        {
            // θ
            for (int x = 0; x < 5; x++)
                c[x] = a[x] ^ a[x + 5] ^ a[x + 10] ^ a[x + 15] ^ a[x + 20];
            for (int x = 0; x < 5; x++)
            {
                ulong d = c[(x + 4) % 5] ^ BitOperations.RotateLeft(c[(x + 1) % 5], 1);
                for (int y = 0; y < 25; y += 5)
                    a[y + x] ^= d;
            }

            // ρ and π
            ulong t = a[1];
            for (int i = 0; i < 24; i++)
            {
                int j = PiLanes[i];
                ulong next = a[j];
                a[j] = BitOperations.RotateLeft(t, Rotations[i]);
                t = next;
            }

            // χ
            for (int y = 0; y < 25; y += 5)
            {
                ulong a0 = a[y], a1 = a[y + 1], a2 = a[y + 2], a3 = a[y + 3], a4 = a[y + 4];
                a[y] = a0 ^ (~a1 & a2);
                a[y + 1] = a1 ^ (~a2 & a3);
                a[y + 2] = a2 ^ (~a3 & a4);
                a[y + 3] = a3 ^ (~a4 & a0);
                a[y + 4] = a4 ^ (~a0 & a1);
            }

            // ι
            a[0] ^= RoundConstants[round];
        }
    }
}
