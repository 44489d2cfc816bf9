using System.Runtime.InteropServices;
using EdgeMeter.Crypto.Entropy;

namespace EdgeMeter.Crypto.Files;

/// <summary>
/// The one way the gateway writes a small file (device key, OCMF key, boot counter, pairing, factor state): a
/// temporary file in the same directory, written and fsynced, renamed into place, then the directory fsynced.
/// Without the last step a power cut on ext4 can forget the rename and leave the old file, or none at all
/// (for a key: a new device identity).
/// </summary>
public static partial class AtomicFile
{
    /// <summary>Read and write for the owner only.</summary>
    public const UnixFileMode OwnerOnly = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    /// <summary>
    /// Replaces <paramref name="path"/> with <paramref name="content"/> so that after a crash it holds either the old
    /// or the new content. With <paramref name="overwrite"/> false an existing file is left alone and the result is
    /// false (another writer won). Returns once the content and the rename are on the medium.
    /// </summary>
    /// <exception cref="IOException">The file or its directory cannot be written or synced.</exception>
    public static bool Write(string path, ReadOnlySpan<byte> content, UnixFileMode mode = OwnerOnly, bool overwrite = true)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var full = Path.GetFullPath(path);
        var directory = Path.GetDirectoryName(full)!;
        var temp = full + ".tmp-" + Convert.ToHexStringLower(KernelRandom.GetBytes(6));
        try
        {
            var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, Share = FileShare.None };
            if (!OperatingSystem.IsWindows())
                options.UnixCreateMode = mode;
            using (var stream = new FileStream(temp, options))
            {
                stream.Write(content);
                Sync(stream);
            }
            if (!overwrite && File.Exists(full))
            {
                File.Delete(temp);
                return false;
            }
            File.Move(temp, full, overwrite);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            TryDelete(temp);
            if (!overwrite && File.Exists(full))
                return false;
            throw e as IOException ?? new IOException(e.Message, e);
        }
        SyncDirectory(directory);
        return true;
    }

    /// <summary>Read, write and search for the owner only: the mode of the gateway's data directories.</summary>
    public const UnixFileMode OwnerOnlyDirectory = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;

    /// <summary>
    /// Creates <paramref name="path"/> and any missing parents (with <paramref name="mode"/>), each new directory made
    /// durable by an fsync of its parent. A new directory's name is a change to its parent like a new file's: without
    /// that sync a power cut can take the directory away with everything synced inside it (for the data directory:
    /// the key, so a new device identity, and every stored record). Does nothing to a directory that exists.
    /// </summary>
    /// <exception cref="IOException">A directory cannot be created or its parent cannot be synced.</exception>
    public static void CreateDirectory(string path, UnixFileMode mode = OwnerOnlyDirectory)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var full = Path.GetFullPath(path);
        if (Directory.Exists(full))
            return;
        var parent = Path.GetDirectoryName(full);
        if (parent is not null)
            CreateDirectory(parent, mode);
        if (OperatingSystem.IsWindows())
            Directory.CreateDirectory(full);
        else
            Directory.CreateDirectory(full, mode);
        if (parent is not null)
            SyncDirectory(parent);
    }

    /// <summary>
    /// Writes out <paramref name="file"/>'s buffer and fsyncs it, and throws when the kernel reports that the sync
    /// failed. <c>FileStream.Flush(true)</c> does not: on .NET 10 (Linux) it returns normally when fsync fails (an
    /// EIO from a failing medium, seen on the test file system cutfs), so a write that never reached the medium
    /// would count as durable.
    /// </summary>
    /// <exception cref="IOException">The sync failed.</exception>
    public static void Sync(FileStream file)
    {
        ArgumentNullException.ThrowIfNull(file);
        if (OperatingSystem.IsWindows())
        {
            file.Flush(flushToDisk: true);
            return;
        }
        file.Flush();
        int result;
        do
            result = FsyncHandle(file.SafeFileHandle);
        while (result != 0 && Marshal.GetLastPInvokeError() == 4 /* EINTR */);
        if (result != 0)
            throw new IOException($"fsync of {file.Name} failed (errno {Marshal.GetLastPInvokeError()})");
    }

    /// <summary>fsync on a directory, so that a rename or a new file in it survives a power cut.</summary>
    /// <exception cref="IOException">The directory cannot be opened or synced.</exception>
    public static void SyncDirectory(string directory)
    {
        if (OperatingSystem.IsWindows())
            return;
        var fd = Open(directory, 0 /* O_RDONLY */);
        if (fd < 0)
            throw new IOException($"cannot open directory {directory} to sync it (errno {Marshal.GetLastPInvokeError()})");
        try
        {
            if (Fsync(fd) != 0)
                throw new IOException($"fsync of directory {directory} failed (errno {Marshal.GetLastPInvokeError()})");
        }
        finally
        {
            _ = Close(fd);
        }
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
        }
    }

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Open(string path, int flags);

    [LibraryImport("libc", EntryPoint = "fsync", SetLastError = true)]
    private static partial int Fsync(int fd);

    [LibraryImport("libc", EntryPoint = "fsync", SetLastError = true)]
    private static partial int FsyncHandle(Microsoft.Win32.SafeHandles.SafeFileHandle fd);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    private static partial int Close(int fd);
}
