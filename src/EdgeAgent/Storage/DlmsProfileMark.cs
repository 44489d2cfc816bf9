using System.Globalization;
using System.Text;
using EdgeMeter.Crypto.Files;

namespace EdgeMeter.Agent.Storage;

/// <summary>
/// The capture time of the newest load-profile row of one DLMS meter that the gateway has signed
/// (<c>dlms-ID.profile</c>, Unix milliseconds), so that the next read-back starts after it. Written atomically after
/// the commit that holds the rows.
/// </summary>
internal sealed class DlmsProfileMark
{
    private readonly string _path;

    /// <param name="path">The mark file.</param>
    /// <param name="stored">The newest read-back row of this meter found in the store, which wins when the file lags
    /// (a power cut between the commit and the file).</param>
    public DlmsProfileMark(string path, DateTimeOffset? stored)
    {
        _path = path;
        DateTimeOffset? fromFile = null;
        if (File.Exists(path))
        {
            var text = File.ReadAllText(path).Trim();
            if (!long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var ms))
                throw new InvalidDataException($"{path}: not a load-profile mark (Unix milliseconds)");
            fromFile = DateTimeOffset.FromUnixTimeMilliseconds(ms);
        }
        Through = fromFile > stored || stored is null ? fromFile : stored;
    }

    /// <summary>The newest signed row's capture time; null when none was ever signed.</summary>
    public DateTimeOffset? Through { get; private set; }

    public void Save(DateTimeOffset through)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(_path))!);
        AtomicFile.Write(_path, Encoding.ASCII.GetBytes(through.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture) + "\n"));
        Through = through;
    }
}
