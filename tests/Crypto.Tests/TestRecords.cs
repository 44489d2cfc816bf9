using EdgeMeter.Crypto.Records;

namespace EdgeMeter.Crypto.Tests;

internal static class TestRecords
{
    public static ReadingRecord Reading(string device, ulong seq, ReadOnlyMemory<byte> prev, long value = 123_456_789) => new()
    {
        Device = device,
        Sequence = seq,
        MeterId = "EM-3PH-0042",
        Obis = "1-0:1.8.0*255",
        Value = value,
        Scaler = -3,
        Unit = "Wh",
        Source = EnergySource.Pv,
        Clean = true,
        GatewayTimeMs = 1_767_225_600_000 + (long)seq * 1000,
        MeterTimeMs = 1_767_225_599_250 + (long)seq * 1000,
        TimeStatus = TimeStatus.Synchronised,
        PrevHash = prev,
    };

    public static GapRecord Gap(string device, ulong from, ulong to, ReadOnlyMemory<byte> prev, GapReason reason = GapReason.LedgerAhead) => new()
    {
        Device = device,
        Sequence = to + 1,
        FromSequence = from,
        ToSequence = to,
        Reason = reason,
        GatewayTimeMs = 1_767_225_600_000 + (long)(to + 1) * 1000,
        TimeStatus = TimeStatus.Synchronised,
        PrevHash = prev,
    };

    public static byte[] Secret(byte fill)
    {
        var secret = new byte[32];
        secret.AsSpan().Fill(fill);
        return secret;
    }
}
