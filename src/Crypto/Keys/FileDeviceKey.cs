using System.Security.Cryptography;
using EdgeMeter.Crypto.Curves;
using EdgeMeter.Crypto.Files;

namespace EdgeMeter.Crypto.Keys;

/// <summary>A secp256k1 key kept in one file (mode 0600) in the data directory.</summary>
/// <remarks>
/// The private scalar is held as four 64-bit limbs inside this object and wiped on <see cref="Dispose"/>; the
/// raw bytes read from disk are wiped as soon as the scalar is made. No member returns or prints the secret.
/// </remarks>
public sealed class FileDeviceKey : IDeviceKey
{
    private Scalar _d;
    private readonly byte[] _publicKey = new byte[65];
    private bool _disposed;

    private FileDeviceKey(ReadOnlySpan<byte> secret32)
    {
        _d = Scalar.Read(secret32, out _);
        Secp256k1.PublicKeyOf(_d, _publicKey);
        Address = EthereumAddress.FromPublicKey(_publicKey);
    }

    /// <summary>Loads the key at <paramref name="path"/>, or makes one from the OS CSPRNG and writes it with mode 0600.</summary>
    /// <exception cref="KeyFileException">The file is accessible to group or others, malformed, or cannot be read or written.</exception>
    public static FileDeviceKey LoadOrCreate(string path, IFileMedium? medium = null) =>
        FromFileSecret(KeyFile.LoadOrCreate(path, IsValidSecret, medium));

    /// <summary>Loads the key at <paramref name="path"/>; never creates one (readers such as <c>keys show</c>).</summary>
    /// <exception cref="KeyFileException">No file (<see cref="KeyFileError.Missing"/>), or insecure, malformed or unreadable.</exception>
    public static FileDeviceKey Load(string path) => FromFileSecret(KeyFile.Load(path, IsValidSecret));

    private static FileDeviceKey FromFileSecret(byte[] secret)
    {
        try
        {
            return new FileDeviceKey(secret);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(secret);
        }
    }

    /// <summary>A key from a 32-byte secret held in memory, for tests and for keys provisioned by other means.</summary>
    /// <exception cref="ArgumentException">The secret is not a valid secp256k1 private key.</exception>
    public static FileDeviceKey FromSecret(ReadOnlySpan<byte> secret32)
    {
        if (!Secp256k1.IsValidPrivateKey(secret32))
            throw new ArgumentException("A secp256k1 private key is 32 bytes in [1, n).", nameof(secret32));
        return new FileDeviceKey(secret32);
    }

    /// <inheritdoc />
    public string Address { get; }

    /// <inheritdoc />
    public ReadOnlyMemory<byte> PublicKey => _publicKey;

    /// <inheritdoc />
    public void SignDigest(ReadOnlySpan<byte> digest32, Span<byte> signature65)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        Secp256k1Signer.Sign(_d, digest32, signature65);
    }

    /// <summary>The address only: a key never prints its secret.</summary>
    public override string ToString() => Address;

    /// <inheritdoc />
    public void Dispose()
    {
        _d = default;
        _disposed = true;
    }

    private static bool IsValidSecret(byte[] secret) => Secp256k1.IsValidPrivateKey(secret);
}
