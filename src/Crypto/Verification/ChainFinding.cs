namespace EdgeMeter.Crypto.Verification;

/// <summary>What is wrong with a record or with the chain around it.</summary>
public enum FindingKind
{
    /// <summary>The signature is malformed: wrong length, v not 27/28, r or s out of range, high S, r not on the curve.</summary>
    BadSignature = 1,
    /// <summary>The record verifies, but for another device than the chain's (or than the line's declared signer).</summary>
    WrongSigner = 2,
    /// <summary>The signature does not match the content: the record or its signature was changed after signing.</summary>
    Altered = 3,
    /// <summary>One or more sequence numbers are missing.</summary>
    Gap = 4,
    /// <summary>A sequence number occurs more than once.</summary>
    Duplicate = 5,
    /// <summary>A record comes after a record with a higher sequence number.</summary>
    Reorder = 6,
    /// <summary>The record's prev hash is not the digest of the record before it.</summary>
    BrokenChain = 7,
    /// <summary>A line is not a readable export record, there are no records at all, or a gap declaration is malformed.</summary>
    Malformed = 8,
    /// <summary>A gap declaration names sequence numbers the chain holds records for (or a record falls in a declared range).</summary>
    Conflict = 9,
}

/// <summary>One problem found by the verifier.</summary>
/// <param name="Kind">What is wrong.</param>
/// <param name="Sequence">The sequence number concerned (for a gap, the first missing one; for an unreadable line, the one expected there).</param>
/// <param name="Message">One line for a person.</param>
public sealed record ChainFinding(FindingKind Kind, ulong Sequence, string Message)
{
    /// <summary>1-based line of the export file, when the finding comes from a file.</summary>
    public int? Line { get; init; }

    /// <summary>The device the finding concerns, when known.</summary>
    public string? Device { get; init; }

    /// <inheritdoc />
    public override string ToString() =>
        $"seq {Sequence}: {Kind}: {Message}" + (Line is int line ? $" (line {line})" : string.Empty);
}
