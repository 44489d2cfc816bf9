using EdgeMeter.Crypto.Files;
using LiteDB;
using LiteDB.Engine;

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
/// <para>
/// A log (<c>isLog</c>) is written so that a commit reaches the medium whole or not at all, with two syncs:
/// <list type="number">
/// <item>Pages before a transaction's confirming page are not synced on their own. LiteDB's writer flushes whenever
/// its queue runs dry, and a committing thread feeds that queue a page at a time, so a 500-record transaction was about
/// 55 fsyncs (9,500 for a day's backlog in the ledger, a fifth of the drain's processor time in the hypervisor's I/O
/// path). A flush with nothing written since the last sync but such pages does nothing.</item>
/// <item>The confirming page is written with its flag clear, synced together with every page before it (a barrier),
/// then its first 512-byte sector is written again with the flag set and synced at the commit's flush. A drive writes
/// a sector whole or not at all, but neither a page of several sectors nor the pages of a transaction in order:
/// written in one go, a cut could leave the confirming header on the medium without the rest, and LiteDB's recovery
/// restores whatever pages of a confirmed transaction it finds, so a commit came back in part (found on cutfs, where a
/// torn write keeps a prefix of the page: the restarted agent's appends then failed LiteDB's own checks, "stored slot
/// must be same as called", "get only index below highest index").</item>
/// <item>A size change (a checkpoint empties the log) is synced at once. LiteDB numbers transactions from 1 again
/// after a checkpoint; had the emptying not reached the medium, a new transaction's page written over the old log
/// would join the old, confirmed transaction of the same number.</item>
/// </list>
/// A write that is not one whole page is synced at the next flush.
/// </para>
/// </remarks>
internal sealed class CommitFence : Stream
{
    /// <summary>LiteDB's page size and the offset of the "confirmed" byte in its page header (5.0.x).</summary>
    private const int PageSize = 8192;
    private const int ConfirmedOffset = 18;
    /// <summary>The unit a drive writes whole or not at all; LiteDB's page header (id, type, transaction, flag) is inside it.</summary>
    private const int SectorSize = 512;

    private readonly Stream _inner;
    private readonly object _gate = new(); // Monitor.Wait/PulseAll, which System.Threading.Lock does not offer
    private long _confirmsWritten;
    private long _confirmsSynced;
    /// <summary>The first failed write, size change or sync: no later sync can vouch for what was written.</summary>
    private IOException? _syncFailed;
    /// <summary>The LiteDB engine on this file, kept for the life of the process once the file fails (<see cref="FaultedEngines"/>).</summary>
    private LiteEngine? _engine;
    private bool _faulted;
    private readonly bool _isLog;
    /// <summary>Written since the last sync: a confirming page, or a write that is not a whole page (read for a log only).</summary>
    private bool _syncNeeded;
    /// <summary>The confirming page with its flag clear (LiteDB's writer is one thread; its buffer is shared with readers).</summary>
    private byte[]? _unconfirmed;

    /// <param name="inner">The file (owned: disposed with this stream).</param>
    /// <param name="isLog">LiteDB's log: commits written and synced as the remarks say; otherwise every flush syncs.</param>
    public CommitFence(Stream inner, bool isLog = false)
    {
        _inner = inner;
        _isLog = isLog;
    }

    /// <summary>
    /// Opens <paramref name="path"/> for LiteDB: read-write, created if missing, shared with read-only readers; then
    /// syncs its directory, so that the file's name is on the medium before any commit into it counts as durable (a
    /// commit's fsync covers the file's data, not its name). Every time, not only on creation: a process killed
    /// between creating the file and that sync leaves a file whose name a later power cut could still take.
    /// </summary>
    public static CommitFence OpenFile(string path, bool isLog = false)
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
        return new CommitFence(stream, isLog);
    }

    /// <summary>
    /// LiteDB on <paramref name="data"/> and <paramref name="log"/>, which it then owns. If either file fails, the
    /// engine is kept reachable for the life of the process (<see cref="FaultedEngines"/>).
    /// </summary>
    public static LiteDatabase OpenDatabase(CommitFence data, CommitFence log)
    {
        var engine = new LiteEngine(new EngineSettings { DataStream = data, LogStream = log });
        data.Guard(engine);
        log.Guard(engine);
        return new LiteDatabase(engine);
    }

    /// <summary>
    /// Disposes the database <see cref="OpenDatabase"/> made and closes its files. LiteDB 5.0.20's dispose waits for
    /// its log writer to empty its queue, and a writer that failed never does: after a failure of either file, before
    /// or during the dispose, the engine is left to <see cref="FaultedEngines"/> and only the files are closed.
    /// </summary>
    public static void CloseDatabase(LiteDatabase db, CommitFence data, CommitFence log)
    {
        try
        {
            if (data.IsFaulted || log.IsFaulted)
                return;
            var disposing = Task.Run(db.Dispose);
            while (!disposing.Wait(100) && !data.IsFaulted && !log.IsFaulted)
            {
            }
            // Failed meanwhile: a second for whatever else LiteDB closes; its writer is dead and its wait will not end.
            if (!disposing.Wait(TimeSpan.FromSeconds(1)))
                return;
            disposing.GetAwaiter().GetResult();
        }
        finally
        {
            data.Dispose();
            log.Dispose();
        }
    }

    /// <summary>A read, write, size change or sync of this file has failed.</summary>
    public bool IsFaulted
    {
        get
        {
            lock (_gate)
                return _faulted;
        }
    }

    private void Guard(LiteEngine engine)
    {
        bool faulted;
        lock (_gate)
        {
            _engine = engine;
            faulted = _faulted;
        }
        if (faulted)
            FaultedEngines.Keep(engine);
    }

    // Any failure of the file: LiteDB closes its engine on it, and a commit it interrupted must not be finalized.
    private void Faulted(IOException e, bool writing)
    {
        LiteEngine? keep;
        lock (_gate)
        {
            if (writing)
                _syncFailed ??= e;
            Monitor.PulseAll(_gate);
            keep = _faulted ? null : _engine;
            _faulted = true;
        }
        if (keep is not null)
            FaultedEngines.Keep(keep);
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

    public override int Read(byte[] buffer, int offset, int count)
    {
        try
        {
            return _inner.Read(buffer, offset, count);
        }
        catch (IOException e)
        {
            Faulted(e, writing: false);
            throw;
        }
    }

    public override void Write(byte[] buffer, int offset, int count)
    {
        bool confirms = count == PageSize && buffer[offset + ConfirmedOffset] != 0;
        try
        {
            if (confirms && _isLog)
                WriteConfirming(buffer, offset);
            else
                _inner.Write(buffer, offset, count);
        }
        catch (IOException e)
        {
            // Waiting commits fail now, not at their timeout.
            Faulted(e, writing: true);
            throw;
        }
        if (confirms || count != PageSize)
        {
            lock (_gate)
            {
                _syncNeeded = true;
                if (confirms)
                    _confirmsWritten++;
            }
        }
    }

    /// <summary>
    /// A transaction's last page: with its flag clear, then a sync (the barrier: the transaction's other pages are on
    /// the medium), then its first sector with the flag, which the commit's flush syncs. The position ends after the page.
    /// </summary>
    private void WriteConfirming(byte[] buffer, int offset)
    {
        var at = _inner.Position;
        var page = _unconfirmed ??= new byte[PageSize];
        Buffer.BlockCopy(buffer, offset, page, 0, PageSize);
        page[ConfirmedOffset] = 0;
        _inner.Write(page, 0, PageSize);
        Sync();
        _inner.Position = at;
        _inner.Write(buffer, offset, SectorSize);
        _inner.Position = at + PageSize;
    }

    /// <summary>The sync: fsync for a file, the inner stream's own flush otherwise; a log skips it when no commit needs it.</summary>
    public override void Flush()
    {
        lock (_gate)
        {
            if (_isLog && !_syncNeeded && _syncFailed is null)
                return;
        }
        Sync();
    }

    private void Sync()
    {
        long covered;
        lock (_gate)
        {
            covered = _confirmsWritten;
            _syncNeeded = false;
        }
        try
        {
            if (_inner is FileStream file)
                AtomicFile.Sync(file);
            else
                _inner.Flush();
        }
        catch (IOException e)
        {
            Faulted(e, writing: true);
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

    public override void SetLength(long value)
    {
        try
        {
            _inner.SetLength(value);
        }
        catch (IOException e)
        {
            Faulted(e, writing: true);
            throw;
        }
        // A log's emptying is synced before any page is written over it (the remarks); a data file syncs at every flush.
        if (_isLog)
            Sync();
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
            _inner.Dispose();
        base.Dispose(disposing);
    }
}
