using System.Text.Json;
using EdgeMeter.Crypto.Keys;
using EdgeMeter.Crypto.Records;
using EdgeMeter.Crypto.Signing;

namespace EdgeMeter.Crypto.Verification;

/// <summary>The outcome of verifying an export.</summary>
/// <param name="Findings">Every problem found, in file order and then in sequence order.</param>
/// <param name="RecordCount">Lines read as records (valid or not).</param>
/// <param name="Devices">The devices whose records the export holds, with their sequence ranges.</param>
public sealed record VerificationReport(IReadOnlyList<ChainFinding> Findings, int RecordCount, IReadOnlyList<DeviceRange> Devices)
{
    /// <summary>True when there is at least one record and nothing is wrong.</summary>
    public bool Ok => Findings.Count == 0 && RecordCount > 0;

    /// <summary>The verified gap declarations: ranges the chain skips by a signed declaration, not by an error.</summary>
    public IReadOnlyList<DeclaredGap> DeclaredGaps { get; init; } = [];
}

/// <summary>A verified gap declaration of <paramref name="Device"/> at <paramref name="Sequence"/>: seqs <paramref name="From"/>..<paramref name="To"/> are skipped.</summary>
public sealed record DeclaredGap(string Device, ulong Sequence, ulong From, ulong To, GapReason Reason, int? Line = null);

/// <summary>A device in an export and the sequence numbers its verified records span.</summary>
public sealed record DeviceRange(string Device, ulong FirstSequence, ulong LastSequence, int VerifiedRecords);

/// <summary>One line of an export, as read: the record with its recomputed digest, the domain, the declared signer.</summary>
public sealed record ExportEntry(SignedReading Reading, Eip712Domain Domain, string Signer, int Line);

/// <summary>
/// Verifies a whole export: every signature against the recomputed EIP-712 digest, the declared signer,
/// the order of sequence numbers in the file, then per device the sequence (gaps, duplicates) and the hash
/// chain between consecutive verified records. An export may start mid-chain (an export from a time on);
/// a chain that starts at seq 1 must start from the all-zero hash. A verified gap declaration (<see cref="GapRecord"/>)
/// makes the numbers it declares skipped rather than missing, and links to the record before its range; a record in a
/// declared range, or a declaration over records present, is a <see cref="FindingKind.Conflict"/>. Pure: no I/O beyond
/// the reader given.
/// </summary>
public static class ChainVerifier
{
    /// <summary>Reads JSON lines (blank lines ignored) and verifies them.</summary>
    /// <param name="reader">The export, one record object per line.</param>
    /// <param name="expectedSigner">When set, every record must be signed by this address.</param>
    public static VerificationReport VerifyJsonLines(TextReader reader, string? expectedSigner = null)
    {
        ArgumentNullException.ThrowIfNull(reader);
        var entries = new List<ExportEntry>();
        var findings = new List<ChainFinding>();
        int lineNumber = 0;
        ulong lastSequence = 0;
        int records = 0;
        while (reader.ReadLine() is { } line)
        {
            lineNumber++;
            if (string.IsNullOrWhiteSpace(line))
                continue;
            records++;
            try
            {
                using var doc = JsonDocument.Parse(line);
                var (reading, domain, signer) = ReadingJson.ReadExport(doc.RootElement);
                entries.Add(new ExportEntry(reading, domain, signer, lineNumber));
                lastSequence = reading.Record.Sequence;
            }
            catch (Exception e) when (e is JsonException or FormatException)
            {
                findings.Add(new ChainFinding(FindingKind.Malformed, lastSequence + 1,
                    $"line is not a readable record (expected seq {lastSequence + 1} here): {e.Message}") { Line = lineNumber });
                lastSequence++;
            }
        }
        var report = Verify(entries, expectedSigner);
        findings.AddRange(report.Findings);
        if (records == 0)
            findings.Add(new ChainFinding(FindingKind.Malformed, 0, "no records"));
        return new VerificationReport(findings, records, report.Devices) { DeclaredGaps = report.DeclaredGaps };
    }

    /// <summary>Verifies entries already read, in file order.</summary>
    public static VerificationReport Verify(IEnumerable<ExportEntry> entries, string? expectedSigner = null)
    {
        ArgumentNullException.ThrowIfNull(entries);
        string? expected = expectedSigner is null ? null : EthereumAddress.Normalize(expectedSigner);
        var findings = new List<ChainFinding>();
        var devices = new Dictionary<string, DeviceRecords>(StringComparer.Ordinal);
        int count = 0;

        foreach (var entry in entries)
        {
            count++;
            var record = entry.Reading.Record;
            string device = EthereumAddress.Normalize(record.Device);
            ulong seq = record.Sequence;
            if (!devices.TryGetValue(device, out var chain))
                devices[device] = chain = new DeviceRecords();

            // Order in the file first: a record after a higher sequence number is out of place.
            if (chain.Seen.Contains(seq))
                findings.Add(new ChainFinding(FindingKind.Duplicate, seq, $"seq {seq} occurs again") { Line = entry.Line, Device = device });
            else if (chain.Seen.Count > 0 && seq < chain.MaxInFile)
                findings.Add(new ChainFinding(FindingKind.Reorder, seq, $"seq {seq} comes after seq {chain.MaxInFile}") { Line = entry.Line, Device = device });
            bool first = chain.Seen.Add(seq);
            chain.MaxInFile = Math.Max(chain.MaxInFile, seq);

            var signatureFinding = DeviceChainState.CheckSignature(entry.Reading, entry.Domain, out var digest);
            if (signatureFinding is not null)
            {
                findings.Add(signatureFinding with { Line = entry.Line, Device = device });
                continue;
            }
            if (!string.Equals(entry.Signer, device, StringComparison.OrdinalIgnoreCase))
            {
                findings.Add(new ChainFinding(FindingKind.WrongSigner, seq, $"line declares signer {entry.Signer} but the record is signed by {device}") { Line = entry.Line, Device = device });
                continue;
            }
            if (expected is not null && device != expected)
            {
                findings.Add(new ChainFinding(FindingKind.WrongSigner, seq, $"signed by {device}, not by the expected {expected}") { Line = entry.Line, Device = device });
                continue;
            }
            if (record is GapRecord gap && gap.Malformation() is { } why)
            {
                findings.Add(new ChainFinding(FindingKind.Malformed, seq, why) { Line = entry.Line, Device = device });
                continue;
            }
            if (first)
            {
                chain.Verified[seq] = (digest, entry.Reading.Record.PrevHash.ToArray(), entry.Line, record.PreviousSequence);
                if (record is GapRecord declared)
                    chain.Declared[seq] = new DeclaredGap(device, seq, declared.FromSequence, declared.ToSequence, declared.Reason, entry.Line);
            }
        }

        var ranges = new List<DeviceRange>();
        var declaredGaps = new List<DeclaredGap>();
        foreach (var (device, chain) in devices)
        {
            CheckSequence(device, chain, findings);
            if (chain.Verified.Count > 0)
                ranges.Add(new DeviceRange(device, chain.Verified.Keys.First(), chain.Verified.Keys.Last(), chain.Verified.Count));
            declaredGaps.AddRange(chain.Declared.Values);
        }
        return new VerificationReport(findings, count, ranges) { DeclaredGaps = declaredGaps };
    }

    private static void CheckSequence(string device, DeviceRecords chain, List<ChainFinding> findings)
    {
        // Gaps count every record present in the file, verified or not: an altered record is reported as
        // altered, not also as missing. Only a verified declaration excuses missing numbers. Links are checked only
        // between two verified neighbours.
        ulong? previous = null;
        foreach (ulong seq in chain.Seen)
        {
            if (chain.Declared.TryGetValue(seq, out var gap))
            {
                // The numbers before the declared range that are absent are still missing; records present inside
                // it contradict the declaration.
                if (previous is ulong before && before >= gap.From)
                {
                    findings.Add(new ChainFinding(FindingKind.Conflict, seq,
                        $"declares seqs {gap.From}..{gap.To} skipped, but seq {before} is present") { Line = gap.Line, Device = device });
                }
                else if (previous is ulong p && gap.From > p + 1)
                {
                    findings.Add(new ChainFinding(FindingKind.Gap, p + 1,
                        gap.From == p + 2 ? $"seq {p + 1} is missing" : $"seqs {p + 1}..{gap.From - 1} are missing") { Device = device });
                }
            }
            else if (previous is ulong p && seq > p + 1)
            {
                findings.Add(new ChainFinding(FindingKind.Gap, p + 1,
                    seq == p + 2 ? $"seq {p + 1} is missing" : $"seqs {p + 1}..{seq - 1} are missing") { Device = device });
            }
            previous = seq;
        }

        foreach (var (seq, (_, prev, line, linkTo)) in chain.Verified)
        {
            if (linkTo == 0)
            {
                if (prev.AsSpan().ContainsAnyExcept((byte)0))
                    findings.Add(new ChainFinding(FindingKind.BrokenChain, seq, "the first record's prev is not all zero") { Line = line, Device = device });
            }
            else if (chain.Verified.TryGetValue(linkTo, out var before) && !before.Digest.AsSpan().SequenceEqual(prev))
            {
                findings.Add(new ChainFinding(FindingKind.BrokenChain, seq, $"prev is not the digest of seq {linkTo}") { Line = line, Device = device });
            }
        }
    }

    private sealed class DeviceRecords
    {
        public SortedSet<ulong> Seen { get; } = [];
        public ulong MaxInFile { get; set; }
        public SortedDictionary<ulong, (byte[] Digest, byte[] Prev, int Line, ulong LinkTo)> Verified { get; } = [];
        public SortedDictionary<ulong, DeclaredGap> Declared { get; } = [];
    }
}
