namespace EdgeMeter.Crypto.Files;

/// <summary>
/// Where the gateway's small durable files live. The operating system's file system in production
/// (<see cref="OsFileMedium"/>); a test can put a layer underneath that forgets unsynced writes at a simulated
/// power cut.
/// </summary>
public interface IFileMedium
{
    /// <summary>Whether <paramref name="path"/> exists.</summary>
    bool Exists(string path);

    /// <summary>The whole file.</summary>
    /// <exception cref="IOException">It cannot be read.</exception>
    byte[] ReadAllBytes(string path);

    /// <summary>The file's permission bits.</summary>
    UnixFileMode GetUnixFileMode(string path);

    /// <summary>Creates <paramref name="path"/> and its parents, with <paramref name="mode"/> for new ones, durably (<see cref="AtomicFile.CreateDirectory"/>).</summary>
    void CreateDirectory(string path, UnixFileMode mode);

    /// <summary>The semantics of <see cref="AtomicFile.Write"/>: durable when it returns.</summary>
    bool WriteAtomic(string path, ReadOnlySpan<byte> content, UnixFileMode mode, bool overwrite);
}

/// <summary>The operating system's file system.</summary>
public sealed class OsFileMedium : IFileMedium
{
    /// <summary>The one instance.</summary>
    public static OsFileMedium Instance { get; } = new();

    private OsFileMedium()
    {
    }

    /// <inheritdoc />
    public bool Exists(string path) => File.Exists(path);

    /// <inheritdoc />
    public byte[] ReadAllBytes(string path) => File.ReadAllBytes(path);

    /// <inheritdoc />
    public UnixFileMode GetUnixFileMode(string path) => OperatingSystem.IsWindows() ? AtomicFile.OwnerOnly : File.GetUnixFileMode(path);

    /// <inheritdoc />
    public void CreateDirectory(string path, UnixFileMode mode) => AtomicFile.CreateDirectory(path, mode);

    /// <inheritdoc />
    public bool WriteAtomic(string path, ReadOnlySpan<byte> content, UnixFileMode mode, bool overwrite) =>
        AtomicFile.Write(path, content, mode, overwrite);
}
