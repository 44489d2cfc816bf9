using System.Text;
using EdgeMeter.Crypto.Keys;
using EdgeMeter.Crypto.Records;
using EdgeMeter.Crypto.Signing;
using EdgeMeter.Crypto.Tests.Signing;
using EdgeMeter.Crypto.Verification;

namespace EdgeMeter.Crypto.Tests.Verification;

public class ChainVerifierTests
{
    private static readonly Eip712Domain Domain = Eip712Domain.ForReadings(1);

    internal static List<SignedReading> Chain(IDeviceKey key, int count, ulong firstSeq = 1)
    {
        var signer = new RecordSigner(key, Domain);
        var chain = new List<SignedReading>();
        ReadOnlyMemory<byte> prev = new byte[32];
        for (ulong seq = firstSeq; seq < firstSeq + (ulong)count; seq++)
        {
            var signed = signer.Sign(TestRecords.Reading(key.Address, seq, prev, value: 1000 + (long)seq));
            chain.Add(signed);
            prev = signed.Digest;
        }
        return chain;
    }

    private static List<string> Lines(IEnumerable<SignedReading> chain) => chain.Select(r => Eip712Tests.ExportLine(r, Domain)).ToList();

    private static VerificationReport VerifyLines(IEnumerable<string> lines, string? expectedSigner = null) =>
        ChainVerifier.VerifyJsonLines(new StringReader(string.Join('\n', lines) + "\n"), expectedSigner);

    [Fact]
    public void Accepts_an_intact_chain()
    {
        using var key = FileDeviceKey.FromSecret(TestRecords.Secret(0x61));
        var report = VerifyLines(Lines(Chain(key, 5)), key.Address);
        Assert.True(report.Ok, string.Join("; ", report.Findings));
        Assert.Equal(5, report.RecordCount);
        Assert.Equal(new DeviceRange(key.Address, 1, 5, 5), Assert.Single(report.Devices));
    }

    [Fact]
    public void Accepts_an_export_that_starts_mid_chain()
    {
        using var key = FileDeviceKey.FromSecret(TestRecords.Secret(0x62));
        var report = VerifyLines(Lines(Chain(key, 6)).Skip(2));
        Assert.True(report.Ok, string.Join("; ", report.Findings));
    }

    [Fact]
    public void Reports_an_altered_value_with_its_sequence_number()
    {
        using var key = FileDeviceKey.FromSecret(TestRecords.Secret(0x63));
        var lines = Lines(Chain(key, 5));
        lines[2] = lines[2].Replace("\"value\":\"1003\"", "\"value\":\"1004\"", StringComparison.Ordinal);

        var report = VerifyLines(lines);
        var finding = Assert.Single(report.Findings);
        Assert.Equal((FindingKind.Altered, 3UL, 3), (finding.Kind, finding.Sequence, finding.Line));
    }

    [Fact]
    public void Reports_a_deleted_record_as_a_gap()
    {
        using var key = FileDeviceKey.FromSecret(TestRecords.Secret(0x64));
        var lines = Lines(Chain(key, 5));
        lines.RemoveAt(3);

        var finding = Assert.Single(VerifyLines(lines).Findings);
        Assert.Equal((FindingKind.Gap, 4UL), (finding.Kind, finding.Sequence));
    }

    [Fact]
    public void Reports_two_swapped_records_as_a_reorder()
    {
        using var key = FileDeviceKey.FromSecret(TestRecords.Secret(0x65));
        var lines = Lines(Chain(key, 5));
        (lines[1], lines[2]) = (lines[2], lines[1]);

        var finding = Assert.Single(VerifyLines(lines).Findings);
        Assert.Equal((FindingKind.Reorder, 2UL), (finding.Kind, finding.Sequence));
        Assert.Contains("after seq 3", finding.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Reports_a_duplicated_record()
    {
        using var key = FileDeviceKey.FromSecret(TestRecords.Secret(0x66));
        var lines = Lines(Chain(key, 4));
        lines.Insert(3, lines[2]);

        var finding = Assert.Single(VerifyLines(lines).Findings);
        Assert.Equal((FindingKind.Duplicate, 3UL), (finding.Kind, finding.Sequence));
    }

    [Fact]
    public void Reports_a_record_validly_signed_but_chained_to_the_wrong_predecessor()
    {
        using var key = FileDeviceKey.FromSecret(TestRecords.Secret(0x67));
        var chain = Chain(key, 4);
        chain[3] = new RecordSigner(key, Domain).Sign(chain[3].Record with { PrevHash = chain[1].Digest });

        var finding = Assert.Single(VerifyLines(Lines(chain)).Findings);
        Assert.Equal((FindingKind.BrokenChain, 4UL), (finding.Kind, finding.Sequence));
    }

    [Fact]
    public void Reports_records_of_another_key_as_wrong_signer()
    {
        using var key = FileDeviceKey.FromSecret(TestRecords.Secret(0x68));
        using var other = FileDeviceKey.FromSecret(TestRecords.Secret(0x69));
        var finding = Assert.Single(VerifyLines(Lines(Chain(other, 1)), key.Address).Findings);
        Assert.Equal((FindingKind.WrongSigner, 1UL), (finding.Kind, finding.Sequence));
    }

    [Fact]
    public void Reports_an_empty_export()
    {
        Assert.False(VerifyLines([]).Ok);
    }

    [Fact]
    public void Every_single_bit_flip_in_an_export_is_reported_at_the_record_or_line_it_hits()
    {
        using var key = FileDeviceKey.FromSecret(TestRecords.Secret(0x6a));
        var text = string.Join("\n", Lines(Chain(key, 2))) + "\n";
        var bytes = Encoding.UTF8.GetBytes(text);
        for (int i = 0; i < bytes.Length; i++)
        {
            if (bytes[i] == (byte)'\n')
                continue;
            ulong seqOfLine = (ulong)(1 + bytes.AsSpan(0, i).Count((byte)'\n'));
            var flipped = (byte[])bytes.Clone();
            flipped[i] ^= 0x01;

            var report = ChainVerifier.VerifyJsonLines(new StringReader(Encoding.UTF8.GetString(flipped)));
            Assert.False(report.Ok, $"flip at byte {i} went unnoticed");
            Assert.True(report.Findings.Any(f => f.Sequence == seqOfLine || f.Line == (int)seqOfLine),
                $"flip at byte {i} ('{(char)bytes[i]}' in line {seqOfLine}: ...{Encoding.UTF8.GetString(bytes.AsSpan(Math.Max(0, i - 30), Math.Min(40, bytes.Length - Math.Max(0, i - 30))))}...) reported as: {string.Join("; ", report.Findings)}");
        }
    }

    // 1..3 readings, a gap declaring 4..6 skipped (at seq 7, linked to seq 3), then readings 8..9.
    internal static List<SignedReading> ChainWithGap(IDeviceKey key, GapReason reason = GapReason.LedgerAhead)
    {
        var signer = new RecordSigner(key, Domain);
        var chain = Chain(key, 3);
        chain.Add(signer.Sign(TestRecords.Gap(key.Address, 4, 6, chain[^1].Digest, reason)));
        for (ulong seq = 8; seq <= 9; seq++)
            chain.Add(signer.Sign(TestRecords.Reading(key.Address, seq, chain[^1].Digest, value: 1000 + (long)seq)));
        return chain;
    }

    [Fact]
    public void Accepts_a_chain_with_a_gap_declaration_and_lists_the_declared_range()
    {
        using var key = FileDeviceKey.FromSecret(TestRecords.Secret(0x6b));
        var report = VerifyLines(Lines(ChainWithGap(key, GapReason.StoreLost)), key.Address);
        Assert.True(report.Ok, string.Join("; ", report.Findings));
        Assert.Equal(6, report.RecordCount);
        Assert.Equal(new DeviceRange(key.Address, 1, 9, 6), Assert.Single(report.Devices));
        Assert.Equal(new DeclaredGap(key.Address, 7, 4, 6, GapReason.StoreLost, 4), Assert.Single(report.DeclaredGaps));
    }

    [Fact]
    public void A_declaration_excuses_only_its_own_range()
    {
        using var key = FileDeviceKey.FromSecret(TestRecords.Secret(0x6c));
        var lines = Lines(ChainWithGap(key));
        lines.RemoveAt(2); // seq 3, before the declared 4..6: still missing

        var report = VerifyLines(lines);
        Assert.Equal([(FindingKind.Gap, 3UL)], report.Findings.Select(f => (f.Kind, f.Sequence)));
    }

    [Fact]
    public void A_record_inside_a_declared_range_is_a_conflict()
    {
        using var key = FileDeviceKey.FromSecret(TestRecords.Secret(0x6d));
        var chain = ChainWithGap(key);
        // Seq 4 signed after all (what a store that reused numbers would produce), placed before the declaration.
        chain.Insert(3, new RecordSigner(key, Domain).Sign(TestRecords.Reading(key.Address, 4, chain[2].Digest)));

        var finding = Assert.Single(VerifyLines(Lines(chain)).Findings);
        Assert.Equal((FindingKind.Conflict, 7UL), (finding.Kind, finding.Sequence));
        Assert.Contains("4..6", finding.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_declaration_that_does_not_link_to_the_record_before_its_range_is_a_broken_chain()
    {
        using var key = FileDeviceKey.FromSecret(TestRecords.Secret(0x6e));
        var chain = ChainWithGap(key);
        var signer = new RecordSigner(key, Domain);
        chain[3] = signer.Sign(TestRecords.Gap(key.Address, 4, 6, chain[1].Digest));
        chain[4] = signer.Sign(chain[4].Record with { PrevHash = chain[3].Digest });
        chain[5] = signer.Sign(chain[5].Record with { PrevHash = chain[4].Digest });

        var finding = Assert.Single(VerifyLines(Lines(chain)).Findings);
        Assert.Equal((FindingKind.BrokenChain, 7UL), (finding.Kind, finding.Sequence));
        Assert.Contains("seq 3", finding.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_altered_declaration_does_not_excuse_its_range()
    {
        using var key = FileDeviceKey.FromSecret(TestRecords.Secret(0x6f));
        var lines = Lines(ChainWithGap(key));
        lines[3] = lines[3].Replace("\"fromSeq\":\"4\"", "\"fromSeq\":\"5\"", StringComparison.Ordinal);

        var report = VerifyLines(lines);
        Assert.Contains(report.Findings, f => (f.Kind, f.Sequence) == (FindingKind.Altered, 7UL));
        Assert.Contains(report.Findings, f => (f.Kind, f.Sequence) == (FindingKind.Gap, 4UL));
        Assert.Empty(report.DeclaredGaps);
    }
}
