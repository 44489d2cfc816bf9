using EdgeMeter.Crypto.Files;

namespace EdgeMeter.Agent.Storage;

/// <summary>
/// Counts agent starts in a small file in the data directory, so the retained status (birth and death messages)
/// tells a restarted gateway from a flapping connection. Written through <see cref="AtomicFile"/>.
/// </summary>
internal sealed class BootCounter
{
    public const string FileName = "boot.count";

    private BootCounter(long count) => Count = count;

    public long Count { get; }

    public static BootCounter Increment(string dataDirectory, IFileMedium? medium = null)
    {
        medium ??= OsFileMedium.Instance;
        var path = Path.Combine(dataDirectory, FileName);
        long previous = 0;
        if (medium.Exists(path) && !long.TryParse(System.Text.Encoding.UTF8.GetString(medium.ReadAllBytes(path)).Trim(), System.Globalization.CultureInfo.InvariantCulture, out previous))
            previous = 0;
        var next = previous + 1;
        medium.WriteAtomic(path, System.Text.Encoding.UTF8.GetBytes(next.ToString(System.Globalization.CultureInfo.InvariantCulture)), AtomicFile.OwnerOnly, overwrite: true);
        return new BootCounter(next);
    }
}
