namespace EdgeMeter.Crypto.Keys;

/// <summary>A secp256k1 key kept in one file (mode 0600) in the data directory.</summary>
public sealed class FileDeviceKey : IDeviceKey
{
    private FileDeviceKey() { }

    /// <summary>Loads the key at <paramref name="path"/>, or makes one from the OS CSPRNG and writes it with mode 0600.</summary>
    public static FileDeviceKey LoadOrCreate(string path) => throw new NotImplementedException("contract stub: crypto helper");

    /// <inheritdoc />
    public string Address => throw new NotImplementedException();

    /// <inheritdoc />
    public ReadOnlyMemory<byte> PublicKey => throw new NotImplementedException();

    /// <inheritdoc />
    public void SignDigest(ReadOnlySpan<byte> digest32, Span<byte> signature65) => throw new NotImplementedException();

    /// <inheritdoc />
    public void Dispose() { }
}
