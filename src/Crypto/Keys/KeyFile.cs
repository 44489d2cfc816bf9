using System.Security.Cryptography;
using System.Text;
using EdgeMeter.Crypto.Files;
using EdgeMeter.Crypto.Entropy;

namespace EdgeMeter.Crypto.Keys;

/// <summary>
/// Reads and creates 32-byte private-key files: owner-only mode 0600, created through <see cref="AtomicFile"/>
/// (a temporary file made with mode 0600 from the start, synced, renamed, directory synced), and refused when group
/// or others can read them.
/// </summary>
internal static class KeyFile
{
    private const UnixFileMode OwnerOnly = UnixFileMode.UserRead | UnixFileMode.UserWrite;
    private const UnixFileMode GroupOrOther =
        UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.GroupExecute |
        UnixFileMode.OtherRead | UnixFileMode.OtherWrite | UnixFileMode.OtherExecute;

    /// <summary>
    /// Loads the 32-byte secret at <paramref name="path"/>, or creates one from the OS CSPRNG.
    /// <paramref name="isValid"/> decides whether a secret is a usable scalar for the curve.
    /// </summary>
    public static byte[] LoadOrCreate(string path, Func<byte[], bool> isValid, IFileMedium? medium = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        medium ??= OsFileMedium.Instance;
        if (medium.Exists(path))
            return Load(path, isValid, medium);

        byte[] secret = new byte[32];
        do
        {
            KernelRandom.Fill(secret);
        }
        while (!isValid(secret));

        try
        {
            if (System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(path)) is { } directory)
                medium.CreateDirectory(directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            // Without overwrite: if another process won the race, its key stands and we load it.
            if (medium.WriteAtomic(path, secret, OwnerOnly, overwrite: false))
                return secret;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            CryptographicOperations.ZeroMemory(secret);
            throw new KeyFileException(KeyFileError.Io, path, $"cannot create key file {path}: {e.Message}", e);
        }
        CryptographicOperations.ZeroMemory(secret);
        return Load(path, isValid, medium);
    }

    /// <summary>Loads the secret at <paramref name="path"/>; never creates one.</summary>
    /// <exception cref="KeyFileException">Missing (<see cref="KeyFileError.Missing"/>), insecure, malformed or unreadable.</exception>
    public static byte[] Load(string path, Func<byte[], bool> isValid, IFileMedium? medium = null)
    {
        medium ??= OsFileMedium.Instance;
        if (!medium.Exists(path))
            throw new KeyFileException(KeyFileError.Missing, path, $"no key file at {path}");
        return LoadExisting(path, isValid, medium);
    }

    private static byte[] LoadExisting(string path, Func<byte[], bool> isValid, IFileMedium medium)
    {
        byte[] content;
        try
        {
            if (!OperatingSystem.IsWindows())
            {
                var mode = medium.GetUnixFileMode(path);
                if ((mode & GroupOrOther) != 0)
                {
                    throw new KeyFileException(KeyFileError.InsecurePermissions, path,
                        $"key file {path} is accessible to group or others (mode {ModeText(mode)}); run: chmod 600 {path}");
                }
            }
            content = medium.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new KeyFileException(KeyFileError.Io, path, $"cannot read key file {path}: {e.Message}", e);
        }

        try
        {
            byte[] secret = Decode(content) ?? throw new KeyFileException(KeyFileError.Malformed, path,
                $"key file {path} is neither 32 raw bytes nor 64 hex digits");
            if (!isValid(secret))
            {
                CryptographicOperations.ZeroMemory(secret);
                throw new KeyFileException(KeyFileError.Malformed, path, $"key file {path} holds an out-of-range private key");
            }
            return secret;
        }
        finally
        {
            CryptographicOperations.ZeroMemory(content);
        }
    }

    private static byte[]? Decode(byte[] content)
    {
        if (content.Length == 32)
            return (byte[])content.Clone();

        // Hex form, as an operator might paste it: optional 0x, surrounding whitespace.
        var text = Encoding.ASCII.GetString(content).AsSpan().Trim();
        if (text.StartsWith("0x", StringComparison.OrdinalIgnoreCase))
            text = text[2..];
        if (text.Length != 64)
            return null;
        var secret = new byte[32];
        return Convert.FromHexString(text, secret, out _, out int written) == System.Buffers.OperationStatus.Done && written == 32 ? secret : null;
    }

    private static string ModeText(UnixFileMode mode) => Convert.ToString((int)mode & 0x1FF, 8).PadLeft(4, '0');
}
