using EdgeMeter.Crypto.Hashing;
using System.Security.Cryptography;
using EdgeMeter.Crypto.Keys;
using Org.BouncyCastle.Asn1.Sec;
using Org.BouncyCastle.Asn1.X9;
using Org.BouncyCastle.Crypto.Digests;
using Org.BouncyCastle.Crypto.EC;
using Org.BouncyCastle.Crypto.Parameters;
using Org.BouncyCastle.Crypto.Signers;
using Org.BouncyCastle.Math;

namespace EdgeMeter.Crypto.Ocmf;

/// <summary>
/// The secp256r1 (P-256) key OCMF tools expect, kept like the device key: one 32-byte file, mode 0600,
/// created atomically from the OS CSPRNG. Signatures are ECDSA with SHA-256 and an RFC 6979 k, DER-encoded.
/// </summary>
public sealed class OcmfKey
{
    private static readonly X9ECParameters Curve = CustomNamedCurves.GetByName("secp256r1");

    // DER SubjectPublicKeyInfo of a P-256 key up to the point (RFC 5480): SEQUENCE { SEQUENCE { id-ecPublicKey,
    // secp256r1 }, BIT STRING { 0 unused bits, then the 65-byte uncompressed point } }. Written and read as these
    // bytes: BouncyCastle's key factories would keep every key type it knows in the binary.
    private static readonly byte[] SpkiPrefix = Convert.FromHexString("3059301306072a8648ce3d020106082a8648ce3d030107034200");
    // Named, so the SubjectPublicKeyInfo carries the curve's OID: RFC 5480 (2.1.1) forbids the explicit parameters
    // (specifiedCurve) that an unnamed domain would write, and OCMF tools reject them.
    private static readonly ECDomainParameters Domain = new ECNamedDomainParameters(SecObjectIdentifiers.SecP256r1, Curve);

    private readonly ECPrivateKeyParameters _private;

    private OcmfKey(BigInteger d)
    {
        _private = new ECPrivateKeyParameters(d, Domain);
        var q = Domain.G.Multiply(d).Normalize();
        PublicKey = new ECPublicKeyParameters(q, Domain);
    }

    /// <summary>Loads the key at <paramref name="path"/>, or makes and stores one.</summary>
    /// <exception cref="KeyFileException">The file is accessible to group or others, malformed, or cannot be read or written.</exception>
    public static OcmfKey LoadOrCreate(string path)
    {
        byte[] secret = KeyFile.LoadOrCreate(path, IsValid);
        try
        {
            return new OcmfKey(new BigInteger(1, secret));
        }
        finally
        {
            CryptographicOperations.ZeroMemory(secret);
        }
    }

    /// <summary>A key from a 32-byte secret in memory (tests, provisioning).</summary>
    public static OcmfKey FromSecret(ReadOnlySpan<byte> secret32)
    {
        if (secret32.Length != 32 || !IsValid(secret32.ToArray()))
            throw new ArgumentException("A P-256 private key is 32 bytes in [1, n).", nameof(secret32));
        return new OcmfKey(new BigInteger(1, secret32));
    }

    /// <summary>The public key.</summary>
    public ECPublicKeyParameters PublicKey { get; }

    /// <summary>
    /// The public key as DER SubjectPublicKeyInfo in hex, the form OCMF verifiers (Transparenzsoftware) take: algorithm
    /// id-ecPublicKey with the named curve secp256r1 (RFC 5480), uncompressed point; 91 bytes.
    /// </summary>
    public string PublicKeyDerHex =>
        Convert.ToHexStringLower([.. SpkiPrefix, .. PublicKey.Q.GetEncoded(false)]);

    /// <summary>
    /// Reads a P-256 public key from DER SubjectPublicKeyInfo hex (what <see cref="PublicKeyDerHex"/> writes); false for
    /// anything else.
    /// </summary>
    public static bool TryParsePublicKey(string derHex, out ECPublicKeyParameters? publicKey)
    {
        publicKey = null;
        try
        {
            var der = Convert.FromHexString(derHex);
            if (der.Length == SpkiPrefix.Length + 65 && der.AsSpan(0, SpkiPrefix.Length).SequenceEqual(SpkiPrefix))
            {
                // DecodePoint refuses a point that is not on the curve.
                publicKey = new ECPublicKeyParameters(Curve.Curve.DecodePoint(der[SpkiPrefix.Length..]), Domain);
            }
        }
        catch (Exception e) when (e is FormatException or ArgumentException or InvalidOperationException or IOException or InvalidCastException)
        {
        }
        return publicKey is not null;
    }

    /// <summary>ECDSA-secp256r1-SHA256 over <paramref name="data"/>; DER-encoded (r, s).</summary>
    public byte[] Sign(ReadOnlySpan<byte> data)
    {
        var digest = Sha256.HashData(data);
        var signer = new ECDsaSigner(new HMacDsaKCalculator(new Sha256Digest()));
        signer.Init(true, _private);
        var rs = signer.GenerateSignature(digest);
        return StandardDsaEncoding.Instance.Encode(Domain.N, rs[0], rs[1]);
    }

    /// <summary>Verifies a DER signature over <paramref name="data"/> with <paramref name="publicKey"/>.</summary>
    public static bool Verify(ECPublicKeyParameters publicKey, ReadOnlySpan<byte> data, byte[] derSignature)
    {
        ArgumentNullException.ThrowIfNull(publicKey);
        try
        {
            var rs = StandardDsaEncoding.Instance.Decode(Domain.N, derSignature);
            var verifier = new ECDsaSigner();
            verifier.Init(false, publicKey);
            return verifier.VerifySignature(Sha256.HashData(data), rs[0], rs[1]);
        }
        catch (ArgumentException)
        {
            return false;
        }
    }

    /// <summary>The owner's identifier in logs: the public key's fingerprint, never the secret.</summary>
    public override string ToString() => "P-256 " + PublicKeyDerHex[^16..];

    private static bool IsValid(byte[] secret)
    {
        var d = new BigInteger(1, secret);
        return d.SignValue > 0 && d.CompareTo(Domain.N) < 0;
    }
}
