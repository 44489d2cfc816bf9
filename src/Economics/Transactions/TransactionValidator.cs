using EdgeMeter.Crypto.Signing;
using EdgeMeter.Crypto.Verification;

namespace EdgeMeter.Economics;

/// <summary>What the ledger makes of one transaction.</summary>
/// <param name="Accepted">New records, in sequence order, that extend the device's chain.</param>
/// <param name="Duplicates">Records the ledger already held with the same digest (a re-send); not counted again.</param>
/// <param name="Rejection">Why the first bad record was refused; null when all were fine.</param>
public sealed record ValidationResult(IReadOnlyList<(ulong Sequence, byte[] Digest)> Accepted, int Duplicates, string? Rejection);

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
    public static ValidationResult Validate(Transaction tx, string topicDevice, ulong chainId, ulong lastSequence, byte[] lastDigest, Func<ulong, byte[]?> storedDigest)
    {
        var accepted = new List<(ulong, byte[])>();
        if (!string.Equals(tx.Device, topicDevice, StringComparison.Ordinal))
            return new ValidationResult(accepted, 0, $"transaction device {tx.Device} does not match topic device {topicDevice}");
        if (tx.ChainId != chainId)
            return new ValidationResult(accepted, 0, $"chain id {tx.ChainId} is not this ledger's ({chainId})");

        var domain = Eip712Domain.ForReadings(chainId);
        var n = tx.Records.Count;
        var digests = new byte[n][];
        var signers = new string?[n];
        // Recovery dominates the cost; records are independent until the chain check, so use every core.
        Parallel.For(0, n, i =>
        {
            var digest = new byte[32];
            ReadingTypedData.Digest(domain, tx.Records[i].Record, digest);
            digests[i] = digest;
            signers[i] = SignatureRecovery.TryRecoverAddress(digest, tx.Records[i].Signature.Span, out var a) ? a : null;
        });

        // The link rules (sequence by one, prev-hash) are the verifier's; the ledger adds only what a store knows: an
        // older record it already holds with the same digest is a re-send.
        var chain = new DeviceChainState(topicDevice, domain, lastSequence, lastDigest);
        var duplicates = 0;
        for (var i = 0; i < n; i++)
        {
            var r = tx.Records[i].Record;
            if (!string.Equals(r.Device, topicDevice, StringComparison.Ordinal))
                return new ValidationResult(accepted, duplicates, $"seq {r.Sequence}: record device {r.Device} is not the sender");
            if (!string.Equals(signers[i], topicDevice, StringComparison.Ordinal))
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
}
