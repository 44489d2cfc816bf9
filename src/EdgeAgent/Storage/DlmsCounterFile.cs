using System.Globalization;
using System.Text;
using EdgeMeter.Crypto.Files;
using EdgeMeter.Protocols.Dlms;

namespace EdgeMeter.Agent.Storage;

/// <summary>
/// The HLS-GMAC invocation counters of one meter association, in a small file: the client counter is reserved in
/// blocks (the file holds the first value not yet reserved, written with fsync and rename before any value of a
/// block is used), so a crash skips values but never repeats one; the highest server counter seen is kept so a
/// meter that answers with an older counter is refused after a restart too.
/// </summary>
internal sealed class DlmsCounterFile : IInvocationCounterStore
{
    private readonly string _path;
    private readonly uint _block;
    private readonly Lock _lock = new();
    private uint _next;
    private uint _reservedUntil;

    public DlmsCounterFile(string path, uint block = 32)
    {
        _path = path;
        _block = Math.Max(1, block);
        if (File.Exists(path))
        {
            string[] parts = File.ReadAllText(path).Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            if (parts.Length != 2 || !uint.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out _next) ||
                !(parts[1] == "-" || uint.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out _)))
            {
                throw new InvalidDataException($"{path}: not an invocation counter file (\"NEXT SERVER\")");
            }

            LastServerCounter = parts[1] == "-" ? null : uint.Parse(parts[1], CultureInfo.InvariantCulture);
        }

        _reservedUntil = _next;
    }

    /// <summary>The highest server counter seen in earlier sessions.</summary>
    public uint? LastServerCounter { get; private set; }

    public uint Next()
    {
        lock (_lock)
        {
            if (_next == _reservedUntil)
            {
                if (_next > uint.MaxValue - _block)
                {
                    throw new DlmsException("invocation counter exhausted: the keys must be changed");
                }

                _reservedUntil = _next + _block;
                Save();
            }

            return _next++;
        }
    }

    /// <summary>Records the server's counter after a session.</summary>
    public void RecordServerCounter(uint? counter)
    {
        lock (_lock)
        {
            if (counter > LastServerCounter || (counter is not null && LastServerCounter is null))
            {
                LastServerCounter = counter;
                Save();
            }
        }
    }

    private void Save()
    {
        AtomicFile.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(_path))!);
        string server = LastServerCounter?.ToString(CultureInfo.InvariantCulture) ?? "-";
        AtomicFile.Write(_path, Encoding.ASCII.GetBytes(string.Create(CultureInfo.InvariantCulture, $"{_reservedUntil} {server}\n")));
    }
}

/// <summary>
/// One <see cref="DlmsCounterFile"/> per file in this process. The poller and the page's test read of the same meter
/// must draw from one counter: two instances on one file would each reserve a block from the same start and hand out
/// the same invocation counter twice, which repeats a GCM nonce under the same key.
/// </summary>
internal sealed class DlmsCounterFiles
{
    private readonly Dictionary<string, DlmsCounterFile> _files = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();

    /// <summary>The counter file at <paramref name="path"/>, opened once.</summary>
    public DlmsCounterFile Open(string path)
    {
        var full = Path.GetFullPath(path);
        lock (_gate)
        {
            if (!_files.TryGetValue(full, out var file))
            {
                file = new DlmsCounterFile(full);
                _files[full] = file;
            }

            return file;
        }
    }
}
