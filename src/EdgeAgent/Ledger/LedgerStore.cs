using System.Security.Cryptography;
using LiteDB;
using EdgeMeter.Economics;

namespace EdgeMeter.Agent.Ledger;

/// <summary>A device's position on the development ledger.</summary>
internal sealed record DeviceState(string Device, ulong Sequence, byte[] Digest, long Accepted, decimal Balance);

/// <summary>One accepted record as the ledger keeps it.</summary>
internal sealed record LedgerRecord(string Device, ulong Sequence, byte[] Digest, string TxId, long Block);

/// <summary>Per-device summary for <c>ledger --dump</c>, computed from the stored records themselves.</summary>
internal sealed record DeviceSummary(string Device, long Accepted, ulong Lowest, ulong Highest, IReadOnlyList<ulong> Gaps, IReadOnlyList<ulong> Duplicates, decimal Balance);

/// <summary>
/// The development ledger's storage: device states, accepted records and hash-linked blocks, in one LiteDB file
/// through <see cref="BsonDocument"/>. One block per accepted transaction, committed together with the records and
/// the device state, so a crash never leaves a block without its records or the reverse.
/// </summary>
internal sealed class LedgerStore : IDisposable
{
    public const string FileName = "ledger.db";

    private readonly LiteDatabase _db;
    private readonly ILiteCollection<BsonDocument> _devices;
    private readonly ILiteCollection<BsonDocument> _records;
    private readonly ILiteCollection<BsonDocument> _blocks;
    private readonly ILiteCollection<BsonDocument> _claims;

    public LedgerStore(string dataDirectory)
    {
        Directory.CreateDirectory(dataDirectory);
        _db = new LiteDatabase(new ConnectionString { Filename = Path.Combine(dataDirectory, FileName), Connection = ConnectionType.Direct });
        _devices = _db.GetCollection("devices");
        _records = _db.GetCollection("records");
        _blocks = _db.GetCollection("blocks");
        _claims = _db.GetCollection("claims");
        _records.EnsureIndex("dev");
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
    public byte[]? GetDigest(string device, ulong sequence) =>
        _records.FindById(RecordId(device, sequence))?["h"].AsBinary;

    /// <summary>Appends a block holding <paramref name="accepted"/> and moves the device state, in one transaction.</summary>
    public long AppendBlock(string txId, DeviceState newState, IReadOnlyList<(ulong Sequence, byte[] Digest)> accepted, long timeMs)
    {
        var height = Height + 1;
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        sha.AppendData(LastBlockHash);
        sha.AppendData(System.Text.Encoding.UTF8.GetBytes(txId));
        foreach (var (_, digest) in accepted)
            sha.AppendData(digest);
        var hash = sha.GetHashAndReset();

        _db.BeginTrans();
        try
        {
            _records.InsertBulk(accepted.Select(a => new BsonDocument
            {
                ["_id"] = RecordId(newState.Device, a.Sequence),
                ["dev"] = newState.Device,
                ["seq"] = (long)a.Sequence,
                ["h"] = a.Digest,
                ["b"] = height,
            }), accepted.Count);
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
            _db.Commit();
        }
        catch
        {
            _db.Rollback();
            throw;
        }
        Height = height;
        LastBlockHash = hash;
        return height;
    }

    /// <summary>Records a claim (the latest per device and month replaces earlier ones) and recomputes the balance.</summary>
    public decimal ApplyClaim(string device, string month, long totalTokens, string claimJson)
    {
        _db.BeginTrans();
        try
        {
            _claims.Upsert(new BsonDocument
            {
                ["_id"] = device + ":" + month,
                ["dev"] = device,
                ["month"] = month,
                ["tokens"] = totalTokens,
                ["json"] = claimJson,
            });
            var balance = _claims.Find(Query.EQ("dev", device)).Sum(c => (decimal)c["tokens"].AsInt64);
            var state = GetDevice(device) with { Balance = balance };
            _devices.Upsert(DeviceDoc(state));
            _db.Commit();
            return balance;
        }
        catch
        {
            _db.Rollback();
            throw;
        }
    }

    public IReadOnlyList<DeviceSummary> Summarise()
    {
        var result = new List<DeviceSummary>();
        foreach (var dev in _devices.FindAll())
        {
            var device = dev["_id"].AsString;
            var seqs = _records.Find(Query.EQ("dev", device)).Select(r => (ulong)r["seq"].AsInt64).OrderBy(s => s).ToList();
            var gaps = new List<ulong>();
            var dups = new List<ulong>();
            for (var i = 1; i < seqs.Count; i++)
            {
                if (seqs[i] == seqs[i - 1])
                    dups.Add(seqs[i]);
                for (var missing = seqs[i - 1] + 1; missing < seqs[i] && gaps.Count < 1000; missing++)
                    gaps.Add(missing);
            }
            if (seqs.Count > 0)
            {
                for (ulong missing = 1; missing < seqs[0] && gaps.Count < 1000; missing++)
                    gaps.Add(missing);
            }
            result.Add(new DeviceSummary(device, seqs.Count, seqs.Count > 0 ? seqs[0] : 0, seqs.Count > 0 ? seqs[^1] : 0, gaps, dups, dev["bal"].AsDecimal));
        }
        return result;
    }

    public void Dispose() => _db.Dispose();

    private static string RecordId(string device, ulong sequence) => $"{device}:{sequence:D20}";

    private static BsonDocument DeviceDoc(DeviceState s) => new()
    {
        ["_id"] = s.Device,
        ["seq"] = (long)s.Sequence,
        ["h"] = s.Digest,
        ["n"] = s.Accepted,
        ["bal"] = s.Balance,
    };
}
