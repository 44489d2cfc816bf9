using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Security.Cryptography;
using X86Aes = System.Runtime.Intrinsics.X86.Aes;
using X86Sse2 = System.Runtime.Intrinsics.X86.Sse2;

namespace EdgeMeter.Protocols.Dlms;

/// <summary>
/// AES-128-GCM (NIST SP 800-38D) with a 96-bit nonce and a 12-byte tag, as DLMS security suite 0 uses it. On a CPU
/// with AES instructions it runs on them (<see cref="IntrinsicGcm128"/>); elsewhere on the platform's AES-GCM, which on
/// Linux is OpenSSL. The reason for the first: a gateway that never needs TLS then never loads libcrypto and libssl,
/// which cannot be unloaded and cost about 3.7 MB of resident memory. Software AES is not an option: table-based AES
/// leaks the key through cache timing.
/// </summary>
internal abstract class Gcm128 : IDisposable
{
    /// <summary>The nonce size in bytes (system title and invocation counter).</summary>
    public const int NonceSize = 12;

    /// <summary>True when this CPU runs AES-GCM without OpenSSL.</summary>
    public static bool RunsWithoutOpenSsl => IntrinsicGcm128.IsSupported;

    /// <summary>The fastest constant-time implementation this CPU has.</summary>
    public static Gcm128 Create(ReadOnlySpan<byte> key, int tagLength) =>
        IntrinsicGcm128.IsSupported ? new IntrinsicGcm128(key, tagLength) : new PlatformGcm128(key, tagLength);

    /// <summary>Encrypts <paramref name="plain"/> into <paramref name="cipher"/> (same length) and writes the tag.</summary>
    public abstract void Encrypt(ReadOnlySpan<byte> nonce, ReadOnlySpan<byte> plain, Span<byte> cipher, Span<byte> tag, ReadOnlySpan<byte> aad);

    /// <summary>
    /// Checks the tag and, only if it holds, decrypts <paramref name="cipher"/> into <paramref name="plain"/>. False
    /// (and <paramref name="plain"/> cleared) when the tag does not hold.
    /// </summary>
    public abstract bool TryDecrypt(ReadOnlySpan<byte> nonce, ReadOnlySpan<byte> cipher, ReadOnlySpan<byte> tag, Span<byte> plain, ReadOnlySpan<byte> aad);

    /// <inheritdoc/>
    public abstract void Dispose();
}

/// <summary>The platform's AES-GCM (OpenSSL on Linux), for CPUs without AES instructions.</summary>
internal sealed class PlatformGcm128(ReadOnlySpan<byte> key, int tagLength) : Gcm128
{
    private readonly AesGcm _aes = new(key, tagLength);

    /// <inheritdoc/>
    public override void Encrypt(ReadOnlySpan<byte> nonce, ReadOnlySpan<byte> plain, Span<byte> cipher, Span<byte> tag, ReadOnlySpan<byte> aad) =>
        _aes.Encrypt(nonce, plain, cipher, tag, aad);

    /// <inheritdoc/>
    public override bool TryDecrypt(ReadOnlySpan<byte> nonce, ReadOnlySpan<byte> cipher, ReadOnlySpan<byte> tag, Span<byte> plain, ReadOnlySpan<byte> aad)
    {
        try
        {
            _aes.Decrypt(nonce, cipher, tag, plain, aad);
            return true;
        }
        catch (CryptographicException)
        {
            plain.Clear();
            return false;
        }
    }

    /// <inheritdoc/>
    public override void Dispose() => _aes.Dispose();
}

/// <summary>
/// AES-128-GCM on the x86 AES instructions (AES-NI): the block cipher in hardware, GHASH as the bitwise
/// multiplication of SP 800-38D Algorithm 1 with masks instead of branches, so that no branch and no memory address
/// depends on the key, the hash subkey or the data. About a microsecond per 16-byte block, which a DLMS APDU of a few
/// hundred bytes a second does not notice. Not for concurrent use.
/// </summary>
internal sealed class IntrinsicGcm128 : Gcm128
{
    private const int BlockSize = 16;

    // R = 11100001 || 0^120: the reduction constant of GF(2^128) in SP 800-38D's bit order.
    private const ulong R = 0xE100000000000000UL;

    private readonly int _tagLength;
    private RoundKeys _roundKeys;
    private ulong _hashKeyHigh;
    private ulong _hashKeyLow;

    /// <summary>True on an x86 CPU with AES-NI.</summary>
    public static bool IsSupported => X86Aes.IsSupported && X86Sse2.IsSupported;

    /// <summary>Expands a 16-byte key; the tag is 12 to 16 bytes.</summary>
    public IntrinsicGcm128(ReadOnlySpan<byte> key, int tagLength)
    {
        if (!IsSupported)
            throw new PlatformNotSupportedException("this CPU has no AES instructions");
        if (key.Length != 16)
            throw new ArgumentException("AES-128 needs a 16-byte key", nameof(key));
        if (tagLength is < 12 or > 16)
            throw new ArgumentOutOfRangeException(nameof(tagLength), "GCM tags here are 12 to 16 bytes");
        _tagLength = tagLength;
        ExpandKey(Vector128.Create(key), ref _roundKeys);

        // H = E_K(0^128), as two big-endian halves (the leftmost bit of the block is the top bit of the high half).
        Span<byte> h = stackalloc byte[BlockSize];
        EncryptBlock(Vector128<byte>.Zero).CopyTo(h);
        _hashKeyHigh = BinaryPrimitives.ReadUInt64BigEndian(h);
        _hashKeyLow = BinaryPrimitives.ReadUInt64BigEndian(h[8..]);
        h.Clear();
    }

    /// <inheritdoc/>
    public override void Encrypt(ReadOnlySpan<byte> nonce, ReadOnlySpan<byte> plain, Span<byte> cipher, Span<byte> tag, ReadOnlySpan<byte> aad)
    {
        CheckSizes(nonce, plain.Length, cipher.Length, tag.Length);
        Counter(nonce, plain, cipher);
        Tag(nonce, aad, cipher[..plain.Length], tag);
    }

    /// <inheritdoc/>
    public override bool TryDecrypt(ReadOnlySpan<byte> nonce, ReadOnlySpan<byte> cipher, ReadOnlySpan<byte> tag, Span<byte> plain, ReadOnlySpan<byte> aad)
    {
        CheckSizes(nonce, cipher.Length, plain.Length, tag.Length);
        Span<byte> expected = stackalloc byte[BlockSize];
        Tag(nonce, aad, cipher, expected[..tag.Length]);
        bool valid = CryptographicOperations.FixedTimeEquals(expected[..tag.Length], tag);
        expected.Clear();
        if (!valid)
        {
            plain[..cipher.Length].Clear();
            return false;
        }

        Counter(nonce, cipher, plain);
        return true;
    }

    /// <inheritdoc/>
    public override void Dispose()
    {
        _roundKeys = default;
        _hashKeyHigh = 0;
        _hashKeyLow = 0;
    }

    private void CheckSizes(ReadOnlySpan<byte> nonce, int input, int output, int tag)
    {
        if (nonce.Length != NonceSize)
            throw new ArgumentException("the GCM nonce here has 12 bytes", nameof(nonce));
        if (output < input)
            throw new ArgumentException("the output is shorter than the input");
        if (tag != _tagLength)
            throw new ArgumentException($"the tag has {_tagLength} bytes");
    }

    // GCTR from inc32(J0): counter blocks nonce || 2, nonce || 3, ... (the low 32 bits wrap, as SP 800-38D says).
    private void Counter(ReadOnlySpan<byte> nonce, ReadOnlySpan<byte> input, Span<byte> output)
    {
        Span<byte> block = stackalloc byte[BlockSize];
        Span<byte> stream = stackalloc byte[BlockSize];
        nonce.CopyTo(block);
        uint counter = 2;
        for (int offset = 0; offset < input.Length; offset += BlockSize, counter++)
        {
            BinaryPrimitives.WriteUInt32BigEndian(block[12..], counter);
            EncryptBlock(Vector128.Create((ReadOnlySpan<byte>)block)).CopyTo(stream);
            int n = Math.Min(BlockSize, input.Length - offset);
            for (int i = 0; i < n; i++)
                output[offset + i] = (byte)(input[offset + i] ^ stream[i]);
        }
        stream.Clear();
    }

    // T = MSB_t(E_K(J0) xor GHASH_H(A || 0* || C || 0* || [len(A)]64 || [len(C)]64)), J0 = nonce || 1.
    private void Tag(ReadOnlySpan<byte> nonce, ReadOnlySpan<byte> aad, ReadOnlySpan<byte> cipher, Span<byte> tag)
    {
        ulong yHigh = 0, yLow = 0;
        Absorb(aad, ref yHigh, ref yLow);
        Absorb(cipher, ref yHigh, ref yLow);
        yHigh ^= (ulong)aad.Length * 8;
        yLow ^= (ulong)cipher.Length * 8;
        Multiply(ref yHigh, ref yLow);

        Span<byte> block = stackalloc byte[BlockSize];
        nonce.CopyTo(block);
        BinaryPrimitives.WriteUInt32BigEndian(block[12..], 1);
        var mask = EncryptBlock(Vector128.Create((ReadOnlySpan<byte>)block));
        BinaryPrimitives.WriteUInt64BigEndian(block, yHigh);
        BinaryPrimitives.WriteUInt64BigEndian(block[8..], yLow);
        (Vector128.Create((ReadOnlySpan<byte>)block) ^ mask).CopyTo(block);
        block[..tag.Length].CopyTo(tag);
        block.Clear();
    }

    // Y = (Y xor X_i) * H for each 16-byte block of data, the last one padded with zeros.
    private void Absorb(ReadOnlySpan<byte> data, ref ulong yHigh, ref ulong yLow)
    {
        int whole = data.Length / BlockSize * BlockSize;
        for (int offset = 0; offset < whole; offset += BlockSize)
        {
            yHigh ^= BinaryPrimitives.ReadUInt64BigEndian(data[offset..]);
            yLow ^= BinaryPrimitives.ReadUInt64BigEndian(data[(offset + 8)..]);
            Multiply(ref yHigh, ref yLow);
        }
        if (whole < data.Length)
        {
            Span<byte> last = stackalloc byte[BlockSize];
            last.Clear();
            data[whole..].CopyTo(last);
            yHigh ^= BinaryPrimitives.ReadUInt64BigEndian(last);
            yLow ^= BinaryPrimitives.ReadUInt64BigEndian(last[8..]);
            Multiply(ref yHigh, ref yLow);
            last.Clear();
        }
    }

    // X = X * H in GF(2^128), SP 800-38D Algorithm 1: for each bit x_i of X from the left, Z ^= V when x_i is 1;
    // V = V >> 1, xor R when the bit shifted out was 1. Both conditions become all-ones or all-zero masks.
    private void Multiply(ref ulong xHigh, ref ulong xLow)
    {
        ulong zHigh = 0, zLow = 0, vHigh = _hashKeyHigh, vLow = _hashKeyLow;
        for (int half = 0; half < 2; half++)
        {
            ulong x = half == 0 ? xHigh : xLow;
            for (int i = 63; i >= 0; i--)
            {
                ulong take = 0UL - ((x >> i) & 1);
                zHigh ^= vHigh & take;
                zLow ^= vLow & take;
                ulong carry = 0UL - (vLow & 1);
                vLow = (vLow >> 1) | (vHigh << 63);
                vHigh = (vHigh >> 1) ^ (R & carry);
            }
        }
        xHigh = zHigh;
        xLow = zLow;
    }

    private Vector128<byte> EncryptBlock(Vector128<byte> block)
    {
        var state = block ^ _roundKeys[0];
        for (int round = 1; round < 10; round++)
            state = X86Aes.Encrypt(state, _roundKeys[round]);
        return X86Aes.EncryptLast(state, _roundKeys[10]);
    }

    // FIPS 197 key expansion for AES-128 with AESKEYGENASSIST, which gives RotWord(SubWord(w3)) xor rcon in its top
    // word; each round key's words are then the running xor of the previous key's words with that value.
    private static void ExpandKey(Vector128<byte> key, ref RoundKeys keys)
    {
        keys[0] = key;
        keys[1] = key = Next(key, X86Aes.KeygenAssist(key, 0x01));
        keys[2] = key = Next(key, X86Aes.KeygenAssist(key, 0x02));
        keys[3] = key = Next(key, X86Aes.KeygenAssist(key, 0x04));
        keys[4] = key = Next(key, X86Aes.KeygenAssist(key, 0x08));
        keys[5] = key = Next(key, X86Aes.KeygenAssist(key, 0x10));
        keys[6] = key = Next(key, X86Aes.KeygenAssist(key, 0x20));
        keys[7] = key = Next(key, X86Aes.KeygenAssist(key, 0x40));
        keys[8] = key = Next(key, X86Aes.KeygenAssist(key, 0x80));
        keys[9] = key = Next(key, X86Aes.KeygenAssist(key, 0x1B));
        keys[10] = Next(key, X86Aes.KeygenAssist(key, 0x36));

        static Vector128<byte> Next(Vector128<byte> key, Vector128<byte> assist)
        {
            var top = X86Sse2.Shuffle(assist.AsUInt32(), 0xFF).AsByte();
            var shifted = X86Sse2.ShiftLeftLogical128BitLane(key, 4);
            key ^= shifted;
            shifted = X86Sse2.ShiftLeftLogical128BitLane(shifted, 4);
            key ^= shifted;
            shifted = X86Sse2.ShiftLeftLogical128BitLane(shifted, 4);
            key ^= shifted;
            return key ^ top;
        }
    }

    [InlineArray(11)]
    private struct RoundKeys
    {
        private Vector128<byte> _element;
    }
}
