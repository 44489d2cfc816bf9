using System.Runtime.InteropServices;

namespace EdgeMeter.Agent.Configuration;

/// <summary>
/// Replaces a small file so that a power cut leaves either the old or the new content: write a temporary file
/// beside it, fsync it, rename it over the target, then fsync the directory so the rename itself is durable.
/// </summary>
internal static partial class AtomicFile
{
    /// <summary>Writes <paramref name="content"/> to <paramref name="path"/> atomically and durably.</summary>
    /// <param name="path">The target file.</param>
    /// <param name="content">The whole new content.</param>
    /// <param name="mode">Unix permissions of the new file (owner read/write by default).</param>
    /// <exception cref="IOException">The file or its directory could not be written or synced.</exception>
    public static void Write(string path, ReadOnlySpan<byte> content, UnixFileMode mode = UnixFileMode.UserRead | UnixFileMode.UserWrite)
    {
        var full = Path.GetFullPath(path);
        var directory = Path.GetDirectoryName(full) ?? throw new IOException($"{path}: no directory");
        var tmp = full + ".tmp";
        try
        {
            using (var stream = new FileStream(tmp, new FileStreamOptions
            {
                Mode = FileMode.Create,
                Access = FileAccess.Write,
                Share = FileShare.None,
                UnixCreateMode = OperatingSystem.IsWindows() ? null : mode,
            }))
            {
                stream.Write(content);
                stream.Flush(flushToDisk: true);
            }

            File.Move(tmp, full, overwrite: true);
        }
        catch
        {
            File.Delete(tmp);
            throw;
        }

        SyncDirectory(directory);
    }

    /// <summary>fsync of a directory, so that a rename in it survives a power cut (no-op off Unix).</summary>
    public static void SyncDirectory(string directory)
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        int fd = Open(directory, ReadOnlyDirectory);
        if (fd < 0)
        {
            throw new IOException($"{directory}: cannot open directory to sync it (errno {Marshal.GetLastPInvokeError()})");
        }

        try
        {
            if (Fsync(fd) != 0)
            {
                throw new IOException($"{directory}: fsync failed (errno {Marshal.GetLastPInvokeError()})");
            }
        }
        finally
        {
            _ = Close(fd);
        }
    }

    // O_RDONLY | O_CLOEXEC (the same numbers on x64 and arm64; O_DIRECTORY is not, and is not needed).
    private const int ReadOnlyDirectory = 0x80000;

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Open(string path, int flags);

    [LibraryImport("libc", EntryPoint = "fsync", SetLastError = true)]
    private static partial int Fsync(int fd);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    private static partial int Close(int fd);
}
