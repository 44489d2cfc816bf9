using EdgeMeter.Crypto.Hashing;
using System.Buffers;
using System.Text.Json;
using EdgeMeter.Crypto.Records;

namespace EdgeMeter.Economics;

/// <summary>A batch of consecutive signed records from one device, sent as one MQTT message.</summary>
public sealed record Transaction(string Id, string Device, ulong ChainId, IReadOnlyList<SignedReading> Records)
{
    /// <summary>The first record's sequence number.</summary>
    public ulong From => Records[0].Record.Sequence;
    /// <summary>The last record's sequence number.</summary>
    public ulong To => Records[^1].Record.Sequence;
}

/// <summary>The ledger's answer to a transaction.</summary>
/// <param name="TxId">The transaction's id.</param>
/// <param name="Accepted">False when any record of it was rejected.</param>
/// <param name="AcceptedThrough">The device's highest sequence on the ledger after this transaction.</param>
/// <param name="Block">The block that holds it, or -1 when nothing new was added.</param>
/// <param name="Reason">Why records were rejected.</param>
public sealed record Receipt(string TxId, bool Accepted, ulong AcceptedThrough, long Block, string? Reason)
{
    /// <summary>
    /// The digest of the device's record at <see cref="AcceptedThrough"/> on the ledger (member <c>headDigest</c>), so that a
    /// gateway confirms only what the ledger holds in the same form; null from a ledger that does not send it, or
    /// before the device's first record.
    /// </summary>
    public byte[]? HeadDigest { get; init; }
}

/// <summary>
/// The ledger's head of a device's chain: the highest sequence number it holds and that record's digest. Published
/// (signed, retained) on <c>edgemeter/{device}/head</c>, so that a gateway whose store is behind the ledger continues
/// after it instead of signing a sequence number again.
/// </summary>
public sealed record LedgerHead(string Device, ulong Sequence, byte[] Digest, long Block);

/// <summary>
/// Hand-written JSON for transactions and receipts (no reflection). A transaction is
/// <c>{"v":1,"id","device","chainId","records":[{"message":{EIP-712 message…},"sig":"0x…"}]}</c>; a gap declaration
/// among the records carries <c>"type":"Gap"</c> beside its message (a record without <c>type</c> is a <c>Reading</c>).
/// </summary>
public static class TransactionCodec
{
    /// <summary>The transaction layout version, member <c>v</c>.</summary>
    public const int Version = 1;

    /// <summary>
    /// The id depends only on the records it carries, so re-sending the same batch after a lost receipt is
    /// recognisable: <c>{from}-{to}-{sha256(digests)[0..8]}</c>.
    /// </summary>
    public static string MakeId(IReadOnlyList<SignedReading> records)
    {
        var sha = new Sha256();
        foreach (var r in records)
            sha.AppendData(r.Digest.Span);
        Span<byte> hash = stackalloc byte[32];
        sha.GetHashAndReset(hash);
        return $"{records[0].Record.Sequence}-{records[^1].Record.Sequence}-{Convert.ToHexStringLower(hash[..8])}";
    }

    /// <summary>A transaction over consecutive <paramref name="records"/>, with its content-derived id.</summary>
    public static Transaction Create(string device, ulong chainId, IReadOnlyList<SignedReading> records) =>
        new(MakeId(records), device, chainId, records);

    /// <summary>The transaction's JSON.</summary>
    public static byte[] Encode(Transaction tx)
    {
        var buffer = new ArrayBufferWriter<byte>(256 + tx.Records.Count * 480);
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteNumber("v", Version);
            w.WriteString("id", tx.Id);
            w.WriteString("device", tx.Device);
            w.WriteNumber("chainId", tx.ChainId);
            w.WriteStartArray("records");
            foreach (var r in tx.Records)
            {
                w.WriteStartObject();
                if (r.Record is GapRecord)
                    w.WriteString("type", EdgeMeter.Crypto.Signing.GapTypedData.PrimaryType);
                w.WritePropertyName("message");
                ReadingJson.WriteMessage(w, r.Record);
                w.WriteString("sig", "0x" + Convert.ToHexStringLower(r.Signature.Span));
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteEndObject();
        }
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>
    /// Parses a transaction. Records come back with their signatures but without digests (the receiver must
    /// recompute them: it never trusts a digest it was sent). Throws <see cref="FormatException"/>.
    /// </summary>
    public static Transaction Decode(ReadOnlySpan<byte> json)
    {
        try
        {
            var reader = new Utf8JsonReader(json);
            using var doc = JsonDocument.ParseValue(ref reader);
            var root = doc.RootElement;
            if (root.GetProperty("v").GetInt32() != Version)
                throw new FormatException($"transaction version {root.GetProperty("v").GetInt32()} is not supported");
            var records = new List<SignedReading>();
            foreach (var item in root.GetProperty("records").EnumerateArray())
            {
                var type = item.TryGetProperty("type", out var t) ? t.GetString() ?? "" : EdgeMeter.Crypto.Signing.ReadingTypedData.PrimaryType;
                var record = ReadingJson.ReadChainMessage(item.GetProperty("message"), type);
                var sig = Convert.FromHexString(Strip0x(item.GetProperty("sig").GetString()));
                if (sig.Length != 65)
                    throw new FormatException("sig: must be 65 bytes");
                records.Add(new SignedReading(record, ReadOnlyMemory<byte>.Empty, sig));
            }
            if (records.Count == 0)
                throw new FormatException("records: empty transaction");
            return new Transaction(
                root.GetProperty("id").GetString() ?? throw new FormatException("id: missing"),
                root.GetProperty("device").GetString() ?? throw new FormatException("device: missing"),
                root.GetProperty("chainId").GetUInt64(),
                records);
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException)
        {
            throw new FormatException($"malformed transaction: {e.Message}", e);
        }
    }

    /// <summary>A receipt's JSON.</summary>
    public static byte[] EncodeReceipt(Receipt r)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteString("id", r.TxId);
            w.WriteString("status", r.Accepted ? "accepted" : "rejected");
            w.WriteString("acceptedThrough", r.AcceptedThrough.ToString(System.Globalization.CultureInfo.InvariantCulture));
            w.WriteNumber("block", r.Block);
            if (r.Reason is not null)
                w.WriteString("reason", r.Reason);
            if (r.HeadDigest is not null)
                w.WriteString("headDigest", "0x" + Convert.ToHexStringLower(r.HeadDigest));
            w.WriteEndObject();
        }
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>Parses a receipt; throws <see cref="FormatException"/>.</summary>
    public static Receipt DecodeReceipt(ReadOnlySpan<byte> json)
    {
        try
        {
            var reader = new Utf8JsonReader(json);
            using var doc = JsonDocument.ParseValue(ref reader);
            var root = doc.RootElement;
            return new Receipt(
                root.GetProperty("id").GetString() ?? "",
                root.GetProperty("status").GetString() == "accepted",
                ulong.Parse(root.GetProperty("acceptedThrough").GetString() ?? "0", System.Globalization.CultureInfo.InvariantCulture),
                root.GetProperty("block").GetInt64(),
                root.TryGetProperty("reason", out var reason) ? reason.GetString() : null)
            {
                HeadDigest = root.TryGetProperty("headDigest", out var head) ? Digest32(head.GetString()) : null,
            };
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or FormatException or OverflowException)
        {
            throw new FormatException($"malformed receipt: {e.Message}", e);
        }
    }

    /// <summary>The head's JSON: <c>{"device","seq":"N","digest":"0x…","block":N}</c>.</summary>
    public static byte[] EncodeHead(LedgerHead head)
    {
        var buffer = new ArrayBufferWriter<byte>(192);
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteString("device", head.Device);
            w.WriteString("seq", head.Sequence.ToString(System.Globalization.CultureInfo.InvariantCulture));
            w.WriteString("digest", "0x" + Convert.ToHexStringLower(head.Digest));
            w.WriteNumber("block", head.Block);
            w.WriteEndObject();
        }
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>Parses a head; throws <see cref="FormatException"/>.</summary>
    public static LedgerHead DecodeHead(ReadOnlySpan<byte> json)
    {
        try
        {
            var reader = new Utf8JsonReader(json);
            using var doc = JsonDocument.ParseValue(ref reader);
            var root = doc.RootElement;
            return new LedgerHead(
                root.GetProperty("device").GetString() ?? throw new FormatException("device: missing"),
                ulong.Parse(root.GetProperty("seq").GetString() ?? "", System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture),
                Digest32(root.GetProperty("digest").GetString()),
                root.GetProperty("block").GetInt64());
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or OverflowException)
        {
            throw new FormatException($"malformed head: {e.Message}", e);
        }
    }

    private static byte[] Digest32(string? hex)
    {
        var bytes = Convert.FromHexString(Strip0x(hex));
        return bytes.Length == 32 ? bytes : throw new FormatException("digest: must be 32 bytes");
    }

    private static string Strip0x(string? hex) =>
        hex is not null && hex.StartsWith("0x", StringComparison.OrdinalIgnoreCase) ? hex[2..] : hex ?? "";
}
