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
/// Record layout, big-endian, sequence implicit (first + index):
/// meterId, obis, unit (each: u8 length, UTF-8) · value i64 · scaler i8 · source u8 · clean u8 · gatewayTime i64 ·
/// meterTime i64 · timeStatus u8 · prevHash 32 · digest 32 · signature 65.
/// </remarks>
internal static class RecordBlocks
{
    private const int FixedBytes = 8 + 1 + 1 + 1 + 8 + 8 + 1 + 32 + 32 + 65;

    public static BsonDocument ToDocument(IReadOnlyList<SignedReading> records)
    {
        var size = 0;
        foreach (var s in records)
            size += 3 + Utf8Length(s.Record.MeterId) + Utf8Length(s.Record.Obis) + Utf8Length(s.Record.Unit) + FixedBytes;
        var body = new byte[size];
        var span = body.AsSpan();
        foreach (var s in records)
        {
            var r = s.Record;
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
            r.PrevHash.Span.CopyTo(span.Slice(28, 32));
            s.Digest.Span.CopyTo(span.Slice(60, 32));
            s.Signature.Span.CopyTo(span.Slice(92, 65));
            span = span[FixedBytes..];
        }
        return new BsonDocument
        {
            ["_id"] = (long)records[0].Record.Sequence,
            ["n"] = records.Count,
            ["dv"] = records[0].Record.Device,
            ["b"] = body,
        };
    }

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
        var offset = 0;
        for (var i = 0; i < count; i++)
        {
            if (first + (ulong)i < from)
                Skip(body, ref offset, first + (ulong)i);
            else
                yield return Read(body, ref offset, device, first + (ulong)i);
        }
        if (offset != body.Length)
            throw new InvalidDataException($"record block {first}: {body.Length - offset} trailing bytes");
    }

    private static SignedReading Read(byte[] body, ref int offset, string device, ulong sequence)
    {
        try
        {
            var meterId = ReadString(body, ref offset);
            var obis = ReadString(body, ref offset);
            var unit = ReadString(body, ref offset);
            var f = body.AsSpan(offset, FixedBytes);
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
                PrevHash = f.Slice(28, 32).ToArray(),
            };
            var signed = new SignedReading(record, f.Slice(60, 32).ToArray(), f.Slice(92, 65).ToArray());
            offset += FixedBytes;
            return signed;
        }
        catch (ArgumentOutOfRangeException e)
        {
            throw new InvalidDataException($"record {sequence}: truncated block", e);
        }
    }

    // A backlog is read 500 records at a time from blocks of up to an hour's records: step over the ones already sent.
    private static void Skip(byte[] body, ref int offset, ulong sequence)
    {
        for (var k = 0; k < 3; k++)
        {
            if (offset >= body.Length)
                throw new InvalidDataException($"record {sequence}: truncated block");
            offset += 1 + body[offset];
        }
        offset += FixedBytes;
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
