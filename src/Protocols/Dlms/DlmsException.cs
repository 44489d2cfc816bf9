namespace EdgeMeter.Protocols.Dlms;

/// <summary>
/// A DLMS/COSEM protocol error: a malformed frame or APDU, a refused association, a failed security check.
/// Every parser of outside bytes in this namespace throws only this type (or a subclass) for bad input.
/// </summary>
public class DlmsException : Exception
{
    /// <summary>Creates an empty instance.</summary>
    public DlmsException() { }

    /// <summary>Creates an instance with a message.</summary>
    public DlmsException(string message) : base(message) { }

    /// <summary>Creates an instance with a message and inner exception.</summary>
    public DlmsException(string message, Exception innerException) : base(message, innerException) { }
}

/// <summary>The meter answered a GET with a data-access-result other than success.</summary>
public sealed class DlmsDataAccessException : DlmsException
{
    /// <summary>Creates the error for a refused attribute.</summary>
    public DlmsDataAccessException(DataAccessResult result, string what)
        : base($"{what}: data-access-result {DataAccessResults.Name(result)} ({(byte)result})")
    {
        Result = result;
    }

    /// <summary>Creates an empty instance; prefer the result-carrying constructor.</summary>
    public DlmsDataAccessException() { }

    /// <summary>Creates an instance with a message only; prefer the result-carrying constructor.</summary>
    public DlmsDataAccessException(string message) : base(message) { }

    /// <summary>Creates an instance with a message and inner exception; prefer the result-carrying constructor.</summary>
    public DlmsDataAccessException(string message, Exception innerException) : base(message, innerException) { }

    /// <summary>The data-access-result from the response.</summary>
    public DataAccessResult Result { get; }
}

/// <summary>The meter refused the association (AARE result not accepted) or the HLS pass failed.</summary>
public sealed class DlmsAssociationException : DlmsException
{
    /// <summary>Creates the error for a rejected AARE.</summary>
    public DlmsAssociationException(AssociationResult result, byte diagnosticSource, byte diagnostic)
        : base($"association refused: {AssociationResults.Name(result)}, {AssociationResults.DiagnosticName(diagnosticSource, diagnostic)}")
    {
        Result = result;
        DiagnosticSource = diagnosticSource;
        Diagnostic = diagnostic;
    }

    /// <summary>Creates an empty instance.</summary>
    public DlmsAssociationException() { }

    /// <summary>Creates an instance with a message only (e.g. an HLS tag that did not verify).</summary>
    public DlmsAssociationException(string message) : base(message) { }

    /// <summary>Creates an instance with a message and inner exception.</summary>
    public DlmsAssociationException(string message, Exception innerException) : base(message, innerException) { }

    /// <summary>The AARE result.</summary>
    public AssociationResult Result { get; }

    /// <summary>1 = acse-service-user, 2 = acse-service-provider.</summary>
    public byte DiagnosticSource { get; }

    /// <summary>The result-source-diagnostic value.</summary>
    public byte Diagnostic { get; }
}

/// <summary>Data-access-result (IEC 62056-5-3), the reason a GET failed.</summary>
public enum DataAccessResult : byte
{
    /// <summary>success (0).</summary>
    Success = 0,
    /// <summary>hardware-fault (1).</summary>
    HardwareFault = 1,
    /// <summary>temporary-failure (2).</summary>
    TemporaryFailure = 2,
    /// <summary>read-write-denied (3).</summary>
    ReadWriteDenied = 3,
    /// <summary>object-undefined (4).</summary>
    ObjectUndefined = 4,
    /// <summary>object-class-inconsistent (9).</summary>
    ObjectClassInconsistent = 9,
    /// <summary>object-unavailable (11).</summary>
    ObjectUnavailable = 11,
    /// <summary>type-unmatched (12).</summary>
    TypeUnmatched = 12,
    /// <summary>scope-of-access-violated (13).</summary>
    ScopeOfAccessViolated = 13,
    /// <summary>data-block-unavailable (14).</summary>
    DataBlockUnavailable = 14,
    /// <summary>long-get-aborted (15).</summary>
    LongGetAborted = 15,
    /// <summary>no-long-get-in-progress (16).</summary>
    NoLongGetInProgress = 16,
    /// <summary>long-set-aborted (17).</summary>
    LongSetAborted = 17,
    /// <summary>no-long-set-in-progress (18).</summary>
    NoLongSetInProgress = 18,
    /// <summary>data-block-number-invalid (19).</summary>
    DataBlockNumberInvalid = 19,
    /// <summary>other-reason (250).</summary>
    OtherReason = 250,
}

/// <summary>Names of <see cref="DataAccessResult"/> values as the standard spells them.</summary>
public static class DataAccessResults
{
    /// <summary>The standard's name, e.g. <c>object-undefined</c>; unknown codes print as <c>unknown</c>.</summary>
    public static string Name(DataAccessResult result) => result switch
    {
        DataAccessResult.Success => "success",
        DataAccessResult.HardwareFault => "hardware-fault",
        DataAccessResult.TemporaryFailure => "temporary-failure",
        DataAccessResult.ReadWriteDenied => "read-write-denied",
        DataAccessResult.ObjectUndefined => "object-undefined",
        DataAccessResult.ObjectClassInconsistent => "object-class-inconsistent",
        DataAccessResult.ObjectUnavailable => "object-unavailable",
        DataAccessResult.TypeUnmatched => "type-unmatched",
        DataAccessResult.ScopeOfAccessViolated => "scope-of-access-violated",
        DataAccessResult.DataBlockUnavailable => "data-block-unavailable",
        DataAccessResult.LongGetAborted => "long-get-aborted",
        DataAccessResult.NoLongGetInProgress => "no-long-get-in-progress",
        DataAccessResult.LongSetAborted => "long-set-aborted",
        DataAccessResult.NoLongSetInProgress => "no-long-set-in-progress",
        DataAccessResult.DataBlockNumberInvalid => "data-block-number-invalid",
        DataAccessResult.OtherReason => "other-reason",
        _ => "unknown",
    };
}

/// <summary>The AARE association-result.</summary>
public enum AssociationResult : byte
{
    /// <summary>accepted (0).</summary>
    Accepted = 0,
    /// <summary>rejected-permanent (1).</summary>
    RejectedPermanent = 1,
    /// <summary>rejected-transient (2).</summary>
    RejectedTransient = 2,
}

/// <summary>Names for association results and diagnostics.</summary>
public static class AssociationResults
{
    /// <summary>The standard's name of a result.</summary>
    public static string Name(AssociationResult result) => result switch
    {
        AssociationResult.Accepted => "accepted",
        AssociationResult.RejectedPermanent => "rejected-permanent",
        AssociationResult.RejectedTransient => "rejected-transient",
        _ => $"result {(byte)result}",
    };

    /// <summary>The standard's name of a result-source-diagnostic (source 1 = acse-service-user, 2 = provider).</summary>
    public static string DiagnosticName(byte source, byte diagnostic) => source switch
    {
        1 => "acse-service-user " + diagnostic switch
        {
            0 => "null",
            1 => "no-reason-given",
            2 => "application-context-name-not-supported",
            11 => "authentication-mechanism-name-not-recognised",
            12 => "authentication-mechanism-name-required",
            13 => "authentication-failure",
            14 => "authentication-required",
            _ => $"diagnostic {diagnostic}",
        },
        2 => "acse-service-provider " + diagnostic switch
        {
            0 => "null",
            1 => "no-reason-given",
            2 => "no-common-acse-version",
            _ => $"diagnostic {diagnostic}",
        },
        _ => $"diagnostic {source}/{diagnostic}",
    };
}
