using EdgeMeter.Crypto.Files;

namespace EdgeMeter.Agent.Storage;

/// <summary>
/// The stream under LiteDB's log file that lets a commit wait until it is on the medium. LiteDB 5.0.20 returns from
/// a commit once its pages are queued; a writer thread writes and syncs them a moment later. A power cut in that
/// moment loses a commit the gateway already treated as stored (and may have published), so the store waits here.
/// </summary>
/// <remarks>
/// The last page a commit writes to the log carries LiteDB's "confirmed" flag (page header byte 18, a pinned format
/// of 5.0.x; the power-cut tests fail if it moves). This stream counts those pages as they are written and as they
/// are synced; LiteDB's flush of a stream that is not a <see cref="FileStream"/> is <see cref="Flush()"/>, which is
/// made an fsync here (<see cref="AtomicFile.Sync"/>, which unlike <c>FileStream.Flush(true)</c> reports a failed fsync). The
/// data file goes through the same class, for that fsync. A failed sync fails every commit waiting for it, and every
/// later one: after a failed fsync Linux may drop the dirty pages, so no later sync can vouch for them.
/// </remarks>
internal sealed class CommitFence : Stream
{
    /// <summary>LiteDB's page size and the offset of the "confirmed" byte in its page header (5.0.x).</summary>
    private const int PageSize = 8192;
    private const int ConfirmedOffset = 18;

    private readonly Stream _inner;
    private readonly object _gate = new(); // Monitor.Wait/PulseAll, which System.Threading.Lock does not offer
    private long _confirmsWritten;
    private long _confirmsSynced;
    private IOException? _syncFailed;

    /// <param name="inner">The file (owned: disposed with this stream).</param>
    public CommitFence(Stream inner) => _inner = inner;

    /// <summary>
    /// Opens <paramref name="path"/> for LiteDB: read-write, created if missing, shared with read-only readers; then
    /// syncs its directory, so that the file's name is on the medium before any commit into it counts as durable (a
    /// commit's fsync covers the file's data, not its name). Every time, not only on creation: a process killed
    /// between creating the file and that sync leaves a file whose name a later power cut could still take.
    /// </summary>
    public static CommitFence OpenFile(string path)
    {
        var stream = new FileStream(path, new FileStreamOptions
        {
            Mode = FileMode.OpenOrCreate,
            Access = FileAccess.ReadWrite,
            Share = FileShare.ReadWrite,
            Options = FileOptions.RandomAccess,
            BufferSize = 0,
            UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
        });
        try
        {
            AtomicFile.SyncDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        }
        catch
        {
            stream.Dispose();
            throw;
        }
        return new CommitFence(stream);
    }

    /// <summary>Commits whose last page was synced.</summary>
    public long ConfirmsSynced
    {
        get
        {
            lock (_gate)
                return _confirmsSynced;
        }
    }

    /// <summary>Commits whose last page was written (synced or not).</summary>
    public long ConfirmsWritten
    {
        get
        {
            lock (_gate)
                return _confirmsWritten;
        }
    }

    /// <summary>
    /// Runs one LiteDB write through the log this fence guards, which commits <paramref name="commits"/> times, and
    /// returns once those commits are synced.
    /// </summary>
    /// <exception cref="IOException">Not synced within <paramref name="timeout"/>.</exception>
    public T Durably<T>(int commits, TimeSpan timeout, Func<T> write)
    {
        var before = ConfirmsWritten;
        var result = write();
        WaitSynced(before, commits, timeout);
        return result;
    }

    /// <summary>Waits until <paramref name="commits"/> commits after <paramref name="before"/> are synced.</summary>
    /// <exception cref="IOException">Not within <paramref name="timeout"/>: the disk is not syncing.</exception>
    public void WaitSynced(long before, int commits, TimeSpan timeout)
    {
        var target = before + commits;
        var deadline = Environment.TickCount64 + (long)timeout.TotalMilliseconds;
        lock (_gate)
        {
            while (_confirmsSynced < target)
            {
                if (_syncFailed is not null)
                    throw new IOException("the record store's log could not be synced: " + _syncFailed.Message, _syncFailed);
                var left = deadline - Environment.TickCount64;
                if (left <= 0 || !Monitor.Wait(_gate, TimeSpan.FromMilliseconds(Math.Min(left, 1000))) && Environment.TickCount64 >= deadline)
                    throw new IOException($"the record store's log was not synced within {timeout.TotalSeconds} s");
            }
        }
    }

    public override bool CanRead => _inner.CanRead;
    public override bool CanSeek => _inner.CanSeek;
    public override bool CanWrite => _inner.CanWrite;
    public override long Length => _inner.Length;

    public override long Position
    {
        get => _inner.Position;
        set => _inner.Position = value;
    }

    public override int Read(byte[] buffer, int offset, int count) => _inner.Read(buffer, offset, count);

    public override void Write(byte[] buffer, int offset, int count)
    {
        _inner.Write(buffer, offset, count);
        if (count == PageSize && buffer[offset + ConfirmedOffset] != 0)
        {
            lock (_gate)
                _confirmsWritten++;
        }
    }

    /// <summary>The sync: fsync for a file, the inner stream's own flush otherwise.</summary>
    public override void Flush()
    {
        long covered;
        lock (_gate)
            covered = _confirmsWritten;
        try
        {
            if (_inner is FileStream file)
                AtomicFile.Sync(file);
            else
                _inner.Flush();
        }
        catch (IOException e)
        {
            lock (_gate)
            {
                _syncFailed ??= e;
                Monitor.PulseAll(_gate);
            }
            throw;
        }
        lock (_gate)
        {
            if (_syncFailed is not null)
                throw new IOException("an earlier sync of this file failed", _syncFailed);
            _confirmsSynced = Math.Max(_confirmsSynced, covered);
            Monitor.PulseAll(_gate);
        }
    }

    public override long Seek(long offset, SeekOrigin origin) => _inner.Seek(offset, origin);

    public override void SetLength(long value) => _inner.SetLength(value);

    protected override void Dispose(bool disposing)
    {
        if (disposing)
            _inner.Dispose();
        base.Dispose(disposing);
    }
}
