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

    /// <summary>Keccak-f[1600], 24 rounds, on 25 lanes held in locals (A[x + 5y]).</summary>
    private static void Permute(Span<ulong> state)
    {
        ulong a0 = state[0]; ulong a1 = state[1]; ulong a2 = state[2]; ulong a3 = state[3]; ulong a4 = state[4]; ulong a5 = state[5]; ulong a6 = state[6]; ulong a7 = state[7]; ulong a8 = state[8]; ulong a9 = state[9]; ulong a10 = state[10]; ulong a11 = state[11]; ulong a12 = state[12]; ulong a13 = state[13]; ulong a14 = state[14]; ulong a15 = state[15]; ulong a16 = state[16]; ulong a17 = state[17]; ulong a18 = state[18]; ulong a19 = state[19]; ulong a20 = state[20]; ulong a21 = state[21]; ulong a22 = state[22]; ulong a23 = state[23]; ulong a24 = state[24];
        var constants = RoundConstants;
        for (int round = 0; round < 24; round++)
        {
            // θ
            ulong c0 = a0 ^ a5 ^ a10 ^ a15 ^ a20;
            ulong c1 = a1 ^ a6 ^ a11 ^ a16 ^ a21;
            ulong c2 = a2 ^ a7 ^ a12 ^ a17 ^ a22;
            ulong c3 = a3 ^ a8 ^ a13 ^ a18 ^ a23;
            ulong c4 = a4 ^ a9 ^ a14 ^ a19 ^ a24;
            ulong d0 = c4 ^ BitOperations.RotateLeft(c1, 1);
            ulong d1 = c0 ^ BitOperations.RotateLeft(c2, 1);
            ulong d2 = c1 ^ BitOperations.RotateLeft(c3, 1);
            ulong d3 = c2 ^ BitOperations.RotateLeft(c4, 1);
            ulong d4 = c3 ^ BitOperations.RotateLeft(c0, 1);
            a0 ^= d0; a5 ^= d0; a10 ^= d0; a15 ^= d0; a20 ^= d0;
            a1 ^= d1; a6 ^= d1; a11 ^= d1; a16 ^= d1; a21 ^= d1;
            a2 ^= d2; a7 ^= d2; a12 ^= d2; a17 ^= d2; a22 ^= d2;
            a3 ^= d3; a8 ^= d3; a13 ^= d3; a18 ^= d3; a23 ^= d3;
            a4 ^= d4; a9 ^= d4; a14 ^= d4; a19 ^= d4; a24 ^= d4;
            // ρ and π: B[y, 2x + 3y] = rot(A[x, y], r[x, y])
            ulong b0 = a0;
            ulong b16 = BitOperations.RotateLeft(a5, 36);
            ulong b7 = BitOperations.RotateLeft(a10, 3);
            ulong b23 = BitOperations.RotateLeft(a15, 41);
            ulong b14 = BitOperations.RotateLeft(a20, 18);
            ulong b10 = BitOperations.RotateLeft(a1, 1);
            ulong b1 = BitOperations.RotateLeft(a6, 44);
            ulong b17 = BitOperations.RotateLeft(a11, 10);
            ulong b8 = BitOperations.RotateLeft(a16, 45);
            ulong b24 = BitOperations.RotateLeft(a21, 2);
            ulong b20 = BitOperations.RotateLeft(a2, 62);
            ulong b11 = BitOperations.RotateLeft(a7, 6);
            ulong b2 = BitOperations.RotateLeft(a12, 43);
            ulong b18 = BitOperations.RotateLeft(a17, 15);
            ulong b9 = BitOperations.RotateLeft(a22, 61);
            ulong b5 = BitOperations.RotateLeft(a3, 28);
            ulong b21 = BitOperations.RotateLeft(a8, 55);
            ulong b12 = BitOperations.RotateLeft(a13, 25);
            ulong b3 = BitOperations.RotateLeft(a18, 21);
            ulong b19 = BitOperations.RotateLeft(a23, 56);
            ulong b15 = BitOperations.RotateLeft(a4, 27);
            ulong b6 = BitOperations.RotateLeft(a9, 20);
            ulong b22 = BitOperations.RotateLeft(a14, 39);
            ulong b13 = BitOperations.RotateLeft(a19, 8);
            ulong b4 = BitOperations.RotateLeft(a24, 14);
            // χ
            a0 = b0 ^ (~b1 & b2);
            a1 = b1 ^ (~b2 & b3);
            a2 = b2 ^ (~b3 & b4);
            a3 = b3 ^ (~b4 & b0);
            a4 = b4 ^ (~b0 & b1);
            a5 = b5 ^ (~b6 & b7);
            a6 = b6 ^ (~b7 & b8);
            a7 = b7 ^ (~b8 & b9);
            a8 = b8 ^ (~b9 & b5);
            a9 = b9 ^ (~b5 & b6);
            a10 = b10 ^ (~b11 & b12);
            a11 = b11 ^ (~b12 & b13);
            a12 = b12 ^ (~b13 & b14);
            a13 = b13 ^ (~b14 & b10);
            a14 = b14 ^ (~b10 & b11);
            a15 = b15 ^ (~b16 & b17);
            a16 = b16 ^ (~b17 & b18);
            a17 = b17 ^ (~b18 & b19);
            a18 = b18 ^ (~b19 & b15);
            a19 = b19 ^ (~b15 & b16);
            a20 = b20 ^ (~b21 & b22);
            a21 = b21 ^ (~b22 & b23);
            a22 = b22 ^ (~b23 & b24);
            a23 = b23 ^ (~b24 & b20);
            a24 = b24 ^ (~b20 & b21);
            // ι
            a0 ^= constants[round];
        }
        state[0] = a0; state[1] = a1; state[2] = a2; state[3] = a3; state[4] = a4; state[5] = a5; state[6] = a6; state[7] = a7; state[8] = a8; state[9] = a9; state[10] = a10; state[11] = a11; state[12] = a12; state[13] = a13; state[14] = a14; state[15] = a15; state[16] = a16; state[17] = a17; state[18] = a18; state[19] = a19; state[20] = a20; state[21] = a21; state[22] = a22; state[23] = a23; state[24] = a24;
    }
}
