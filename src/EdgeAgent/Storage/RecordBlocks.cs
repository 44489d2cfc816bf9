using System.Buffers.Binary;
using System.Text;
using EdgeMeter.Crypto.Records;
using LiteDB;

namespace EdgeMeter.Agent.Storage;

/// <summary>
/// One commit's records packed into one LiteDB document: <c>{_id: first sequence, n: count, dv: device, b: records}</c>.
/// An SD card pays for every page a commit touches, and LiteDB touches a data page and an index page per document;
/// one document per commit with a compact binary body keeps the bytes written per record near the record's own
/// size. Mapped by hand: LiteDB's typed mapper is not used anywhere (it drops fields under AOT).
/// </summary>
/// <remarks>
/// Reading layout, big-endian, sequence implicit (first + index):
/// meterId, obis, unit (each: u8 length, UTF-8) · value i64 · scaler i8 · source u8 · clean u8 · gatewayTime i64 ·
/// meterTime i64 · timeStatus u8 · origin u8 · prevHash 32 · digest 32 · signature 65. Blocks written before the
/// origin existed have no <c>v</c> member and no origin byte: their readings are live.
/// A gap declaration is a block of its own, <c>{_id: its sequence, n: 1, k: "gap", dv, b}</c>, body
/// fromSeq u64 · toSeq u64 · reason u8 · gatewayTime i64 · timeStatus u8 · prevHash 32 · digest 32 · signature 65.
/// </remarks>
internal static class RecordBlocks
{
    /// <summary>The reading layout with the origin byte (member <c>v</c>); absent: layout 1, without it.</summary>
    private const int Layout = 2;

    private const int FixedBytes = 8 + 1 + 1 + 1 + 8 + 8 + 1 + 1 + 32 + 32 + 65;
    private const int FixedBytesV1 = FixedBytes - 1;
    private const int GapBytes = 8 + 8 + 1 + 8 + 1 + 32 + 32 + 65;

    public static BsonDocument ToDocument(IReadOnlyList<SignedReading> records)
    {
        if (records[0].Record is GapRecord)
        {
            if (records.Count != 1)
                throw new ArgumentException("a gap declaration is stored as a block of its own", nameof(records));
            return GapDocument(records[0]);
        }
        var size = 0;
        foreach (var s in records)
        {
            var r = s.Reading ?? throw new ArgumentException("a gap declaration is stored as a block of its own", nameof(records));
            size += 3 + Utf8Length(r.MeterId) + Utf8Length(r.Obis) + Utf8Length(r.Unit) + FixedBytes;
        }
        var body = new byte[size];
        var span = body.AsSpan();
        foreach (var s in records)
        {
            var r = (ReadingRecord)s.Record;
            span = WriteString(span, r.MeterId);
            span = WriteString(span, r.Obis);
            span = WriteString(span, r.Unit);
            BinaryPrimitives.WriteInt64BigEndian(span, r.Value);
            span[8] = (byte)r.Scaler;
            span[9] = (byte)r.Source;
            span[10] = r.Clean ? (byte)1 : (byte)0;
            BinaryPrimitives.WriteInt64BigEndian(span[11..], r.GatewayTimeMs);
            BinaryPrimitives.WriteInt64BigEndian(span[19..], r.MeterTimeMs);
            span[27] = (byte)r.TimeStatus;
            span[28] = (byte)r.Origin;
            r.PrevHash.Span.CopyTo(span.Slice(29, 32));
            s.Digest.Span.CopyTo(span.Slice(61, 32));
            s.Signature.Span.CopyTo(span.Slice(93, 65));
            span = span[FixedBytes..];
        }
        return new BsonDocument
        {
            ["_id"] = (long)records[0].Record.Sequence,
            ["n"] = records.Count,
            ["v"] = Layout,
            ["dv"] = records[0].Record.Device,
            ["b"] = body,
        };
    }

    private static BsonDocument GapDocument(SignedReading signed)
    {
        var g = (GapRecord)signed.Record;
        var body = new byte[GapBytes];
        var span = body.AsSpan();
        BinaryPrimitives.WriteUInt64BigEndian(span, g.FromSequence);
        BinaryPrimitives.WriteUInt64BigEndian(span[8..], g.ToSequence);
        span[16] = (byte)g.Reason;
        BinaryPrimitives.WriteInt64BigEndian(span[17..], g.GatewayTimeMs);
        span[25] = (byte)g.TimeStatus;
        g.PrevHash.Span.CopyTo(span.Slice(26, 32));
        signed.Digest.Span.CopyTo(span.Slice(58, 32));
        signed.Signature.Span.CopyTo(span.Slice(90, 65));
        return new BsonDocument
        {
            ["_id"] = (long)g.Sequence,
            ["n"] = 1,
            ["k"] = "gap",
            ["dv"] = g.Device,
            ["b"] = body,
        };
    }

    /// <summary>Whether the block is a gap declaration.</summary>
    public static bool IsGap(BsonDocument block) => block["k"] is { IsString: true } k && k.AsString == "gap";

    public static ulong First(BsonDocument block) => (ulong)block["_id"].AsInt64;

    public static ulong Last(BsonDocument block) => First(block) + (ulong)block["n"].AsInt32 - 1;

    /// <summary>Unpacks a block; a body that does not parse is an <see cref="InvalidDataException"/>, never a value.</summary>
    /// <param name="block">The stored block.</param>
    /// <param name="from">Records before this sequence number are stepped over without being decoded.</param>
    public static IEnumerable<SignedReading> FromDocument(BsonDocument block, ulong from = 0)
    {
        var first = First(block);
        var count = block["n"].AsInt32;
        var device = block["dv"].AsString;
        var body = block["b"].AsBinary;
        if (IsGap(block))
        {
            yield return ReadGap(body, device, first);
            yield break;
        }
        var withOrigin = block["v"] is { IsInt32: true } v && v.AsInt32 >= Layout;
        var offset = 0;
        for (var i = 0; i < count; i++)
        {
            if (first + (ulong)i < from)
                Skip(body, ref offset, first + (ulong)i, withOrigin);
            else
                yield return Read(body, ref offset, device, first + (ulong)i, withOrigin);
        }
        if (offset != body.Length)
            throw new InvalidDataException($"record block {first}: {body.Length - offset} trailing bytes");
    }

    private static SignedReading ReadGap(byte[] body, string device, ulong sequence)
    {
        if (body.Length != GapBytes)
            throw new InvalidDataException($"gap declaration {sequence}: {body.Length} bytes, not {GapBytes}");
        var f = body.AsSpan();
        var gap = new GapRecord
        {
            Device = device,
            Sequence = sequence,
            FromSequence = BinaryPrimitives.ReadUInt64BigEndian(f),
            ToSequence = BinaryPrimitives.ReadUInt64BigEndian(f[8..]),
            Reason = (GapReason)f[16],
            GatewayTimeMs = BinaryPrimitives.ReadInt64BigEndian(f[17..]),
            TimeStatus = (TimeStatus)f[25],
            PrevHash = f.Slice(26, 32).ToArray(),
        };
        return new SignedReading(gap, f.Slice(58, 32).ToArray(), f.Slice(90, 65).ToArray());
    }

    private static SignedReading Read(byte[] body, ref int offset, string device, ulong sequence, bool withOrigin)
    {
        try
        {
            var meterId = ReadString(body, ref offset);
            var obis = ReadString(body, ref offset);
            var unit = ReadString(body, ref offset);
            var fixedBytes = withOrigin ? FixedBytes : FixedBytesV1;
            var f = body.AsSpan(offset, fixedBytes);
            var o = withOrigin ? 1 : 0;
            var record = new ReadingRecord
            {
                Device = device,
                Sequence = sequence,
                MeterId = meterId,
                Obis = obis,
                Unit = unit,
                Value = BinaryPrimitives.ReadInt64BigEndian(f),
                Scaler = (sbyte)f[8],
                Source = (EnergySource)f[9],
                Clean = f[10] != 0,
                GatewayTimeMs = BinaryPrimitives.ReadInt64BigEndian(f[11..]),
                MeterTimeMs = BinaryPrimitives.ReadInt64BigEndian(f[19..]),
                TimeStatus = (TimeStatus)f[27],
                Origin = withOrigin ? (RecordOrigin)f[28] : RecordOrigin.Live,
                PrevHash = f.Slice(28 + o, 32).ToArray(),
            };
            var signed = new SignedReading(record, f.Slice(60 + o, 32).ToArray(), f.Slice(92 + o, 65).ToArray());
            offset += fixedBytes;
            return signed;
        }
        catch (ArgumentOutOfRangeException e)
        {
            throw new InvalidDataException($"record {sequence}: truncated block", e);
        }
    }

    // A backlog is read 500 records at a time from blocks of up to an hour's records: step over the ones already sent.
    private static void Skip(byte[] body, ref int offset, ulong sequence, bool withOrigin)
    {
        for (var k = 0; k < 3; k++)
        {
            if (offset >= body.Length)
                throw new InvalidDataException($"record {sequence}: truncated block");
            offset += 1 + body[offset];
        }
        offset += withOrigin ? FixedBytes : FixedBytesV1;
        if (offset > body.Length)
            throw new InvalidDataException($"record {sequence}: truncated block");
    }

    private static int Utf8Length(string s)
    {
        var n = Encoding.UTF8.GetByteCount(s);
        return n <= byte.MaxValue ? n : throw new ArgumentException($"'{s[..16]}…' is longer than 255 bytes");
    }

    private static Span<byte> WriteString(Span<byte> span, string s)
    {
        var n = Encoding.UTF8.GetBytes(s, span[1..]);
        span[0] = (byte)n;
        return span[(1 + n)..];
    }

    private static string ReadString(byte[] body, ref int offset)
    {
        var n = body[offset];
        var s = Encoding.UTF8.GetString(body, offset + 1, n);
        offset += 1 + n;
        return s;
    }
}
