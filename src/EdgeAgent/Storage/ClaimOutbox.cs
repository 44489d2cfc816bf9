using LiteDB;
using LiteDB.Engine;

namespace EdgeMeter.Agent.Storage;

/// <summary>One closed month's final claim in the outbox.</summary>
/// <param name="Month">The month, <c>YYYY-MM</c>.</param>
/// <param name="Envelope">The signed claim, exactly as (re)sent.</param>
/// <param name="ClaimHash">Hex SHA-256 of the claim payload; the ledger's receipt names it.</param>
/// <param name="TotalTokens">The claimed total.</param>
/// <param name="CarryOut">The congestion carry into the next month.</param>
/// <param name="Receipted">Whether the ledger's signed receipt for it has arrived (then it is never sent again).</param>
/// <param name="Accepted">The receipt's verdict.</param>
/// <param name="Recomputed">The ledger's recomputed total, from the receipt.</param>
internal sealed record OutboxClaim(string Month, byte[] Envelope, string ClaimHash, long TotalTokens, decimal CarryOut, bool Receipted, bool Accepted, long? Recomputed);

/// <summary>
/// The closed months' final claims, kept durably until the ledger's signed receipt (LiteDB <c>claims.db</c> in the
/// data directory, documents built by hand). A claim is written before it is first sent, so a restart or a broker
/// outage resends it; the ledger counts a month once.
/// </summary>
internal sealed class ClaimOutbox : IDisposable
{
    public const string FileName = "claims.db";

    /// <summary>LiteDB's write-ahead log beside the data file (the name LiteDB itself would give it).</summary>
    public const string LogFileName = "claims-log.db";

    /// <summary>How long a write waits for its sync before the outbox reports the disk as failing.</summary>
    private static readonly TimeSpan SyncTimeout = TimeSpan.FromSeconds(60);

    private readonly CommitFence _data;
    private readonly CommitFence _log;
    private readonly LiteDatabase _db;
    private readonly ILiteCollection<BsonDocument> _claims;
    private readonly Lock _gate = new();

    public ClaimOutbox(string dataDirectory)
    {
        // As the record store: LiteDB on our own streams, so that a write returns only once its commit is synced
        // (Storage/CommitFence.cs). A month's claim that was "stored" must survive a power cut right after.
        _data = CommitFence.OpenFile(System.IO.Path.Combine(dataDirectory, FileName));
        _log = CommitFence.OpenFile(System.IO.Path.Combine(dataDirectory, LogFileName), isLog: true);
        _db = CommitFence.OpenDatabase(_data, _log);
        _claims = _db.GetCollection("claims");
    }

    /// <summary>Every claim, oldest month first.</summary>
    public IReadOnlyList<OutboxClaim> All()
    {
        lock (_gate)
            return [.. _claims.FindAll().Select(Of).OrderBy(c => c.Month, StringComparer.Ordinal)];
    }

    /// <summary>The newest month's claim, or null.</summary>
    public OutboxClaim? Latest() => All() is [.., var last] ? last : null;

    /// <summary>Adds a month's final claim (committed before it returns); false when the month already has one.</summary>
    public bool Add(OutboxClaim claim)
    {
        lock (_gate)
        {
            if (_claims.FindById(claim.Month) is not null)
                return false;
            _log.Durably(1, SyncTimeout, () => _claims.Insert(Doc(claim)));
            return true;
        }
    }

    /// <summary>Records the ledger's receipt for the claim with <paramref name="claimHash"/>; false when no claim has that hash.</summary>
    public bool MarkReceipted(string month, string claimHash, bool accepted, long recomputed)
    {
        lock (_gate)
        {
            if (_claims.FindById(month) is not { } doc || doc["hash"].AsString != claimHash)
                return false;
            _log.Durably(1, SyncTimeout, () => _claims.Update(Doc(Of(doc) with { Receipted = true, Accepted = accepted, Recomputed = recomputed })));
            return true;
        }
    }

    public void Dispose() => CommitFence.CloseDatabase(_db, _data, _log);

    private static BsonDocument Doc(OutboxClaim c) => new()
    {
        ["_id"] = c.Month,
        ["env"] = c.Envelope,
        ["hash"] = c.ClaimHash,
        ["tokens"] = c.TotalTokens,
        ["carry"] = c.CarryOut,
        ["receipted"] = c.Receipted,
        ["accepted"] = c.Accepted,
        ["recomputed"] = c.Recomputed is { } r ? r : BsonValue.Null,
    };

    private static OutboxClaim Of(BsonDocument d) => new(
        d["_id"].AsString, d["env"].AsBinary, d["hash"].AsString, d["tokens"].AsInt64, d["carry"].AsDecimal,
        d["receipted"].AsBoolean, d["accepted"].AsBoolean, d["recomputed"].IsNull ? null : d["recomputed"].AsInt64);
}
