using EdgeMeter.Agent.Storage;
using EdgeMeter.Crypto.Files;
using EdgeMeter.Crypto.Hashing;
using EdgeMeter.Crypto.Records;
using EdgeMeter.Economics;
using LiteDB;
using LiteDB.Engine;

namespace EdgeMeter.Agent.Ledger;

/// <summary>A device's position on the development ledger.</summary>
internal sealed record DeviceState(string Device, ulong Sequence, byte[] Digest, long Accepted, decimal Balance);

/// <summary>A record as the ledger keeps it with its block: the record and its message's UTF-8 JSON (<see cref="LedgerStore.MessageJson"/>).</summary>
internal sealed record KeptRecord(ChainRecord Record, byte[] Message);

/// <summary>Per-device summary for <c>ledger --dump</c>, computed from the stored records themselves.</summary>
internal sealed record DeviceSummary(string Device, long Accepted, ulong Lowest, ulong Highest, IReadOnlyList<ulong> Gaps, IReadOnlyList<ulong> Duplicates, decimal Balance)
{
    /// <summary>The gap declarations the ledger accepted: ranges the device's chain skips by its own signed word.</summary>
    public IReadOnlyList<LedgerGap> DeclaredGaps { get; init; } = [];

    /// <summary>Per month, the claimed and the recomputed figures.</summary>
    public IReadOnlyList<ClaimRow> Claims { get; init; } = [];
}

/// <summary>An accepted gap declaration: at <paramref name="Sequence"/>, seqs <paramref name="From"/>..<paramref name="To"/> skipped.</summary>
internal sealed record LedgerGap(ulong Sequence, ulong From, ulong To, GapReason Reason);

/// <summary>
/// A device's claim for a month as the ledger judged it. <see cref="Status"/> is <c>accepted</c>, <c>rejected</c> or
/// <c>pending</c> (the ledger does not hold all the readings the claim names yet).
/// </summary>
internal sealed record ClaimRow(string Device, string Month, bool Final, string Status, long Claimed, long? Recomputed, string? Reason, decimal? CarryOut, string ClaimHash, string Envelope);

/// <summary>
/// The development ledger's storage: device states, accepted records and hash-linked blocks, in one LiteDB file
/// through <see cref="BsonDocument"/>. One block per accepted transaction, committed together with the records and
/// the device state, so a crash never leaves a block without its records or the reverse.
/// </summary>
/// <remarks>
/// A block's records are kept as spans: one document per up to <see cref="SpanMaxRecords"/> consecutive accepted
/// records of one device, keyed by the device and the span's last sequence number. One record per document cost an
/// insert into the id index's skip list per record, a quarter of a day's backlog drain, and allocated most of what the
/// drain allocated.
/// </remarks>
internal sealed class LedgerStore : IDisposable
{
    public const string FileName = "ledger.db";

    /// <summary>LiteDB's write-ahead log beside the data file (the name LiteDB itself gives it).</summary>
    public const string LogFileName = "ledger-log.db";

    /// <summary>How long a commit waits for its sync before the store reports the disk as failing.</summary>
    private static readonly TimeSpan SyncTimeout = TimeSpan.FromSeconds(60);

    /// <summary>The ledger's signing key, next to its database.</summary>
    public const string KeyFileName = "ledger.key";

    private readonly LiteDatabase _db;
    private readonly CommitFence _data;
    private readonly CommitFence _log;
    private readonly ILiteCollection<BsonDocument> _devices;
    private readonly ILiteCollection<BsonDocument> _spans;
    private readonly ILiteCollection<BsonDocument> _blocks;
    private readonly ILiteCollection<BsonDocument> _claims;
    private readonly ILiteCollection<BsonDocument> _operator;

    public LedgerStore(string dataDirectory)
    {
        AtomicFile.CreateDirectory(dataDirectory);
        // The agent's streams under LiteDB (Storage/CommitFence.cs), same files and names as LiteDB's own: a block or
        // claim verdict is on the medium before the ledger answers for it, whole or not at all, and a transaction costs two
        // fsyncs, not one per page.
        _data = CommitFence.OpenFile(Path.Combine(dataDirectory, FileName));
        _log = CommitFence.OpenFile(Path.Combine(dataDirectory, LogFileName), isLog: true);
        _db = CommitFence.OpenDatabase(_data, _log);
        _devices = _db.GetCollection("devices");
        if (_db.CollectionExists("records"))
        {
            CommitFence.CloseDatabase(_db, _data, _log);
            throw new InvalidDataException(
                $"{Path.Combine(dataDirectory, FileName)} keeps one record per document, the format before record spans: move the ledger directory away to start a new development ledger");
        }
        _spans = _db.GetCollection("spans");
        _blocks = _db.GetCollection("blocks");
        _claims = _db.GetCollection("claims");
        _operator = _db.GetCollection("operator");
        // No index on the device: a device's spans are one _id range (RecordId), and every insert into a second
        // index of equal 42-character keys cost as much as the signature checks.
        Height = _blocks.Count() == 0 ? 0 : _blocks.Max("_id").AsInt64;
        var last = Height == 0 ? null : _blocks.FindById(Height);
        LastBlockHash = last?["hash"].AsBinary ?? new byte[32];
    }

    public long Height { get; private set; }

    public byte[] LastBlockHash { get; private set; }

    public DeviceState GetDevice(string device)
    {
        var doc = _devices.FindById(device);
        return doc is null
            ? new DeviceState(device, 0, new byte[32], 0, 0m)
            : new DeviceState(device, (ulong)doc["seq"].AsInt64, doc["h"].AsBinary, doc["n"].AsInt64, doc["bal"].AsDecimal);
    }

    /// <summary>The digest the ledger holds for a device's sequence number, or null.</summary>
    public byte[]? GetDigest(string device, ulong sequence) => HeldDigests(device)(sequence);

    /// <summary>
    /// The digests the ledger holds for a device's sequence numbers (null where it holds none), looked up through the
    /// last span read: a re-sent transaction's records are looked up one by one, and they share a span or two.
    /// </summary>
    public Func<ulong, byte[]?> HeldDigests(string device)
    {
        var prefix = DevicePrefix(device);
        BsonDocument? span = null;
        return sequence =>
        {
            if (span is null || sequence < (ulong)span["from"].AsInt64 || sequence > SpanLast(span))
                span = Spans(prefix, sequence).FirstOrDefault();
            return span is null ? null : RecordIn(span, sequence)?["h"].AsBinary;
        };
    }

    /// <summary>Appends a block holding <paramref name="accepted"/> and moves the device state, in one transaction.</summary>
    /// <param name="txId">The transaction's id.</param>
    /// <param name="newState">The device state after it.</param>
    /// <param name="accepted">Sequence numbers and digests of the accepted records.</param>
    /// <param name="timeMs">Block time.</param>
    /// <param name="content">The accepted records themselves by sequence number, kept so that claims can be recomputed from them.</param>
    public long AppendBlock(string txId, DeviceState newState, IReadOnlyList<(ulong Sequence, byte[] Digest)> accepted, long timeMs, IReadOnlyDictionary<ulong, KeptRecord>? content = null)
    {
        var height = Height + 1;
        var sha = new Sha256();
        sha.AppendData(LastBlockHash);
        sha.AppendData(System.Text.Encoding.UTF8.GetBytes(txId));
        foreach (var (_, digest) in accepted)
            sha.AppendData(digest);
        var hash = sha.GetHashAndReset();

        Durably(() =>
        {
            var prefix = DevicePrefix(newState.Device);
            // The chain rules never accept a sequence number twice; the store does not either.
            if (Spans(prefix, accepted[0].Sequence).FirstOrDefault() is { } held)
                throw new InvalidOperationException($"{newState.Device}: the ledger already holds records from seq {held["from"].AsInt64} through {SpanLast(held)}; seq {accepted[0].Sequence} cannot be appended");
            for (var start = 0; start < accepted.Count; start += SpanMaxRecords)
            {
                var count = Math.Min(SpanMaxRecords, accepted.Count - start);
                var records = new BsonArray(new List<BsonValue>(count));
                for (var i = start; i < start + count; i++)
                {
                    var (sequence, digest) = accepted[i];
                    var kept = content?.GetValueOrDefault(sequence);
                    var doc = new BsonDocument
                    {
                        ["s"] = (long)sequence,
                        ["h"] = digest,
                        ["msg"] = kept is null ? BsonValue.Null : kept.Message,
                    };
                    if (kept?.Record is GapRecord gap)
                    {
                        doc["k"] = "gap";
                        doc["from"] = (long)gap.FromSequence;
                        doc["to"] = (long)gap.ToSequence;
                        doc["reason"] = (int)gap.Reason;
                    }
                    records.Add(doc);
                }
                _spans.Insert(new BsonDocument
                {
                    ["_id"] = RecordId(prefix, accepted[start + count - 1].Sequence),
                    ["from"] = (long)accepted[start].Sequence,
                    ["b"] = height,
                    ["recs"] = records,
                });
            }
            _blocks.Insert(new BsonDocument
            {
                ["_id"] = height,
                ["prev"] = LastBlockHash,
                ["hash"] = hash,
                ["time"] = timeMs,
                ["tx"] = txId,
                ["dev"] = newState.Device,
                ["from"] = (long)accepted[0].Sequence,
                ["to"] = (long)accepted[^1].Sequence,
            });
            _devices.Upsert(DeviceDoc(newState));
            return height;
        });
        Height = height;
        LastBlockHash = hash;
        return height;
    }

    /// <summary>The records a device holds with sequence numbers in [<paramref name="first"/>, <paramref name="last"/>], in order.</summary>
    public IReadOnlyList<ReadingRecord> ReadReadings(string device, ulong first, ulong last) => [.. StreamReadings(device, first, last)];

    /// <summary>
    /// The device's readings with sequence numbers in [first, last], in sequence order, one at a time: a claim's
    /// recomputation over a month of readings holds one span at a time, not the month.
    /// </summary>
    public IEnumerable<ReadingRecord> StreamReadings(string device, ulong first, ulong last)
    {
        foreach (var span in Spans(DevicePrefix(device), first))
        {
            foreach (var item in span["recs"].AsArray)
            {
                var record = item.AsDocument;
                var sequence = (ulong)record["s"].AsInt64;
                if (sequence > last)
                    yield break;
                if (sequence >= first && record["msg"].IsBinary && !IsGap(record))
                {
                    using var json = System.Text.Json.JsonDocument.Parse(record["msg"].AsBinary);
                    yield return ReadingJson.ReadMessage(json.RootElement);
                }
            }
        }
    }

    /// <summary>Most records in one span document (a transaction of more is kept in several).</summary>
    internal const int SpanMaxRecords = 1000;

    /// <summary>Records per query in <see cref="Spans"/>, about: as many small spans as hold this many, or one large one.</summary>
    internal const int StreamPage = 256;

    /// <summary>
    /// A device's spans from the one holding <paramref name="from"/> (or the first after it) on, in order, about
    /// <see cref="StreamPage"/> records per query, not one query for the range: a LiteDB 5.0.20 query keeps every page
    /// it read until it ends, and its cache then keeps that many buffers for good, so one query over a month of
    /// records grew the ledger by the month's pages. The first query reads one span.
    /// </summary>
    private IEnumerable<BsonDocument> Spans(byte[] prefix, ulong from)
    {
        var end = RecordId(prefix, ulong.MaxValue);
        var take = 1;
        while (true)
        {
            var page = _spans.Find(LiteQuery.Between("_id", RecordId(prefix, from), end), 0, take).ToList();
            var records = 0;
            foreach (var span in page)
            {
                records += span["recs"].AsArray.Count;
                yield return span;
            }
            if (page.Count < take)
                yield break;
            var last = SpanLast(page[^1]);
            if (last == ulong.MaxValue)
                yield break;
            from = last + 1;
            take = Math.Clamp(StreamPage * page.Count / Math.Max(records, 1), 1, StreamPage);
        }
    }

    /// <summary>A span's last sequence number: the end of its <c>_id</c>.</summary>
    private static ulong SpanLast(BsonDocument span) => System.Buffers.Binary.BinaryPrimitives.ReadUInt64BigEndian(span["_id"].AsBinary.AsSpan(^8));

    /// <summary>The record a span holds for <paramref name="sequence"/>, or null (its records are in sequence order).</summary>
    private static BsonDocument? RecordIn(BsonDocument span, ulong sequence)
    {
        var records = span["recs"].AsArray;
        int lo = 0, hi = records.Count - 1;
        while (lo <= hi)
        {
            var mid = (lo + hi) >>> 1;
            var at = (ulong)records[mid]["s"].AsInt64;
            if (at == sequence)
                return records[mid].AsDocument;
            if (at < sequence)
                lo = mid + 1;
            else
                hi = mid - 1;
        }
        return null;
    }

    /// <summary>The claim the ledger holds for a device and month, or null.</summary>
    public ClaimRow? GetClaim(string device, string month) => _claims.FindById(device + ":" + month) is { } d ? ClaimOf(d) : null;

    /// <summary>A device's claims, by month.</summary>
    public IReadOnlyList<ClaimRow> Claims(string device) =>
        [.. _claims.Find(LiteQuery.Equal("dev", device)).Select(ClaimOf).OrderBy(c => c.Month, StringComparer.Ordinal)];

    /// <summary>Stores a claim verdict (replacing the month's earlier one) and moves the balance, in one transaction.</summary>
    public decimal PutClaim(ClaimRow row) => Durably(() =>
    {
        _claims.Upsert(new BsonDocument
        {
            ["_id"] = row.Device + ":" + row.Month,
            ["dev"] = row.Device,
            ["month"] = row.Month,
            ["final"] = row.Final,
            ["status"] = row.Status,
            ["tokens"] = row.Claimed,
            ["recomputed"] = row.Recomputed is { } r ? r : BsonValue.Null,
            ["reason"] = row.Reason ?? (BsonValue)BsonValue.Null,
            ["carryOut"] = row.CarryOut is { } c ? c : BsonValue.Null,
            ["hash"] = row.ClaimHash,
            ["json"] = row.Envelope,
        });
        var balance = Balance(row.Device).Confirmed;
        _devices.Upsert(DeviceDoc(GetDevice(row.Device) with { Balance = balance }));
        return balance;
    });

    /// <summary>
    /// Runs <paramref name="write"/> in one transaction (rolled back if it throws) and returns once the commit is
    /// synced: a block or a claim verdict is on the medium before the ledger answers for it.
    /// </summary>
    private T Durably<T>(Func<T> write) => _log.Durably(1, SyncTimeout, () =>
    {
        _db.BeginTrans();
        try
        {
            var result = write();
            _db.Commit();
            return result;
        }
        catch
        {
            _db.Rollback();
            throw;
        }
    });

    /// <summary>
    /// The confirmed balance (recomputed totals of the accepted final claims: closed months only) and, apart, the
    /// recomputed total of the newest accepted claim for a month not yet closed.
    /// </summary>
    public (decimal Confirmed, decimal? Provisional, string? ProvisionalMonth) Balance(string device)
    {
        var claims = Claims(device);
        var confirmed = claims.Where(c => c.Final && c.Status == "accepted").Sum(c => (decimal)(c.Recomputed ?? 0));
        var running = claims.LastOrDefault(c => !c.Final && c.Status == "accepted");
        return running is null ? (confirmed, null, null) : (confirmed, running.Recomputed, running.Month);
    }

    /// <summary>The operator payload of <paramref name="kind"/> (params, events) in force for a device, or null.</summary>
    public (long Version, byte[] Payload)? OperatorPayload(string device, string kind) =>
        _operator.FindById(device + ":" + kind) is { } d ? (d["v"].AsInt64, d["p"].AsBinary) : null;

    /// <summary>Stores the operator payload now in force for a device.</summary>
    public void PutOperatorPayload(string device, string kind, long version, byte[] payload) =>
        _operator.Upsert(new BsonDocument { ["_id"] = device + ":" + kind, ["v"] = version, ["p"] = payload });

    private static ClaimRow ClaimOf(BsonDocument d) => new(
        d["dev"].AsString,
        d["month"].AsString,
        d["final"].AsBoolean,
        d["status"].AsString,
        d["tokens"].AsInt64,
        d["recomputed"].IsNull ? null : d["recomputed"].AsInt64,
        d["reason"].IsNull ? null : d["reason"].AsString,
        d["carryOut"].IsNull ? null : d["carryOut"].AsDecimal,
        d["hash"].AsString,
        d["json"].AsString);

    private static bool IsGap(BsonDocument doc) => doc["k"] is { IsString: true } k && k.AsString == "gap";

    /// <summary>The message's UTF-8 JSON as it is stored (binary: no conversion to and from UTF-16 per record).</summary>
    public static byte[] MessageJson(ChainRecord record)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>(512);
        using (var w = new System.Text.Json.Utf8JsonWriter(buffer))
            ReadingJson.WriteMessage(w, record);
        return buffer.WrittenSpan.ToArray();
    }

    public IReadOnlyList<DeviceSummary> Summarise()
    {
        var result = new List<DeviceSummary>();
        foreach (var dev in _devices.FindAll())
        {
            var device = dev["_id"].AsString;
            var records = Spans(DevicePrefix(device), 0).SelectMany(span => span["recs"].AsArray.Select(r => r.AsDocument)).ToList();
            var seqs = records.Select(r => (ulong)r["s"].AsInt64).OrderBy(s => s).ToList();
            var declared = records.Where(IsGap)
                .Select(d => new LedgerGap((ulong)d["s"].AsInt64, (ulong)d["from"].AsInt64, (ulong)d["to"].AsInt64, (GapReason)d["reason"].AsInt32))
                .OrderBy(g => g.Sequence).ToList();
            var gaps = new List<ulong>();
            var dups = new List<ulong>();
            for (var i = 1; i < seqs.Count; i++)
            {
                if (seqs[i] == seqs[i - 1])
                    dups.Add(seqs[i]);
                for (var missing = seqs[i - 1] + 1; missing < seqs[i] && gaps.Count < 1000; missing++)
                {
                    // Numbers a declaration skips are declared, not missing.
                    var skipped = declared.FirstOrDefault(g => g.From <= missing && missing <= g.To);
                    if (skipped is not null)
                    {
                        missing = skipped.To;
                        continue;
                    }
                    gaps.Add(missing);
                }
            }
            if (seqs.Count > 0)
            {
                for (ulong missing = 1; missing < seqs[0] && gaps.Count < 1000; missing++)
                    gaps.Add(missing);
            }
            result.Add(new DeviceSummary(device, seqs.Count, seqs.Count > 0 ? seqs[0] : 0, seqs.Count > 0 ? seqs[^1] : 0, gaps, dups, dev["bal"].AsDecimal)
            {
                Claims = Claims(device),
                DeclaredGaps = declared,
            });
        }
        return result;
    }

    public void Dispose() => CommitFence.CloseDatabase(_db, _data, _log);

    /// <summary>
    /// A span's <c>_id</c> (with its last sequence number): the device prefix and the sequence number big-endian, so
    /// that the binary order of the ids is by device, then by sequence, and a device's spans are one id range, the
    /// span holding a sequence number the first at or after its id. Binary keys are compared bytewise;
    /// the earlier 63-character text ids were compared case-insensitively per character and cost a sixth of a drain.
    /// </summary>
    private static BsonValue RecordId(ReadOnlySpan<byte> devicePrefix, ulong sequence)
    {
        var id = new byte[devicePrefix.Length + 8];
        devicePrefix.CopyTo(id);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt64BigEndian(id.AsSpan(devicePrefix.Length), sequence);
        return id;
    }

    /// <summary>
    /// 20 and the 20 address bytes for a device address (0x and 40 lower-case hex digits, as topics carry it); otherwise 0 and the name's UTF-8 bytes
    /// (no such device has records: a record's signature must recover to its device), so prefixes never overlap.
    /// </summary>
    private static byte[] DevicePrefix(string device)
    {
        if (device.Length == 42 && device.StartsWith("0x", StringComparison.Ordinal) && !device.AsSpan(2).ContainsAnyExcept(HexDigits))
        {
            var prefix = new byte[21];
            prefix[0] = 20;
            Convert.FromHexString(device.AsSpan(2), prefix.AsSpan(1), out _, out _);
            return prefix;
        }
        return [0, .. System.Text.Encoding.UTF8.GetBytes(device)];
    }

    private static readonly System.Buffers.SearchValues<char> HexDigits = System.Buffers.SearchValues.Create("0123456789abcdef");

    private static BsonDocument DeviceDoc(DeviceState s) => new()
    {
        ["_id"] = s.Device,
        ["seq"] = (long)s.Sequence,
        ["h"] = s.Digest,
        ["n"] = s.Accepted,
        ["bal"] = s.Balance,
    };
}
