using System.Text;
using EdgeMeter.Crypto.Keys;
using EdgeMeter.Crypto.Records;
using EdgeMeter.Crypto.Signing;

namespace EdgeMeter.Economics.Tests.Transactions;

/// <summary>The ledger's record rules with gap declarations: a declared range is accepted, any conflict is refused.</summary>
public sealed class TransactionValidatorTests
{
    private const ulong ChainId = 31337;
    private static readonly FileDeviceKey Key = FileDeviceKey.FromSecret(Convert.FromHexString("2a2e3d4c5b6a79881f2e3d4c5b6a79881f2e3d4c5b6a79881f2e3d4c5b6a7988"));
    private static readonly RecordSigner Signer = new(Key, Eip712Domain.ForReadings(ChainId));

    private static ReadingRecord Reading(ulong seq, ReadOnlyMemory<byte> prev, RecordOrigin origin = RecordOrigin.Live) => new()
    {
        Device = Key.Address,
        Sequence = seq,
        MeterId = "grid",
        Obis = "1-0:1.8.0*255",
        Value = 1000 + (long)seq,
        Scaler = 0,
        Unit = "Wh",
        Source = EnergySource.GridImport,
        Clean = false,
        GatewayTimeMs = 1_780_000_000_000 + (long)seq * 1000,
        MeterTimeMs = origin == RecordOrigin.MeterMemory ? 1_779_990_000_000 : 0,
        TimeStatus = TimeStatus.Synchronised,
        Origin = origin,
        PrevHash = prev,
    };

    private static GapRecord Gap(ulong from, ulong to, ReadOnlyMemory<byte> prev) => new()
    {
        Device = Key.Address,
        Sequence = to + 1,
        FromSequence = from,
        ToSequence = to,
        Reason = GapReason.LedgerAhead,
        GatewayTimeMs = 1_780_000_500_000,
        TimeStatus = TimeStatus.Synchronised,
        PrevHash = prev,
    };

    /// <summary>Readings 1..3, a gap declaring 4..6 (seq 7), readings 8..9 (8 read back from the meter's memory).</summary>
    private static List<SignedReading> ChainWithGap()
    {
        var chain = new List<SignedReading>();
        ReadOnlyMemory<byte> prev = new byte[32];
        for (ulong seq = 1; seq <= 3; seq++)
            chain.Add(Signer.Sign(Reading(seq, chain.Count == 0 ? prev : chain[^1].Digest)));
        chain.Add(Signer.Sign(Gap(4, 6, chain[^1].Digest)));
        chain.Add(Signer.Sign(Reading(8, chain[^1].Digest, RecordOrigin.MeterMemory)));
        chain.Add(Signer.Sign(Reading(9, chain[^1].Digest)));
        return chain;
    }

    private static Transaction RoundTrip(IReadOnlyList<SignedReading> records) =>
        TransactionCodec.Decode(TransactionCodec.Encode(TransactionCodec.Create(Key.Address, ChainId, records)));

    private static ValidationResult Validate(Transaction tx, ulong lastSequence, byte[] lastDigest, Dictionary<ulong, byte[]>? held = null) =>
        TransactionValidator.Validate(tx, Key.Address, ChainId, lastSequence, lastDigest, seq => held?.GetValueOrDefault(seq));

    [Fact]
    public void A_transaction_carries_a_gap_declaration_and_the_origin_through_its_json()
    {
        var chain = ChainWithGap();
        var json = Encoding.UTF8.GetString(TransactionCodec.Encode(TransactionCodec.Create(Key.Address, ChainId, chain)));
        Assert.Contains("{\"type\":\"Gap\",\"message\":{\"device\":\"" + Key.Address + "\",\"seq\":\"7\",\"fromSeq\":\"4\",\"toSeq\":\"6\",\"reason\":1,", json, StringComparison.Ordinal);
        Assert.Contains("\"seq\":\"8\"", json, StringComparison.Ordinal);
        Assert.Contains("\"timeStatus\":2,\"origin\":1,", json, StringComparison.Ordinal);

        var back = TransactionCodec.Decode(Encoding.UTF8.GetBytes(json));
        Assert.Equal([1UL, 2, 3, 7, 8, 9], back.Records.Select(r => r.Record.Sequence));
        var gap = Assert.IsType<GapRecord>(back.Records[3].Record);
        Assert.Equal((4UL, 6UL, GapReason.LedgerAhead), (gap.FromSequence, gap.ToSequence, gap.Reason));
        Assert.Equal(RecordOrigin.MeterMemory, back.Records[4].Reading!.Origin);
        Assert.Equal(RecordOrigin.Live, back.Records[5].Reading!.Origin);
    }

    [Fact]
    public void Accepts_a_declared_gap_that_continues_from_the_head()
    {
        var chain = ChainWithGap();
        var result = Validate(RoundTrip(chain), 0, new byte[32]);
        Assert.Null(result.Rejection);
        Assert.Equal([1UL, 2, 3, 7, 8, 9], result.Accepted.Select(a => a.Sequence));
        Assert.Equal(chain.Select(r => r.Digest.ToArray()), result.Accepted.Select(a => a.Digest));

        // The same declaration sent again (a lost receipt) is a re-send, not counted again.
        var held = chain.ToDictionary(r => r.Record.Sequence, r => r.Digest.ToArray());
        var again = Validate(RoundTrip(chain.Skip(3).ToList()), 9, chain[^1].Digest.ToArray(), held);
        Assert.Null(again.Rejection);
        Assert.Empty(again.Accepted);
        Assert.Equal(3, again.Duplicates);
    }

    [Fact]
    public void Refuses_a_declaration_overlapping_records_the_ledger_holds()
    {
        var chain = ChainWithGap();
        var held = chain.Take(3).ToDictionary(r => r.Record.Sequence, r => r.Digest.ToArray());
        // Declares 3..6 skipped, but the ledger holds 3; linked to seq 2.
        var overlapping = Signer.Sign(Gap(3, 6, chain[1].Digest));
        var result = Validate(RoundTrip([overlapping]), 3, chain[2].Digest.ToArray(), held);
        Assert.Empty(result.Accepted);
        Assert.Equal("seq 7: conflict: declares seqs 3..6 missing, but the chain holds them through seq 3", result.Rejection);
    }

    [Fact]
    public void Refuses_a_declaration_that_does_not_link_to_the_head_and_a_record_inside_a_declared_range()
    {
        var chain = ChainWithGap();
        var misLinked = Signer.Sign(Gap(4, 6, chain[0].Digest));
        Assert.Equal("seq 7: previous-hash does not match seq 3",
            Validate(RoundTrip([misLinked]), 3, chain[2].Digest.ToArray()).Rejection);

        var held = chain.ToDictionary(r => r.Record.Sequence, r => r.Digest.ToArray());
        var reused = Signer.Sign(Reading(5, chain[2].Digest));
        var result = Validate(RoundTrip([reused]), 9, chain[^1].Digest.ToArray(), held);
        Assert.Empty(result.Accepted);
        Assert.Equal("seq 5: the chain is past it (through seq 9) and holds no record with it (a declared gap)", result.Rejection);

        // The same seq with other content than the ledger holds is a conflict.
        var other = Signer.Sign(Reading(8, chain[3].Digest));
        Assert.Equal("seq 8: conflicts with the record the ledger holds",
            Validate(RoundTrip([other]), 9, chain[^1].Digest.ToArray(), held).Rejection);
    }
}
