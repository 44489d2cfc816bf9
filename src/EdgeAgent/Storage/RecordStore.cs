using EdgeMeter.Crypto.Files;
using EdgeMeter.Crypto.Records;
using EdgeMeter.Crypto.Signing;
using LiteDB;
using LiteDB.Engine;

namespace EdgeMeter.Agent.Storage;

/// <summary>The head of this device's record chain: the last sequence number and digest on disk.</summary>
internal readonly record struct ChainHead(ulong Sequence, ReadOnlyMemory<byte> Digest, ulong ConfirmedThrough);

/// <summary>
/// The durable outbox and record log, in LiteDB through <see cref="BsonDocument"/> only (the typed mapper drops
/// fields under AOT). A reading counts as taken once <see cref="Append"/> returned: sequence allocation, signing and
/// the insert of the batch as one document (<see cref="RecordBlocks"/>) happen under one lock in one commit, and the
/// chain head is read back from the last stored record, so a crash either keeps the whole batch and the advanced
/// head, or neither, and a sequence number is never reused for a record that could have left the gateway.
/// </summary>
/// <remarks>
/// The ledger accepts a device's records strictly in sequence (the hash chain demands it), so "confirmed" is a
/// watermark: every record at or below <see cref="ChainHead.ConfirmedThrough"/> is on the chain. Confirming a
/// transaction rewrites one small document instead of every record, which matters on an SD card.
/// </remarks>
internal sealed class RecordStore : IDisposable
{
    public const string FileName = "edgemeter.db";

    private const string RecordsCollection = "blocks";
    private const string MetaCollection = "meta";
    private const string ChainDocId = "chain";

    private readonly LiteDatabase _db;
    private readonly ILiteCollection<BsonDocument> _records;
    private readonly ILiteCollection<BsonDocument> _meta;
    private readonly Lock _gate = new();
    private ChainHead _head;
    private string _device = "";
    private bool _watermarkDirty;
    private long _lastHeadWriteMs = Environment.TickCount64;
    /// <summary>Cache of <see cref="Declared"/>: gap declarations above the watermark, whose ranges are never sent nor counted as pending.</summary>
    private List<GapRecord>? _declaredCache;
    /// <summary>Until when (monotonic ms) signing waits for the ledger's head; 0: it does not wait.</summary>
    private long _holdUntilMs;
    private TaskCompletionSource _released = Released();
    /// <summary>The block <see cref="ReadRange"/> read last, as the disk holds it (<see cref="WriteBlocks"/> drops it); null in a read-only handle.</summary>
    private BsonDocument? _lastRead;

    /// <summary>Opens (or creates) the database in <paramref name="dataDirectory"/>; the store owns the LiteDB handle.</summary>
    public RecordStore(string dataDirectory)
        : this(dataDirectory, readOnly: false)
    {
    }

    private RecordStore(string dataDirectory, bool readOnly)
    {
        Path = System.IO.Path.Combine(dataDirectory, FileName);
        IsReadOnly = readOnly;
        if (readOnly)
        {
            _db = new LiteDatabase(new ConnectionString { Filename = Path, Connection = ConnectionType.Direct, ReadOnly = true });
        }
        else
        {
            AtomicFile.CreateDirectory(dataDirectory);
            // Our own streams under LiteDB (same files, same names as it would use): commits wait for their sync.
            _data = CommitFence.OpenFile(Path);
            _log = CommitFence.OpenFile(System.IO.Path.Combine(dataDirectory, LogFileName), isLog: true);
            _db = CommitFence.OpenDatabase(_data, _log);
        }
        _records = _db.GetCollection(RecordsCollection);
        _meta = _db.GetCollection(MetaCollection);
        _head = ReadHead();
        _device = _meta.FindById(ChainDocId)?["dev"].AsString ?? "";
    }

    /// <summary>
    /// The store on streams the caller owns (a test layer that simulates power cuts): <see cref="Stream.Flush()"/> is
    /// their sync.
    /// </summary>
    internal RecordStore(Stream data, Stream log)
    {
        Path = ":stream:";
        _data = new CommitFence(data);
        _log = new CommitFence(log, isLog: true);
        _db = CommitFence.OpenDatabase(_data, _log);
        _records = _db.GetCollection(RecordsCollection);
        _meta = _db.GetCollection(MetaCollection);
        _head = ReadHead();
        _device = _meta.FindById(ChainDocId)?["dev"].AsString ?? "";
    }

    /// <summary>LiteDB's write-ahead log beside the data file.</summary>
    public const string LogFileName = "edgemeter-log.db";

    /// <summary>How long a commit waits for its sync before the store reports the disk as failing.</summary>
    internal TimeSpan SyncTimeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>A commit was not synced: LiteDB's state is unknown, so nothing more is numbered or signed here.</summary>
    private bool _failed;

    private readonly CommitFence? _data;
    private readonly CommitFence? _log;

    /// <summary>Runs one LiteDB write that commits <paramref name="commits"/> times, and returns once they are synced.</summary>
    private T Durably<T>(int commits, Func<T> write) => _log is null ? write() : _log.Durably(commits, SyncTimeout, write);

    /// <summary>
    /// Opens the store of a possibly running agent for reading (<c>export</c>): LiteDB opens the files read-only, so
    /// this handle never writes, never checkpoints and never becomes a second writer next to the agent's.
    /// </summary>
    /// <exception cref="FileNotFoundException">There is no store in <paramref name="dataDirectory"/>.</exception>
    public static RecordStore OpenReadOnly(string dataDirectory)
    {
        var path = System.IO.Path.Combine(dataDirectory, FileName);
        if (!File.Exists(path))
            throw new FileNotFoundException($"no record store in {dataDirectory}", path);
        return new RecordStore(dataDirectory, readOnly: true);
    }

    public string Path { get; }

    /// <summary>Opened by <see cref="OpenReadOnly"/>.</summary>
    public bool IsReadOnly { get; }

    public ChainHead Head
    {
        get
        {
            lock (_gate)
                return _head;
        }
    }

    /// <summary>Records on disk and not yet confirmed by the ledger (numbers a gap declaration skips are not records).</summary>
    public long PendingCount
    {
        get
        {
            lock (_gate)
                return (long)(_head.Sequence - _head.ConfirmedThrough - Skipped(_head.ConfirmedThrough, _head.Sequence));
        }
    }

    /// <summary>
    /// Whether signing waits for the ledger's head (<see cref="HoldSigningForLedgerHead"/>): the poller keeps its readings
    /// unsigned meanwhile, so that a store restored from an older copy never signs a number the ledger already holds.
    /// </summary>
    public bool SigningHeld
    {
        get
        {
            lock (_gate)
                return _holdUntilMs != 0 && Environment.TickCount64 < _holdUntilMs;
        }
    }

    /// <summary>
    /// Lets signing wait up to <paramref name="max"/> for the ledger's head (<see cref="ReconcileWithLedger"/> ends the
    /// wait). After that the gateway signs anyway: a gateway must keep taking readings through an outage.
    /// </summary>
    public void HoldSigningForLedgerHead(TimeSpan max)
    {
        lock (_gate)
        {
            _holdUntilMs = Environment.TickCount64 + (long)max.TotalMilliseconds;
            if (_released.Task.IsCompleted)
                _released = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }
    }

    /// <summary>
    /// Completes when the ledger's head ends a wait of <see cref="HoldSigningForLedgerHead"/> (already complete when
    /// signing is not held), so that readings taken meanwhile are signed then, not a poll later. A wait that runs out
    /// does not complete it: <see cref="SigningHeld"/> says when that has happened.
    /// </summary>
    public Task SigningReleased
    {
        get
        {
            lock (_gate)
                return _released.Task;
        }
    }

    private static TaskCompletionSource Released()
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        done.SetResult();
        return done;
    }

    /// <summary>
    /// How many numbers after the ledger's head a ledger-ahead gap skips: a store that was lost or replaced may have
    /// signed that many records the ledger never received, and none of those numbers may be signed again.
    /// </summary>
    public ulong LedgerAheadReserve { get; init; } = DefaultLedgerAheadReserve;

    /// <summary>The default of <see cref="LedgerAheadReserve"/>.</summary>
    public const ulong DefaultLedgerAheadReserve = 1000;

    /// <summary>
    /// Takes the ledger's word on where the device's chain stands (a receipt's <c>acceptedThrough</c> with its
    /// <c>headDigest</c>, or the retained head): when this store holds the same record at <paramref name="ledgerSequence"/>,
    /// confirms through it. When the ledger is ahead of this store (restored from an older copy, a swapped card, a lost
    /// tail) or holds another record there, this store never signs a number at or below the ledger's head again: it signs
    /// a gap declaration that continues the ledger's chain (prev = <paramref name="ledgerDigest"/>) and skips the numbers
    /// after the head that this or a lost store may have used (its own head, plus <see cref="LedgerAheadReserve"/>),
    /// and records after the head that this store signed are abandoned, never sent. Ends any wait for the head.
    /// </summary>
    /// <returns>How many records it newly confirmed, and the gap declaration it signed, if any.</returns>
    public (long Confirmed, SignedReading? Gap) ReconcileWithLedger(ulong ledgerSequence, ReadOnlySpan<byte> ledgerDigest, RecordSigner signer, long gatewayTimeMs, TimeStatus timeStatus)
    {
        if (ledgerDigest.Length != 32)
            throw new ArgumentException("A digest is 32 bytes.", nameof(ledgerDigest));
        lock (_gate)
        {
            _holdUntilMs = 0;
            _released.TrySetResult();
            if (ledgerSequence == 0 || IsReadOnly)
                return (0, null);
            if (ledgerSequence <= _head.Sequence)
            {
                var held = ReadRange(ledgerSequence, ledgerSequence, 1);
                if (held.Count == 1 && held[0].Digest.Span.SequenceEqual(ledgerDigest))
                    return (Confirm(ledgerSequence), null);
                // Pruned after its confirmation: nothing to compare with, and it was confirmed in this form.
                if (held.Count == 0 && ledgerSequence <= _head.ConfirmedThrough)
                    return (0, null);
            }
            // Already continued after this head (a receipt that was on its way when the declaration was signed).
            foreach (var declared in Declared)
            {
                if (declared.FromSequence == ledgerSequence + 1 && declared.PrevHash.Span.SequenceEqual(ledgerDigest))
                    return (0, null);
            }
            if (_failed)
                throw new IOException("the record store stopped syncing to disk; the agent must restart to reopen it");

            // The ledger holds a chain this store does not end: continue after it, skipping every number this store
            // may have used.
            ulong to = checked(Math.Max(ledgerSequence, _head.Sequence) + Math.Max(1, LedgerAheadReserve));
            var gap = signer.Sign(new GapRecord
            {
                Device = signer.Key.Address,
                Sequence = checked(to + 1),
                FromSequence = ledgerSequence + 1,
                ToSequence = to,
                Reason = GapReason.LedgerAhead,
                GatewayTimeMs = gatewayTimeMs,
                TimeStatus = timeStatus,
                PrevHash = ledgerDigest.ToArray(),
            });
            try
            {
                WriteBlocks(() => _records.Insert(RecordBlocks.ToDocument([gap])));
            }
            catch (IOException)
            {
                _failed = true;
                throw;
            }
            _device = signer.Key.Address;
            // Everything at or below the ledger's head is the ledger's: this store's own versions never leave.
            _head = new ChainHead(gap.Record.Sequence, gap.Digest, ledgerSequence);
            Declared.Add((GapRecord)gap.Record);
            WriteHead();
            return (0, gap);
        }
    }

    /// <summary>Numbers in (<paramref name="after"/>, <paramref name="through"/>] that this store's gap declarations skip.</summary>
    private ulong Skipped(ulong after, ulong through)
    {
        ulong skipped = 0;
        foreach (var g in Declared)
        {
            var from = Math.Max(g.FromSequence, after + 1);
            var to = Math.Min(g.ToSequence, through);
            if (from <= to)
                skipped += to - from + 1;
        }
        return skipped;
    }

    private bool InDeclaredRange(ulong sequence)
    {
        foreach (var g in Declared)
        {
            if (g.FromSequence <= sequence && sequence <= g.ToSequence)
                return true;
        }
        return false;
    }

    /// <summary>
    /// This store's gap declarations above the confirmed watermark, read on first use (not in the constructor, which
    /// touches as little as it can: a store that fails to open leaves LiteDB behind unreachable, and its finalizer throws).
    /// </summary>
    private List<GapRecord> Declared => _declaredCache ??= ReadDeclared();

    private List<GapRecord> ReadDeclared()
    {
        var declared = new List<GapRecord>();
        // Only blocks above the watermark (the unconfirmed tail, which the uplink reads anyway), through the _id index.
        if (_head.Sequence <= _head.ConfirmedThrough)
            return declared;
        foreach (var block in _records.Find(LiteQuery.Greater("_id", (long)Math.Min(_head.ConfirmedThrough, long.MaxValue))).ToList())
        {
            if (RecordBlocks.IsGap(block))
                declared.AddRange(RecordBlocks.FromDocument(block).Select(r => (GapRecord)r.Record));
        }
        return declared;
    }

    /// <summary>
    /// Numbers, chains, signs and stores a batch of readings in one transaction. The drafts' Device, Sequence and
    /// PrevHash are filled in here.
    /// </summary>
    public IReadOnlyList<SignedReading> Append(IReadOnlyList<ReadingRecord> drafts, RecordSigner signer)
    {
        if (drafts.Count == 0)
            return [];
        lock (_gate)
        {
            if (_failed)
                throw new IOException("the record store stopped syncing to disk; the agent must restart to reopen it");
            var signed = new SignedReading[drafts.Count];
            var seq = _head.Sequence;
            var prev = _head.Digest;
            for (var i = 0; i < drafts.Count; i++)
            {
                var record = drafts[i] with { Device = signer.Key.Address, Sequence = ++seq, PrevHash = prev };
                signed[i] = signer.Sign(record);
                prev = signed[i].Digest;
            }

            var head = _head with { Sequence = seq, Digest = prev };
            // One document, one commit. The chain head is not written separately: it is the last record of the
            // last block, so a commit touches as few pages as LiteDB allows.
            try
            {
                WriteBlocks(() => _records.Insert(RecordBlocks.ToDocument(signed)));
            }
            catch (IOException)
            {
                // Not synced: these records may or may not be on the medium. They never leave the gateway (the head
                // stays at the last synced record) and no further number is handed out until a restart reopens the
                // store and reads the head from the disk.
                _failed = true;
                throw;
            }
            _device = signer.Key.Address;
            _head = head;
            return signed;
        }
    }

    /// <summary>Unconfirmed records after <paramref name="afterSequence"/>, in sequence order.</summary>
    public IReadOnlyList<SignedReading> ReadPending(ulong afterSequence, int max)
    {
        lock (_gate)
        {
            var from = Math.Max(afterSequence, _head.ConfirmedThrough) + 1;
            if (Declared.Count == 0)
                return ReadRange(from, _head.Sequence, max);
            // Records this store signed in a range it later declared skipped are abandoned: never sent.
            var result = new List<SignedReading>();
            while (result.Count < max && from <= _head.Sequence)
            {
                var batch = ReadRange(from, _head.Sequence, max);
                if (batch.Count == 0)
                    break;
                result.AddRange(batch.Where(r => !InDeclaredRange(r.Record.Sequence)).Take(max - result.Count));
                from = batch[^1].Record.Sequence + 1;
            }
            return result;
        }
    }

    /// <summary>Records with sequence in [from, to], in order, at most <paramref name="max"/>.</summary>
    public IReadOnlyList<SignedReading> ReadRange(ulong from, ulong to, int max = int.MaxValue)
    {
        if (from > to || max <= 0)
            return [];
        lock (_gate)
        {
            var result = new List<SignedReading>();
            foreach (var block in BlocksFrom(from))
            {
                if (RecordBlocks.First(block) > to)
                    break;
                if (!IsReadOnly)
                    _lastRead = block;
                foreach (var r in RecordBlocks.FromDocument(block, from))
                {
                    if (r.Record.Sequence < from || r.Record.Sequence > to)
                        continue;
                    result.Add(r);
                    if (result.Count == max)
                        return result;
                }
            }
            return result;
        }
    }

    /// <summary>
    /// The blocks from the one that holds <paramref name="from"/> on, in order; that one from <see cref="_lastRead"/>
    /// when it is the block read last (the uplink reads a backlog block a batch at a time, and a receipt's reconcile
    /// reads the record its batch ended with), each loaded once.
    /// </summary>
    private IEnumerable<BsonDocument> BlocksFrom(ulong from)
    {
        var fromId = (long)Math.Min(from, long.MaxValue);
        // The block that holds `from` starts at or before it: the greatest first-sequence not above it.
        var start = _lastRead is { } last && RecordBlocks.First(last) <= from && from <= RecordBlocks.Last(last)
            ? last
            : _records.Query().Where(LiteQuery.AtMost("_id", fromId)).OrderByDescending("_id").Limit(1).FirstOrDefault();
        if (start is not null)
        {
            yield return start;
            fromId = start["_id"].AsInt64 + 1;
        }
        foreach (var block in _records.Find(LiteQuery.AtLeast("_id", fromId)))
            yield return block;
    }

    /// <summary>
    /// Writes to the blocks in one synced commit. Blocks never change once committed; the one <see cref="ReadRange"/>
    /// keeps is dropped all the same before any write to them, so it is always one the disk holds.
    /// </summary>
    private T WriteBlocks<T>(Func<T> write)
    {
        _lastRead = null;
        return Durably(1, write);
    }

    /// <summary>
    /// The meter time of the newest record of <paramref name="meterId"/> with <paramref name="origin"/> in the last
    /// commit (the last block); null when it holds none. A source that writes its own progress mark after the commit
    /// uses this to catch up with a commit whose mark a power cut kept from the disk.
    /// </summary>
    public DateTimeOffset? NewestInLastCommit(string meterId, RecordOrigin origin)
    {
        lock (_gate)
        {
            var last = _records.Query().OrderByDescending("_id").Limit(1).FirstOrDefault();
            if (last is null)
                return null;
            long newest = long.MinValue;
            foreach (var r in RecordBlocks.FromDocument(last))
            {
                if (r.Reading is { } reading && reading.Origin == origin && reading.MeterId == meterId && reading.MeterTimeMs > newest)
                    newest = reading.MeterTimeMs;
            }
            return newest == long.MinValue ? null : DateTimeOffset.FromUnixTimeMilliseconds(newest);
        }
    }

    /// <summary>Records whose gateway time lies in [fromMs, toMs], in sequence order.</summary>
    public IEnumerable<SignedReading> ReadByTime(long fromMs, long toMs)
    {
        const int page = 1000;
        ulong next = 1;
        while (true)
        {
            var batch = ReadRange(next, Head.Sequence, page);
            if (batch.Count == 0)
                yield break;
            foreach (var r in batch)
            {
                if (r.Record.GatewayTimeMs >= fromMs && r.Record.GatewayTimeMs <= toMs)
                    yield return r;
            }
            next = batch[^1].Record.Sequence + 1;
        }
    }

    /// <summary>
    /// Moves the confirmed watermark forward (never back). Returns how many records it newly confirmed.
    /// </summary>
    /// <remarks>
    /// The watermark reaches the disk at most <see cref="WatermarkFlushInterval"/> later, or on dispose: not with
    /// every receipt, because each LiteDB commit rewrites whole pages and the SD card pays for every one. A watermark
    /// lost in a crash only means records the ledger already holds are sent again, which it recognises and does not
    /// count twice.
    /// </remarks>
    public long Confirm(ulong throughSequence)
    {
        lock (_gate)
        {
            var through = Math.Min(throughSequence, _head.Sequence);
            if (through <= _head.ConfirmedThrough)
                return 0;
            var newly = (long)(through - _head.ConfirmedThrough - Skipped(_head.ConfirmedThrough, through));
            _head = _head with { ConfirmedThrough = through };
            Declared.RemoveAll(g => g.Sequence <= through);
            _watermarkDirty = true;
            if (Environment.TickCount64 - _lastHeadWriteMs >= (long)WatermarkFlushInterval.TotalMilliseconds)
                WriteHead();
            return newly;
        }
    }

    /// <summary>Copies the committed log into the data file now (LiteDB does it by itself every 1000 pages and on close).</summary>
    internal void Checkpoint()
    {
        lock (_gate)
            _db.Checkpoint();
    }

    /// <summary>How long a confirmation may live only in memory.</summary>
    public static readonly TimeSpan WatermarkFlushInterval = TimeSpan.FromSeconds(30);

    private void WriteHead()
    {
        Durably(1, () => _meta.Upsert(HeadDocument(_head, _device)));
        _watermarkDirty = false;
        _lastHeadWriteMs = Environment.TickCount64;
    }

    /// <summary>
    /// Deletes confirmed records with gateway time before <paramref name="olderThanMs"/>, oldest first, a whole commit
    /// block at a time, at most <paramref name="max"/> records. Unconfirmed records are never pruned.
    /// </summary>
    public int PruneConfirmed(long olderThanMs, int max)
    {
        lock (_gate)
        {
            var pruned = 0;
            var doomed = new List<BsonValue>();
            foreach (var block in _records.Find(Query.All("_id")))
            {
                if (RecordBlocks.Last(block) > _head.ConfirmedThrough || pruned >= max)
                    break;
                if (RecordBlocks.FromDocument(block).Any(r => r.Record.GatewayTimeMs >= olderThanMs))
                    break;
                doomed.Add(block["_id"]);
                pruned += block["n"].AsInt32;
            }
            foreach (var id in doomed)
                WriteBlocks(() => _records.Delete(id));
            return pruned;
        }
    }

    public void Dispose()
    {
        if (_data is null || _log is null)
        {
            _db.Dispose();
            return;
        }
        lock (_gate)
        {
            if (_watermarkDirty && !_data.IsFaulted && !_log.IsFaulted)
                WriteHead();
        }
        CommitFence.CloseDatabase(_db, _data, _log);
    }

    private ChainHead ReadHead()
    {
        var confirmed = _meta.FindById(ChainDocId) is { } meta ? (ulong)meta["ct"].AsInt64 : 0;
        var last = _records.Query().OrderByDescending("_id").Limit(1).FirstOrDefault();
        if (last is null)
            return new ChainHead(0, new byte[32], 0);
        var tail = RecordBlocks.FromDocument(last).Last();
        return new ChainHead(tail.Record.Sequence, tail.Digest, Math.Min(confirmed, tail.Record.Sequence));
    }

    private static BsonDocument HeadDocument(ChainHead head, string device) => new()
    {
        ["_id"] = ChainDocId,
        ["ct"] = (long)head.ConfirmedThrough,
        ["dev"] = device,
    };
}
