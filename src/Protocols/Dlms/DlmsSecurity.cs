using System.Buffers.Binary;
using System.Security.Cryptography;

namespace EdgeMeter.Protocols.Dlms;

/// <summary>
/// Supplies the client's invocation counter for ciphered APDUs. A GCM nonce is system title || counter, so a counter
/// must never be used twice under the same key: an implementation records each value durably before returning it.
/// </summary>
public interface IInvocationCounterStore
{
    /// <summary>Returns a counter value never returned before (for this key), already persisted.</summary>
    uint Next();
}

/// <summary>An in-memory counter for tests and one-shot tools whose key is fresh for the session.</summary>
public sealed class InMemoryInvocationCounter(uint next = 0) : IInvocationCounterStore
{
    private uint _next = next;

    /// <inheritdoc/>
    public uint Next()
    {
        if (_next == uint.MaxValue)
        {
            throw new DlmsException("invocation counter exhausted: the keys must be changed");
        }

        return _next++;
    }
}

/// <summary>
/// Security suite 0 (AES-GCM-128) as used by HLS-GMAC: glo-ciphering of xDLMS APDUs and the GMAC of the HLS pass.
/// IV = system title (8) || invocation counter (4); tag truncated to 12 bytes. AES-GCM runs on the CPU's AES
/// instructions where it has them, else on OpenSSL (<see cref="Gcm128"/>). One instance per association: it is not
/// safe for concurrent use (the OpenSSL context is not: a property test sharing one across threads once saw an APDU with
/// an altered invocation counter pass).
/// </summary>
public sealed class DlmsCipher : IDisposable
{
    /// <summary>Security control byte: authenticated and encrypted, suite 0.</summary>
    public const byte AuthenticatedEncrypted = 0x30;

    /// <summary>Security control byte: authentication only (the GMAC of the HLS pass).</summary>
    public const byte AuthenticatedOnly = 0x10;

    /// <summary>GCM tag length used by DLMS.</summary>
    public const int TagLength = 12;

    private readonly Gcm128 _aes;
    private readonly byte[] _authenticationKey;

    /// <summary>Creates the cipher from the 16-byte block cipher key (EK) and authentication key (AK).</summary>
    public DlmsCipher(ReadOnlySpan<byte> blockCipherKey, ReadOnlySpan<byte> authenticationKey)
    {
        if (blockCipherKey.Length != 16 || authenticationKey.Length != 16)
        {
            throw new ArgumentException("security suite 0 needs a 16-byte block cipher key and a 16-byte authentication key");
        }

        _aes = Gcm128.Create(blockCipherKey, TagLength);
        _authenticationKey = authenticationKey.ToArray();
    }

    /// <summary>
    /// Ciphers <paramref name="plain"/> into <c>tag, length, SC, IC, ciphertext, GCM tag</c> with the glo-ciphering
    /// tag <paramref name="gloTag"/>.
    /// </summary>
    public byte[] Encrypt(byte gloTag, ReadOnlySpan<byte> systemTitle, uint invocationCounter, ReadOnlySpan<byte> plain)
    {
        int contentLength = 1 + 4 + plain.Length + TagLength;
        var writer = new System.Buffers.ArrayBufferWriter<byte>(contentLength + 6);
        writer.WriteByte(gloTag);
        writer.WriteLength(contentLength);
        writer.WriteByte(AuthenticatedEncrypted);
        writer.WriteUInt32(invocationCounter);
        var body = writer.GetSpan(plain.Length + TagLength);
        Span<byte> nonce = stackalloc byte[12];
        Nonce(systemTitle, invocationCounter, nonce);
        Span<byte> aad = stackalloc byte[17];
        aad[0] = AuthenticatedEncrypted;
        _authenticationKey.CopyTo(aad[1..]);
        _aes.Encrypt(nonce, plain, body[..plain.Length], body.Slice(plain.Length, TagLength), aad);
        writer.Advance(plain.Length + TagLength);
        return writer.WrittenSpan.ToArray();
    }

    /// <summary>
    /// Deciphers a glo-ciphered APDU (tag, length, SC, IC, ciphertext, tag) from the sender with
    /// <paramref name="systemTitle"/>. A wrong key or a changed byte fails the tag check: <see cref="DlmsException"/>.
    /// </summary>
    public byte[] Decrypt(ReadOnlySpan<byte> apdu, ReadOnlySpan<byte> systemTitle, out uint invocationCounter)
    {
        var reader = new AxdrReader(apdu);
        byte gloTag = reader.ReadByte();
        if (gloTag is not (Xdlms.GloInitiateRequestTag or Xdlms.GloInitiateResponseTag) && gloTag is < Xdlms.GloGetRequestTag or > Xdlms.GloActionResponseTag)
        {
            throw new DlmsException($"APDU tag 0x{gloTag:X2} is not a glo-ciphered APDU");
        }

        int length = reader.ReadLength();
        if (length != reader.Remaining || length < 1 + 4 + TagLength)
        {
            throw new DlmsException($"ciphered APDU length {length} does not match its {reader.Remaining} bytes");
        }

        byte sc = reader.ReadByte();
        if (sc != AuthenticatedEncrypted)
        {
            throw new DlmsException($"security control 0x{sc:X2} is not authenticated+encrypted suite 0 (0x30)");
        }

        invocationCounter = reader.ReadUInt32();
        var rest = reader.Rest;
        var cipher = rest[..^TagLength];
        var tag = rest[^TagLength..];
        Span<byte> nonce = stackalloc byte[12];
        Nonce(systemTitle, invocationCounter, nonce);
        Span<byte> aad = stackalloc byte[17];
        aad[0] = AuthenticatedEncrypted;
        _authenticationKey.CopyTo(aad[1..]);
        var plain = new byte[cipher.Length];
        if (!_aes.TryDecrypt(nonce, cipher, tag, plain, aad))
        {
            // A tag mismatch on hostile bytes: never a value, always the protocol's error.
            throw new DlmsException("ciphered APDU failed authentication (wrong keys or altered bytes)");
        }

        return plain;
    }

    /// <summary>The 12-byte GMAC of the HLS pass: over SC 0x10 || AK || <paramref name="challenge"/>, nothing encrypted.</summary>
    public byte[] Gmac(ReadOnlySpan<byte> systemTitle, uint invocationCounter, ReadOnlySpan<byte> challenge)
    {
        Span<byte> nonce = stackalloc byte[12];
        Nonce(systemTitle, invocationCounter, nonce);
        var aad = new byte[1 + 16 + challenge.Length];
        aad[0] = AuthenticatedOnly;
        _authenticationKey.CopyTo(aad, 1);
        challenge.CopyTo(aad.AsSpan(17));
        var tag = new byte[TagLength];
        _aes.Encrypt(nonce, ReadOnlySpan<byte>.Empty, Span<byte>.Empty, tag, aad);
        return tag;
    }

    /// <summary>f(challenge) as sent in the HLS pass: <c>0x10 || IC || GMAC</c> (17 bytes).</summary>
    public byte[] HlsResponse(ReadOnlySpan<byte> systemTitle, uint invocationCounter, ReadOnlySpan<byte> challenge)
    {
        var result = new byte[1 + 4 + TagLength];
        result[0] = AuthenticatedOnly;
        BinaryPrimitives.WriteUInt32BigEndian(result.AsSpan(1), invocationCounter);
        Gmac(systemTitle, invocationCounter, challenge).CopyTo(result, 5);
        return result;
    }

    /// <summary>Checks a peer's f(challenge) in constant time.</summary>
    public bool VerifyHlsResponse(ReadOnlySpan<byte> response, ReadOnlySpan<byte> systemTitle, ReadOnlySpan<byte> challenge)
    {
        if (response.Length != 1 + 4 + TagLength || response[0] != AuthenticatedOnly)
        {
            return false;
        }

        uint ic = BinaryPrimitives.ReadUInt32BigEndian(response[1..]);
        return CryptographicOperations.FixedTimeEquals(Gmac(systemTitle, ic, challenge), response[5..]);
    }

    private static void Nonce(ReadOnlySpan<byte> systemTitle, uint invocationCounter, Span<byte> nonce)
    {
        if (systemTitle.Length != 8)
        {
            throw new DlmsException($"a system title has 8 bytes, got {systemTitle.Length}");
        }

        systemTitle.CopyTo(nonce);
        BinaryPrimitives.WriteUInt32BigEndian(nonce[8..], invocationCounter);
    }

    /// <inheritdoc/>
    public void Dispose() => _aes.Dispose();
}
