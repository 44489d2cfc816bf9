using EdgeMeter.Agent.Status;

namespace EdgeMeter.Agent.Pairing;

/// <summary>
/// Pairs the gateway with an operator (utility or community) account. The customer reads a short-lived code from
/// the gateway's display and enters it on the local web page together with the operator address; the address is
/// later used to verify operator-signed parameter updates. The code is a proof of physical presence, so it is
/// never part of any status JSON or web response, only of <see cref="CodeForDisplay"/>.
/// </summary>
internal interface IPairingService
{
    /// <summary>The persisted pairing (operator address, label, time); <c>Paired=false</c> before the first pairing.</summary>
    PairingStatus Status { get; }

    /// <summary>Everything the web page may know about pairing: no code.</summary>
    PairingState GetState();

    /// <summary>
    /// The code the display should show now, or null when none should be shown (paired and no re-pairing requested,
    /// or locked after too many wrong attempts). While unpaired, a fresh code is issued whenever none is live.
    /// </summary>
    PairingCode? CodeForDisplay();

    /// <summary>
    /// Asks for a (re-)pairing window. Unpaired, it opens at once: a code is live and shown on the display. Paired,
    /// no request alone opens one: the gateway waits for a press of its button (<see cref="AwaitingPresence"/>,
    /// <see cref="ConfirmPresence"/>); the owner's session confirms presence itself. Returns the live code's expiry
    /// (never the code), or null when no window is open (locked, or awaiting the button). An existing live code is
    /// kept, so that repeated requests cannot keep changing the code under the customer's eyes.
    /// </summary>
    DateTimeOffset? RequestCode();

    /// <summary>True while a re-pairing was asked for and waits for a press of the gateway's button.</summary>
    bool AwaitingPresence { get; }

    /// <summary>The gateway's button was pressed: opens the pairing window that was asked for (no-op otherwise).</summary>
    void ConfirmPresence();

    /// <summary>Checks <paramref name="code"/> in constant time and, when it matches, records the operator.</summary>
    /// <param name="code">The six digits read from the display.</param>
    /// <param name="operatorAddress">The operator account, <c>0x</c> and 40 hex digits.</param>
    /// <param name="label">Optional human label for the account (at most <see cref="PairingLimits.MaxLabelLength"/> characters).</param>
    /// <exception cref="IOException">The pairing could not be persisted; nothing changed.</exception>
    PairingOutcome TryPair(string? code, string? operatorAddress, string? label);
}

/// <summary>A live pairing code and when it stops being accepted.</summary>
internal sealed record PairingCode(string Code, DateTimeOffset ExpiresAt);

/// <summary>What the web page shows about pairing.</summary>
/// <param name="Paired">Whether an operator is recorded.</param>
/// <param name="OperatorAddress">Lower-case operator address, when paired.</param>
/// <param name="Label">The customer's label, when given.</param>
/// <param name="PairedAt">When the current pairing was made.</param>
/// <param name="CodeExpiresAt">When the live code expires; null when no code is live.</param>
/// <param name="LockedUntil">Set while attempts are locked out after too many wrong codes.</param>
/// <param name="AttemptsLeft">Wrong codes still allowed before the lockout.</param>
internal sealed record PairingState(
    bool Paired,
    string? OperatorAddress,
    string? Label,
    DateTimeOffset? PairedAt,
    DateTimeOffset? CodeExpiresAt,
    DateTimeOffset? LockedUntil,
    int AttemptsLeft)
{
    /// <summary>A re-pairing was asked for and waits for a press of the gateway's button.</summary>
    public bool AwaitingPresence { get; init; }
}

/// <summary>How a pairing attempt ended.</summary>
internal enum PairingResult
{
    /// <summary>The code matched; the operator is recorded.</summary>
    Paired,
    /// <summary>The code did not match; see <see cref="PairingOutcome.AttemptsLeft"/>.</summary>
    WrongCode,
    /// <summary>Too many wrong codes; no attempt is accepted until <see cref="PairingOutcome.LockedUntil"/>.</summary>
    LockedOut,
    /// <summary>No code is live (expired, or paired without a re-pairing request).</summary>
    NoActiveCode,
    /// <summary>The operator address is not <c>0x</c> + 40 hex digits (or is the zero address).</summary>
    InvalidOperatorAddress,
    /// <summary>The label is too long or has control characters.</summary>
    InvalidLabel,
}

/// <summary>The result of <see cref="IPairingService.TryPair"/>.</summary>
internal readonly record struct PairingOutcome(PairingResult Result, int AttemptsLeft, DateTimeOffset? LockedUntil);

/// <summary>Limits of the pairing flow.</summary>
internal sealed record PairingOptions
{
    /// <summary>How long a code is accepted after it is issued.</summary>
    public TimeSpan CodeLifetime { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>Wrong codes allowed before the lockout.</summary>
    public int MaxAttempts { get; init; } = 5;

    /// <summary>
    /// How long attempts are refused after the first <see cref="MaxAttempts"/> wrong codes; each further lockout
    /// (until a successful pairing) doubles it, up to <see cref="MaxLockout"/>.
    /// </summary>
    public TimeSpan Lockout { get; init; } = TimeSpan.FromMinutes(15);

    /// <summary>The longest lockout.</summary>
    public TimeSpan MaxLockout { get; init; } = TimeSpan.FromDays(30);
}

/// <summary>Input limits shared by the service and the web page.</summary>
internal static class PairingLimits
{
    /// <summary>Digits in a pairing code.</summary>
    public const int CodeLength = 6;

    /// <summary>Longest account label accepted.</summary>
    public const int MaxLabelLength = 64;
}
