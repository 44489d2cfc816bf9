using EdgeMeter.Crypto.Keys;
using EdgeMeter.Crypto.Records;
using EdgeMeter.Crypto.Signing;

namespace EdgeMeter.Crypto.Verification;

/// <summary>
/// Incremental verification of one device's chain, for a ledger that receives records one at a time:
/// <see cref="Check"/> says whether the next record fits, <see cref="Accept"/> moves the chain on.
/// Not thread-safe; keep one per device.
/// </summary>
public sealed class DeviceChainState
{
    private byte[] _lastDigest;

    /// <summary>A chain of which nothing has been accepted yet: the first record must be seq 1 with an all-zero prev.</summary>
    public DeviceChainState(string device, Eip712Domain domain)
        : this(device, domain, 0, new byte[32])
    {
    }

    /// <summary>A chain resumed from storage: the last accepted sequence number and that record's digest.</summary>
    public DeviceChainState(string device, Eip712Domain domain, ulong lastSequence, ReadOnlyMemory<byte> lastDigest)
    {
        ArgumentNullException.ThrowIfNull(domain);
        if (lastDigest.Length != 32)
            throw new ArgumentException("A digest is 32 bytes.", nameof(lastDigest));
        Device = EthereumAddress.Normalize(device);
        Domain = domain;
        LastSequence = lastSequence;
        _lastDigest = lastDigest.ToArray();
    }

    /// <summary>The device (0x lower-case) whose chain this is.</summary>
    public string Device { get; }

    /// <summary>The EIP-712 domain records are signed under.</summary>
    public Eip712Domain Domain { get; }

    /// <summary>The last accepted sequence number; 0 before the first.</summary>
    public ulong LastSequence { get; private set; }

    /// <summary>The digest of the last accepted record; zero before the first.</summary>
    public ReadOnlyMemory<byte> LastDigest => _lastDigest;

    /// <summary>
    /// Checks a record against the chain without changing it: the signature over the recomputed digest,
    /// the signer, then sequence and prev hash. Returns null when the record is the next link.
    /// </summary>
    public ChainFinding? Check(SignedReading reading)
    {
        ArgumentNullException.ThrowIfNull(reading);
        var record = reading.Record;
        var finding = CheckSignature(reading, Domain, out var digest);
        if (finding is not null)
            return finding with { Device = Device };
        if (!string.Equals(record.Device, Device, StringComparison.OrdinalIgnoreCase))
            return new ChainFinding(FindingKind.WrongSigner, record.Sequence, $"signed by {record.Device}, not by {Device}") { Device = Device };

        return CheckLink(record, digest);
    }

    /// <summary>
    /// The link rules alone, for a record whose <paramref name="digest"/> the caller has recomputed and whose signature it
    /// has checked (a ledger that recovers a batch's signatures in parallel): sequence and prev hash. Null when the
    /// record is the next link. A gap declaration is the next link when it declares exactly the numbers between the
    /// head and itself (from = head + 1, to = its seq − 1) and links to the head; one that declares numbers at or
    /// below the head overlaps the chain and is a <see cref="FindingKind.Conflict"/>.
    /// </summary>
    public ChainFinding? CheckLink(ChainRecord record, ReadOnlySpan<byte> digest)
    {
        ArgumentNullException.ThrowIfNull(record);
        ulong seq = record.Sequence;
        if (seq == LastSequence && seq != 0)
        {
            return digest.SequenceEqual(_lastDigest)
                ? new ChainFinding(FindingKind.Duplicate, seq, "same record again") { Device = Device }
                : new ChainFinding(FindingKind.Duplicate, seq, "another record with an accepted sequence number") { Device = Device };
        }
        if (seq < LastSequence || seq == 0)
            return new ChainFinding(FindingKind.Reorder, seq, $"older than the last accepted seq {LastSequence}") { Device = Device };
        if (record is GapRecord gap)
        {
            if (gap.Malformation() is { } why)
                return new ChainFinding(FindingKind.Malformed, seq, why) { Device = Device };
            if (gap.FromSequence <= LastSequence)
            {
                return new ChainFinding(FindingKind.Conflict, seq,
                    $"declares seqs {gap.FromSequence}..{gap.ToSequence} missing, but the chain holds them through seq {LastSequence}") { Device = Device };
            }
            if (gap.FromSequence > LastSequence + 1)
            {
                return new ChainFinding(FindingKind.Gap, LastSequence + 1,
                    $"seqs {LastSequence + 1}..{gap.FromSequence - 1} missing before the gap declared from seq {gap.FromSequence}") { Device = Device };
            }
        }
        else if (seq > LastSequence + 1)
        {
            return new ChainFinding(FindingKind.Gap, LastSequence + 1,
                seq == LastSequence + 2 ? $"seq {LastSequence + 1} missing before {seq}" : $"seqs {LastSequence + 1}..{seq - 1} missing before {seq}") { Device = Device };
        }
        if (!record.PrevHash.Span.SequenceEqual(_lastDigest))
            return new ChainFinding(FindingKind.BrokenChain, seq, $"prev is not the digest of seq {LastSequence}") { Device = Device };
        return null;
    }

    /// <summary>Makes a record the head after <see cref="CheckLink"/> accepted it; its digest the caller recomputed.</summary>
    /// <exception cref="ArgumentException">The sequence number does not advance, or the digest is not 32 bytes.</exception>
    public void Advance(ulong sequence, ReadOnlySpan<byte> digest)
    {
        if (digest.Length != 32)
            throw new ArgumentException("A digest is 32 bytes.", nameof(digest));
        if (sequence <= LastSequence)
            throw new ArgumentException($"Cannot accept seq {sequence} after seq {LastSequence}.", nameof(sequence));
        LastSequence = sequence;
        _lastDigest = digest.ToArray();
    }

    /// <summary>
    /// Makes <paramref name="reading"/> the chain's head, whether or not <see cref="Check"/> found a gap
    /// (a ledger may choose to go on after a gap). Refuses records whose signature does not hold or that go backwards.
    /// </summary>
    /// <exception cref="ArgumentException">The signature does not hold for this device, or the sequence number does not advance.</exception>
    public void Accept(SignedReading reading)
    {
        ArgumentNullException.ThrowIfNull(reading);
        var finding = CheckSignature(reading, Domain, out var digest);
        if (finding is not null)
            throw new ArgumentException($"Cannot accept seq {reading.Record.Sequence}: {finding.Message}", nameof(reading));
        if (!string.Equals(reading.Record.Device, Device, StringComparison.OrdinalIgnoreCase))
            throw new ArgumentException($"Cannot accept a record of {reading.Record.Device} into the chain of {Device}.", nameof(reading));
        if (reading.Record.Sequence <= LastSequence)
            throw new ArgumentException($"Cannot accept seq {reading.Record.Sequence} after seq {LastSequence}.", nameof(reading));
        LastSequence = reading.Record.Sequence;
        _lastDigest = digest;
    }

    /// <summary>
    /// Recomputes the digest from the record (never trusting <see cref="SignedReading.Digest"/>), for a reading or a gap declaration, and checks
    /// that the signature recovers to the record's device. Null when it does.
    /// </summary>
    internal static ChainFinding? CheckSignature(SignedReading reading, Eip712Domain domain, out byte[] digest)
    {
        var record = reading.Record;
        digest = new byte[32];
        try
        {
            ReadingTypedData.Digest(domain, record, digest);
        }
        catch (ArgumentException e)
        {
            return new ChainFinding(FindingKind.Altered, record.Sequence, $"record cannot be encoded: {e.Message}");
        }
        if (!reading.Digest.IsEmpty && !reading.Digest.Span.SequenceEqual(digest))
            return new ChainFinding(FindingKind.Altered, record.Sequence, "the attached digest does not match the content");
        if (reading.Signature.Length != 65)
            return new ChainFinding(FindingKind.BadSignature, record.Sequence, $"signature is {reading.Signature.Length} bytes, not 65");
        if (!SignatureRecovery.TryRecoverAddress(digest, reading.Signature.Span, out var recovered))
            return new ChainFinding(FindingKind.BadSignature, record.Sequence, "signature is malformed (r, s or v out of range, or high S)");
        if (!string.Equals(recovered, record.Device, StringComparison.OrdinalIgnoreCase))
            return new ChainFinding(FindingKind.Altered, record.Sequence, $"signature does not match the content (recovers to {recovered}, not {record.Device.ToLowerInvariant()})");
        return null;
    }
}
