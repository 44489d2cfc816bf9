namespace EdgeMeter.Agent.Storage;

/// <summary>
/// Counts agent starts in a small file in the data directory, so the retained status (birth and death messages)
/// tells a restarted gateway from a flapping connection. Written atomically (temp, fsync, rename).
/// </summary>
internal sealed class BootCounter
{
    public const string FileName = "boot.count";

    private BootCounter(long count) => Count = count;

    public long Count { get; }

    public static BootCounter Increment(string dataDirectory)
    {
        var path = Path.Combine(dataDirectory, FileName);
        long previous = 0;
        if (File.Exists(path) && !long.TryParse(File.ReadAllText(path).Trim(), System.Globalization.CultureInfo.InvariantCulture, out previous))
            previous = 0;
        var next = previous + 1;
        AtomicFile.WriteAllText(path, next.ToString(System.Globalization.CultureInfo.InvariantCulture));
        return new BootCounter(next);
    }
}

/// <summary>Writes a file so that a crash leaves either the old or the new content, never a torn one.</summary>
internal static class AtomicFile
{
    public static void WriteAllText(string path, string content, UnixFileMode mode = UnixFileMode.UserRead | UnixFileMode.UserWrite) =>
        WriteAllBytes(path, System.Text.Encoding.UTF8.GetBytes(content), mode);

    public static void WriteAllBytes(string path, ReadOnlySpan<byte> bytes, UnixFileMode mode = UnixFileMode.UserRead | UnixFileMode.UserWrite)
    {
        var temp = path + ".tmp";
        using (var stream = new FileStream(temp, new FileStreamOptions
               {
                   Mode = FileMode.Create,
                   Access = FileAccess.Write,
                   UnixCreateMode = mode,
               }))
        {
            stream.Write(bytes);
            stream.Flush(flushToDisk: true);
        }
        File.Move(temp, path, overwrite: true);
    }
}
