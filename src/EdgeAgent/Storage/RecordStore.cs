using EdgeMeter.Crypto.Records;
using EdgeMeter.Crypto.Signing;
using LiteDB;

namespace EdgeMeter.Agent.Storage;

/// <summary>The head of this device's record chain: the last sequence number and digest on disk.</summary>
internal readonly record struct ChainHead(ulong Sequence, ReadOnlyMemory<byte> Digest, ulong ConfirmedThrough);

/// <summary>
/// The durable outbox and record log, in LiteDB through <see cref="BsonDocument"/> only (the typed mapper drops
/// fields under AOT). A reading counts as taken once <see cref="Append"/> returned: sequence allocation, signing and
/// the insert happen under one lock and commit in one transaction together with the chain head, so a crash
/// either keeps the whole batch and the advanced head, or neither, and a sequence number is never reused
/// for a record that could have left the gateway.
/// </summary>
/// <remarks>
/// The ledger accepts a device's records strictly in sequence (the hash chain demands it), so "confirmed" is a
/// watermark: every record at or below <see cref="ChainHead.ConfirmedThrough"/> is on the chain. Confirming a
/// transaction rewrites one small document instead of every record, which matters on an SD card.
/// </remarks>
internal sealed class RecordStore : IDisposable
{
    public const string FileName = "edgemeter.db";

    private const string RecordsCollection = "records";
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

    /// <summary>Opens (or creates) the database in <paramref name="dataDirectory"/>; the store owns the LiteDB handle.</summary>
    public RecordStore(string dataDirectory)
    {
        Directory.CreateDirectory(dataDirectory);
        Path = System.IO.Path.Combine(dataDirectory, FileName);
        _db = new LiteDatabase(new ConnectionString { Filename = Path, Connection = ConnectionType.Direct });
        _records = _db.GetCollection(RecordsCollection, BsonAutoId.Int64);
        _meta = _db.GetCollection(MetaCollection);
        _head = ReadHead();
        _device = _meta.FindById(ChainDocId)?["dev"].AsString ?? "";
    }

    public string Path { get; }

    public ChainHead Head
    {
        get
        {
            lock (_gate)
                return _head;
        }
    }

    /// <summary>Records on disk and not yet confirmed by the ledger.</summary>
    public long PendingCount
    {
        get
        {
            lock (_gate)
                return (long)(_head.Sequence - _head.ConfirmedThrough);
        }
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
            if (!_db.BeginTrans())
                throw new InvalidOperationException("record store: a transaction is already open on this thread");
            try
            {
                _records.InsertBulk(signed.Select(RecordDocuments.ToDocument), batchSize: signed.Length);
                _meta.Upsert(HeadDocument(head, signer.Key.Address));
                _db.Commit();
                _device = signer.Key.Address;
                _watermarkDirty = false;
                _lastHeadWriteMs = Environment.TickCount64;
            }
            catch
            {
                _db.Rollback();
                throw;
            }
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
            return ReadRange(from, _head.Sequence, max);
        }
    }

    /// <summary>Records with sequence in [from, to], in order, at most <paramref name="max"/>.</summary>
    public IReadOnlyList<SignedReading> ReadRange(ulong from, ulong to, int max = int.MaxValue)
    {
        if (from > to)
            return [];
        // Sequence numbers are stored as Int64: clamp, or ulong.MaxValue would wrap to -1 and find nothing.
        var upper = (long)Math.Min(to, long.MaxValue);
        lock (_gate)
        {
            return _records.Find(Query.And(Query.GTE("_id", (long)from), Query.LTE("_id", upper)), limit: max)
                .OrderBy(d => d["_id"].AsInt64)
                .Select(RecordDocuments.FromDocument)
                .ToList();
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
    /// The watermark reaches the disk with the next <see cref="Append"/> (which writes the head anyway), at most
    /// <see cref="WatermarkFlushInterval"/> later, or on dispose: not with every receipt, because each LiteDB commit
    /// rewrites whole pages and the SD card pays for every one. A watermark lost in a crash only means records the
    /// ledger already holds are sent again, which it recognises and does not count twice.
    /// </remarks>
    public long Confirm(ulong throughSequence)
    {
        lock (_gate)
        {
            var through = Math.Min(throughSequence, _head.Sequence);
            if (through <= _head.ConfirmedThrough)
                return 0;
            var newly = (long)(through - _head.ConfirmedThrough);
            _head = _head with { ConfirmedThrough = through };
            _watermarkDirty = true;
            if (Environment.TickCount64 - _lastHeadWriteMs >= (long)WatermarkFlushInterval.TotalMilliseconds)
                WriteHead();
            return newly;
        }
    }

    /// <summary>How long a confirmation may live only in memory.</summary>
    public static readonly TimeSpan WatermarkFlushInterval = TimeSpan.FromSeconds(30);

    private void WriteHead()
    {
        _meta.Upsert(HeadDocument(_head, _device));
        _watermarkDirty = false;
        _lastHeadWriteMs = Environment.TickCount64;
    }

    /// <summary>
    /// Deletes confirmed records with gateway time before <paramref name="olderThanMs"/>, oldest first, at most
    /// <paramref name="max"/>. Unconfirmed records are never pruned.
    /// </summary>
    public int PruneConfirmed(long olderThanMs, int max)
    {
        lock (_gate)
        {
            var ids = _records.Find(Query.LTE("_id", (long)_head.ConfirmedThrough), limit: max)
                .Where(d => d["gt"].AsInt64 < olderThanMs)
                .Select(d => d["_id"])
                .ToList();
            foreach (var id in ids)
                _records.Delete(id);
            return ids.Count;
        }
    }

    public void Dispose()
    {
        lock (_gate)
        {
            if (_watermarkDirty)
                WriteHead();
        }
        _db.Dispose();
    }

    private ChainHead ReadHead()
    {
        var doc = _meta.FindById(ChainDocId);
        if (doc is null)
            return new ChainHead(0, new byte[32], 0);
        return new ChainHead((ulong)doc["seq"].AsInt64, doc["h"].AsBinary, (ulong)doc["ct"].AsInt64);
    }

    private static BsonDocument HeadDocument(ChainHead head, string device) => new()
    {
        ["_id"] = ChainDocId,
        ["seq"] = (long)head.Sequence,
        ["h"] = head.Digest.ToArray(),
        ["ct"] = (long)head.ConfirmedThrough,
        ["dev"] = device,
    };
}
