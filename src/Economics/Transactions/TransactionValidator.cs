using EdgeMeter.Crypto.Signing;
using EdgeMeter.Crypto.Verification;

namespace EdgeMeter.Economics;

/// <summary>What the ledger makes of one transaction.</summary>
/// <param name="Accepted">New records, in sequence order, that extend the device's chain.</param>
/// <param name="Duplicates">Records the ledger already held with the same digest (a re-send); not counted again.</param>
/// <param name="Rejection">Why the first bad record was refused; null when all were fine.</param>
public sealed record ValidationResult(IReadOnlyList<(ulong Sequence, byte[] Digest)> Accepted, int Duplicates, string? Rejection);

/// <summary>Each record's recomputed digest and whether its signature is the device's, in transaction order.</summary>
public sealed record SignatureCheck(IReadOnlyList<byte[]> Digests, IReadOnlyList<bool> SignedByDevice);

/// <summary>
/// The ledger's rules for a device's records: the signature recovers to the device, the chain id is ours, the
/// sequence continues the device's sequence by exactly one, and the previous-hash is the digest of the record
/// before. A gap declaration extends the chain when it declares exactly the numbers after the head and links to the
/// head (<see cref="DeviceChainState.CheckLink"/>); one that reaches back into held records is a conflict. A record
/// the ledger already holds with the same digest is a harmless re-send; with another digest it is a conflict.
/// Processing stops at the first bad record: nothing after it can extend the chain.
/// </summary>
public static class TransactionValidator
{
    /// <summary>Validates <paramref name="tx"/> against the device's chain head (<paramref name="lastSequence"/>, <paramref name="lastDigest"/>); <paramref name="storedDigest"/> gives the digest held for an earlier sequence number.</summary>
    /// <remarks>
    /// With <c>signers</c> (known device keys; a ledger keeps one set for its lifetime) the device's key is recovered
    /// from its first signature once, and every later signature is verified against it, which accepts and rejects
    /// exactly what recovery does, about four times faster. Without it every signature is recovered.
    /// </remarks>
    public static ValidationResult Validate(Transaction tx, string topicDevice, ulong chainId, ulong lastSequence, byte[] lastDigest, Func<ulong, byte[]?> storedDigest, KnownSigners? signers = null) =>
        Validate(tx, topicDevice, chainId, lastSequence, lastDigest, storedDigest, CheckSignatures(tx, topicDevice, chainId, signers));

    /// <summary>
    /// The part of <see cref="Validate(Transaction, string, ulong, ulong, byte[], Func{ulong, byte[]}, KnownSigners)"/>
    /// that does not depend on the chain's head: every record's digest and whether its signature is the topic device's.
    /// A ledger runs it for the next transaction while it still stores the previous one. Empty when the transaction
    /// names another device or chain (Validate rejects it before looking at any record).
    /// </summary>
    public static SignatureCheck CheckSignatures(Transaction tx, string topicDevice, ulong chainId, KnownSigners? signers = null)
    {
        ArgumentNullException.ThrowIfNull(tx);
        if (!string.Equals(tx.Device, topicDevice, StringComparison.Ordinal) || tx.ChainId != chainId)
            return new SignatureCheck([], []);
        var domain = Eip712Domain.ForReadings(chainId);
        var n = tx.Records.Count;
        var digests = new byte[n][];
        var signedByDevice = new bool[n];
        KnownSigner? known = null;
        if (signers is not null && n > 0)
        {
            digests[0] = DigestOf(domain, tx.Records[0].Record);
            known = signers.GetOrRecover(topicDevice, digests[0], tx.Records[0].Signature.Span);
        }
        // Signatures dominate the cost; records are independent until the chain check, so use every core, a batch of
        // signatures at a time (a known signer shares its inversions across a batch).
        const int chunk = KnownSigner.BatchSize;
        Parallel.For(0, (n + chunk - 1) / chunk, c =>
        {
            int first = c * chunk, count = Math.Min(chunk, n - first);
            Span<ReadOnlyMemory<byte>> signatures = new ReadOnlyMemory<byte>[chunk];
            for (int i = first; i < first + count; i++)
            {
                digests[i] ??= DigestOf(domain, tx.Records[i].Record);
                signatures[i - first] = tx.Records[i].Signature;
            }
            if (known is not null)
            {
                known.VerifyBatch(digests.AsSpan(first, count), signatures[..count], signedByDevice.AsSpan(first, count));
                return;
            }
            for (int i = first; i < first + count; i++)
            {
                signedByDevice[i] = SignatureRecovery.TryRecoverAddress(digests[i], signatures[i - first].Span, out var a)
                    && string.Equals(a, topicDevice, StringComparison.Ordinal);
            }
        });
        return new SignatureCheck(digests, signedByDevice);
    }

    /// <summary>Validates <paramref name="tx"/> with its signatures already checked (<see cref="CheckSignatures"/>).</summary>
    public static ValidationResult Validate(Transaction tx, string topicDevice, ulong chainId, ulong lastSequence, byte[] lastDigest, Func<ulong, byte[]?> storedDigest, SignatureCheck checks)
    {
        ArgumentNullException.ThrowIfNull(tx);
        ArgumentNullException.ThrowIfNull(checks);
        var accepted = new List<(ulong, byte[])>();
        if (!string.Equals(tx.Device, topicDevice, StringComparison.Ordinal))
            return new ValidationResult(accepted, 0, $"transaction device {tx.Device} does not match topic device {topicDevice}");
        if (tx.ChainId != chainId)
            return new ValidationResult(accepted, 0, $"chain id {tx.ChainId} is not this ledger's ({chainId})");
        var n = tx.Records.Count;
        if (checks.Digests.Count != n || checks.SignedByDevice.Count != n)
            throw new ArgumentException("The signature checks are not this transaction's.", nameof(checks));
        var digests = checks.Digests;
        var signedByDevice = checks.SignedByDevice;
        var domain = Eip712Domain.ForReadings(chainId);

        // The link rules (sequence by one, prev-hash) are the verifier's; the ledger adds only what a store knows: an
        // older record it already holds with the same digest is a re-send.
        var chain = new DeviceChainState(topicDevice, domain, lastSequence, lastDigest);
        var duplicates = 0;
        for (var i = 0; i < n; i++)
        {
            var r = tx.Records[i].Record;
            if (!string.Equals(r.Device, topicDevice, StringComparison.Ordinal))
                return new ValidationResult(accepted, duplicates, $"seq {r.Sequence}: record device {r.Device} is not the sender");
            if (!signedByDevice[i])
                return new ValidationResult(accepted, duplicates, $"seq {r.Sequence}: signature does not recover to {topicDevice}");
            if (r.Sequence <= chain.LastSequence)
            {
                var held = accepted.FirstOrDefault(a => a.Item1 == r.Sequence).Item2 ?? storedDigest(r.Sequence);
                if (held is not null && held.AsSpan().SequenceEqual(digests[i]))
                {
                    duplicates++;
                    continue;
                }
                return new ValidationResult(accepted, duplicates, held is null
                    ? $"seq {r.Sequence}: the chain is past it (through seq {chain.LastSequence}) and holds no record with it (a declared gap)"
                    : $"seq {r.Sequence}: conflicts with the record the ledger holds");
            }
            switch (chain.CheckLink(r, digests[i]))
            {
                case { Kind: FindingKind.Gap }:
                    return new ValidationResult(accepted, duplicates, $"gap: expected seq {chain.LastSequence + 1}, got {r.Sequence}");
                case { Kind: FindingKind.Conflict } finding:
                    return new ValidationResult(accepted, duplicates, $"seq {r.Sequence}: conflict: {finding.Message}");
                case { Kind: FindingKind.BrokenChain }:
                    return new ValidationResult(accepted, duplicates, $"seq {r.Sequence}: previous-hash does not match seq {chain.LastSequence}");
                case { } finding:
                    return new ValidationResult(accepted, duplicates, $"seq {r.Sequence}: {finding.Message}");
            }
            chain.Advance(r.Sequence, digests[i]);
            accepted.Add((r.Sequence, digests[i]));
        }
        return new ValidationResult(accepted, duplicates, null);
    }

    private static byte[] DigestOf(Eip712Domain domain, Crypto.Records.ChainRecord record)
    {
        var digest = new byte[32];
        ReadingTypedData.Digest(domain, record, digest);
        return digest;
    }
}
