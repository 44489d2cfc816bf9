using EdgeMeter.Crypto.Records;
using LiteDB;

namespace EdgeMeter.Agent.Storage;

/// <summary>
/// Hand mapping between signed records and LiteDB documents. Field names are short on purpose: they are
/// stored with every record, and bytes written per reading wear the SD card.
/// </summary>
internal static class RecordDocuments
{
    public static BsonDocument ToDocument(SignedReading s)
    {
        var r = s.Record;
        var doc = new BsonDocument
        {
            ["_id"] = (long)r.Sequence,
            ["dv"] = r.Device,
            ["m"] = r.MeterId,
            ["o"] = r.Obis,
            ["v"] = r.Value,
            ["sc"] = (int)r.Scaler,
            ["u"] = r.Unit,
            ["src"] = (int)r.Source,
            ["c"] = r.Clean,
            ["gt"] = r.GatewayTimeMs,
            ["ts"] = (int)r.TimeStatus,
            ["p"] = r.PrevHash.ToArray(),
            ["h"] = s.Digest.ToArray(),
            ["sig"] = s.Signature.ToArray(),
        };
        if (r.MeterTimeMs != 0)
            doc["mt"] = r.MeterTimeMs;
        return doc;
    }

    public static SignedReading FromDocument(BsonDocument d)
    {
        var record = new ReadingRecord
        {
            Device = d["dv"].AsString,
            Sequence = (ulong)d["_id"].AsInt64,
            MeterId = d["m"].AsString,
            Obis = d["o"].AsString,
            Value = d["v"].AsInt64,
            Scaler = (sbyte)d["sc"].AsInt32,
            Unit = d["u"].AsString,
            Source = (EnergySource)d["src"].AsInt32,
            Clean = d["c"].AsBoolean,
            GatewayTimeMs = d["gt"].AsInt64,
            MeterTimeMs = d.TryGetValue("mt", out var mt) ? mt.AsInt64 : 0,
            TimeStatus = (TimeStatus)d["ts"].AsInt32,
            PrevHash = d["p"].AsBinary,
        };
        return new SignedReading(record, d["h"].AsBinary, d["sig"].AsBinary);
    }
}
