using EdgeMeter.Crypto.Files;

namespace EdgeMeter.Agent.Tests.Storage.PowerCut;

/// <summary>
/// A disk that loses power. Every write lands in a volatile copy of its file; only a sync (a stream's
/// <see cref="Stream.Flush()"/>, which is what LiteDB calls where it would call <c>FileStream.Flush(true)</c>, and the
/// file and directory syncs of <see cref="IFileMedium.WriteAtomic"/>) makes it durable. A directory entry (a rename, a
/// new file) is durable only after the directory is synced. At the cut, set as the n-th mutating operation from now,
/// that operation is torn and every thread that touches the disk from then on stops for good, as a process without
/// power does: no error handler, no finalizer, no dispose runs. <see cref="Reboot"/> throws away everything not synced,
/// but for a torn write: a prefix of it in whole 512-byte sectors of the file (possibly none) reached the medium, as a
/// drive writes a sector whole or not at all but a page of several sectors in part.
/// </summary>
internal sealed class CutDisk : IFileMedium
{
    private readonly Lock _gate = new();
    private readonly Random _random;
    private readonly List<Inode> _inodes = [];
    private Dictionary<string, Inode> _current = new(StringComparer.Ordinal);
    private Dictionary<string, Inode> _durable = new(StringComparer.Ordinal);
    private long _ops;
    private long _cutAt = long.MaxValue;
    private int _generation;

    public CutDisk(int seed) => _random = new Random(seed);

    /// <summary>Power is off: every operation fails until <see cref="Reboot"/>.</summary>
    public bool Crashed { get; private set; }

    /// <summary>The operation each cut interrupted ("edgemeter-log.db write", "device.key rename", ...).</summary>
    public List<string> Cuts { get; } = [];

    /// <summary>Syncs so far, per file name.</summary>
    public Dictionary<string, int> Syncs { get; } = new(StringComparer.Ordinal);

    /// <summary>The cut falls on the <paramref name="n"/>-th mutating operation from now (1 = the next one).</summary>
    public void CutAfter(long n)
    {
        lock (_gate)
            _cutAt = _ops + n;
    }

    /// <summary>Cuts now, between two operations.</summary>
    public void CutNow(string label)
    {
        lock (_gate)
        {
            Crashed = true;
            Cuts.Add(label);
        }
    }

    /// <summary>Power back: what was synced is there, nothing else.</summary>
    public void Reboot()
    {
        lock (_gate)
        {
            _current = new Dictionary<string, Inode>(_durable, StringComparer.Ordinal);
            foreach (var inode in _inodes)
                inode.Revert();
            Crashed = false;
            _cutAt = long.MaxValue;
            // Streams of the process that died stay dead, whatever its threads still try.
            _generation++;
        }
    }

    /// <summary>Whether <paramref name="path"/> has writes that a cut would lose.</summary>
    public bool HasUnsynced(string path)
    {
        lock (_gate)
            return _current.TryGetValue(path, out var inode) && inode.Dirty;
    }

    /// <summary>
    /// A random-access stream on <paramref name="path"/> (created empty if missing). The file's directory entry is
    /// taken as durable: the store's files are created once, at installation.
    /// </summary>
    public Stream Open(string path) => Do(() =>
    {
        {
            ThrowIfCrashed();
            if (!_current.TryGetValue(path, out var inode))
            {
                inode = NewInode(AtomicFile.OwnerOnly);
                _current[path] = inode;
                _durable[path] = inode;
            }
            return (Stream)new CutStream(this, inode, Path.GetFileName(path), _generation);
        }
    });

    public bool Exists(string path) => Do(() =>
    {
        ThrowIfCrashed();
        return _current.ContainsKey(path);
    });

    public byte[] ReadAllBytes(string path) => Do(() =>
    {
        ThrowIfCrashed();
        return _current.TryGetValue(path, out var inode) ? inode.Current.ToArray() : throw new FileNotFoundException(path);
    });

    public UnixFileMode GetUnixFileMode(string path) => Do(() =>
    {
        ThrowIfCrashed();
        return _current[path].Mode;
    });

    public void CreateDirectory(string path, UnixFileMode mode)
    {
    }

    /// <summary>The steps of <see cref="AtomicFile.Write"/>, each one a place for the cut.</summary>
    public bool WriteAtomic(string path, ReadOnlySpan<byte> content, UnixFileMode mode, bool overwrite)
    {
        var name = Path.GetFileName(path);
        var temp = path + ".tmp";
        var bytes = content.ToArray();
        return Do(() =>
        {
            Step(name + " create temp");
            var inode = NewInode(mode);
            _current[temp] = inode;
            Step(name + " write", torn: n => inode.Tear(0, bytes.AsSpan(0, Math.Min(n, bytes.Length))), size: bytes.Length);
            inode.Current.Write(bytes);
            inode.Dirty = true;
            Step(name + " sync");
            inode.Sync();
            if (!overwrite && _current.ContainsKey(path))
            {
                _current.Remove(temp);
                return false;
            }
            Step(name + " rename");
            _current[path] = inode;
            _current.Remove(temp);
            Step(name + " directory sync");
            _durable = new Dictionary<string, Inode>(_current, StringComparer.Ordinal);
            Syncs[name] = Syncs.GetValueOrDefault(name) + 1;
            return true;
        });
    }

    private Inode NewInode(UnixFileMode mode)
    {
        var inode = new Inode(mode);
        _inodes.Add(inode);
        return inode;
    }

    private void ThrowIfCrashed()
    {
        if (Crashed)
            throw new PowerOff();
    }

    /// <summary>Thrown inside the lock, turned into <see cref="Freeze"/> outside it.</summary>
    private sealed class PowerOff : Exception;

    private readonly HashSet<int> _frozen = [];

    /// <summary>Whether <paramref name="thread"/> touched the disk after the cut and stopped there.</summary>
    public bool IsFrozen(Thread thread)
    {
        lock (_frozen)
            return _frozen.Contains(thread.ManagedThreadId);
    }

    private void Freeze()
    {
        lock (_frozen)
            _frozen.Add(Environment.CurrentManagedThreadId);
        Thread.Sleep(Timeout.Infinite);
    }

    /// <summary>Runs one disk operation under the lock; a thread that meets the cut stops outside it.</summary>
    private T Do<T>(Func<T> operation)
    {
        try
        {
            lock (_gate)
                return operation();
        }
        catch (PowerOff)
        {
            Freeze();
            throw;
        }
    }

    private void Do(Action operation) => Do(() =>
    {
        operation();
        return 0;
    });

    /// <summary>One mutating operation; at the cut, <paramref name="torn"/> applies part of it first.</summary>
    private void Step(string label, Action<int>? torn = null, int size = 0)
    {
        ThrowIfCrashed();
        _ops++;
        if (_ops < _cutAt)
            return;
        torn?.Invoke(_random.Next(0, Math.Max(1, size)));
        Crashed = true;
        Cuts.Add(label);
        throw new PowerOff();
    }

    private sealed class Inode(UnixFileMode mode)
    {
        private const int Sector = 512;

        private byte[] _durable = [];

        public UnixFileMode Mode { get; } = mode;

        public MemoryStream Current { get; private set; } = new();

        public bool Dirty { get; set; }

        public void Sync()
        {
            _durable = Current.ToArray();
            Dirty = false;
        }

        /// <summary>
        /// A write the power cut short: of <paramref name="started"/> (the bytes it got to), the whole sectors of the file
        /// reach the medium, the sector it was in does not.
        /// </summary>
        public void Tear(long at, ReadOnlySpan<byte> started)
        {
            var keep = (int)Math.Max(0, (at + started.Length) / Sector * Sector - at);
            if (keep == 0)
                return;
            if (_durable.Length < at + keep)
                Array.Resize(ref _durable, (int)(at + keep));
            started[..keep].CopyTo(_durable.AsSpan((int)at));
        }

        public void Revert()
        {
            Current = new MemoryStream();
            Current.Write(_durable);
            Dirty = false;
        }
    }

    private sealed class CutStream(CutDisk disk, Inode inode, string name, int generation) : Stream
    {
        private void ThrowIfDead()
        {
            // Streams of a process that lost power belong to threads that never run again.
            if (disk.Crashed || generation != disk._generation)
                throw new PowerOff();
        }

        private long _position;

        public override bool CanRead => true;
        public override bool CanSeek => true;
        public override bool CanWrite => true;

        public override long Length => disk.Do(() =>
        {
            ThrowIfDead();
            return inode.Current.Length;
        });

        public override long Position
        {
            get => _position;
            set => _position = value;
        }

        public override int Read(byte[] buffer, int offset, int count) => disk.Do(() =>
        {
            {
                ThrowIfDead();
                inode.Current.Position = _position;
                var n = inode.Current.Read(buffer, offset, count);
                _position += n;
                return n;
            }
        });

        public override void Write(byte[] buffer, int offset, int count) => disk.Do(() =>
        {
            {
                var at = _position;
                ThrowIfDead();
                disk.Step(name + " write", torn: n => inode.Tear(at, buffer.AsSpan(offset, n)), size: count);
                inode.Current.Position = _position;
                inode.Current.Write(buffer, offset, count);
                inode.Dirty = true;
                _position += count;
            }
        });

        /// <summary>The sync.</summary>
        public override void Flush() => disk.Do(() =>
        {
            {
                ThrowIfDead();
                disk.Step(name + " sync");
                inode.Sync();
                disk.Syncs[name] = disk.Syncs.GetValueOrDefault(name) + 1;
            }
        });

        public override void SetLength(long value) => disk.Do(() =>
        {
            {
                ThrowIfDead();
                disk.Step(name + " set length");
                inode.Current.SetLength(value);
                inode.Dirty = true;
            }
        });

        public override long Seek(long offset, SeekOrigin origin)
        {
            _position = origin switch
            {
                SeekOrigin.Begin => offset,
                SeekOrigin.Current => _position + offset,
                _ => Length + offset,
            };
            return _position;
        }
    }
}
