using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using EdgeMeter.Agent.Configuration;
using EdgeMeter.Agent.Status;
using EdgeMeter.Crypto.Files;
using Microsoft.Extensions.Logging;
using EdgeMeter.Crypto.Entropy;

namespace EdgeMeter.Agent.Pairing;

/// <summary>
/// <see cref="IPairingService"/> that keeps the pairing in <c>pairing.json</c> in the data directory. Codes live only
/// in memory: a restart issues a fresh code. The wrong-code counter and the lockouts are kept in
/// <c>pairing-lockout.json</c>, so that pulling the plug does not reset a lockout or its doubling.
/// </summary>
internal sealed partial class FilePairingService : IPairingService
{
    /// <summary>The file name inside the data directory.</summary>
    public const string FileName = "pairing.json";

    /// <summary>The file of the wrong-code counter and lockouts, inside the data directory.</summary>
    public const string LockoutFileName = "pairing-lockout.json";

    private readonly string _path;
    private readonly string _lockoutPath;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly PairingOptions _options;
    private readonly Lock _gate = new();

    private PairingStatus _status;
    private PairingCode? _code;
    private int _failedAttempts;
    private DateTimeOffset? _lockedUntil;
    private int _lockouts;
    private DateTimeOffset? _presenceAskedUntil;

    /// <summary>Loads the pairing from <paramref name="dataDirectory"/> (created when missing).</summary>
    public FilePairingService(string dataDirectory, TimeProvider time, ILogger<FilePairingService> logger, PairingOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(dataDirectory);
        _time = time;
        _logger = logger;
        _options = options ?? new PairingOptions();
        if (_options.MaxAttempts < 1 || _options.CodeLifetime <= TimeSpan.Zero || _options.Lockout < TimeSpan.Zero)
        {
            throw new ArgumentException("pairing options: MaxAttempts must be >= 1 and CodeLifetime positive", nameof(options));
        }

        AtomicFile.CreateDirectory(dataDirectory);
        _path = Path.Combine(dataDirectory, FileName);
        _lockoutPath = Path.Combine(dataDirectory, LockoutFileName);
        _status = Load();
        LoadLockout();
    }

    /// <summary>
    /// No LCD answers: every code issued is also written to the log (<c>pairing code: NNNNNN</c>), the one place
    /// left where the person at the gateway can read it. Never set while a real display shows the code.
    /// </summary>
    public bool LogCodes { get; set; }

    /// <inheritdoc />
    public bool AwaitingPresence
    {
        get
        {
            lock (_gate)
            {
                Refresh(_time.GetUtcNow());
                return _presenceAskedUntil is not null && _lockedUntil is null;
            }
        }
    }

    /// <inheritdoc />
    public void ConfirmPresence()
    {
        lock (_gate)
        {
            var now = _time.GetUtcNow();
            Refresh(now);
            if (_presenceAskedUntil is null || _lockedUntil is not null)
            {
                return;
            }

            _presenceAskedUntil = null;
            if (_code is null)
            {
                Issue(now);
            }
        }
    }

    /// <inheritdoc />
    public PairingStatus Status
    {
        get
        {
            lock (_gate)
            {
                return _status;
            }
        }
    }

    /// <inheritdoc />
    public PairingState GetState()
    {
        lock (_gate)
        {
            var now = _time.GetUtcNow();
            Refresh(now);
            return new PairingState(
                _status.Paired,
                _status.OperatorAddress,
                _status.AccountLabel,
                _status.PairedAt,
                _code?.ExpiresAt,
                _lockedUntil,
                _options.MaxAttempts - _failedAttempts)
            {
                AwaitingPresence = _presenceAskedUntil is not null && _lockedUntil is null,
            };
        }
    }

    /// <inheritdoc />
    public PairingCode? CodeForDisplay()
    {
        lock (_gate)
        {
            var now = _time.GetUtcNow();
            Refresh(now);
            if (_lockedUntil is not null)
            {
                return null;
            }

            if (_code is null && !_status.Paired)
            {
                Issue(now);
            }

            return _code;
        }
    }

    /// <inheritdoc />
    public DateTimeOffset? RequestCode()
    {
        lock (_gate)
        {
            var now = _time.GetUtcNow();
            Refresh(now);
            if (_lockedUntil is not null)
            {
                return null;
            }

            if (_code is null && _status.Paired)
            {
                // A paired gateway never opens pairing on a network request alone: someone must press its button.
                _presenceAskedUntil = now + _options.CodeLifetime;
                LogPresenceAsked(_logger);
                return null;
            }

            if (_code is null)
            {
                Issue(now);
            }

            return _code!.ExpiresAt;
        }
    }

    /// <inheritdoc />
    public PairingOutcome TryPair(string? code, string? operatorAddress, string? label)
    {
        // Input errors are not guesses: they do not count against the attempts.
        if (!OperatorAddress.TryNormalize(operatorAddress, out var op))
        {
            return Outcome(PairingResult.InvalidOperatorAddress);
        }

        if (!OperatorAddress.TryNormalizeLabel(label, out var normalizedLabel))
        {
            return Outcome(PairingResult.InvalidLabel);
        }

        lock (_gate)
        {
            var now = _time.GetUtcNow();
            Refresh(now);
            if (_lockedUntil is { } until)
            {
                return new PairingOutcome(PairingResult.LockedOut, 0, until);
            }

            if (_code is null)
            {
                return new PairingOutcome(PairingResult.NoActiveCode, _options.MaxAttempts - _failedAttempts, null);
            }

            if (!CodeMatches(_code.Code, code))
            {
                _failedAttempts++;
                if (_failedAttempts >= _options.MaxAttempts)
                {
                    _lockouts++;
                    _lockedUntil = now + LockoutLength(_lockouts);
                    _code = null;
                    _presenceAskedUntil = null;
                    SaveLockout();
                    LogLockedOut(_logger, _failedAttempts, _lockedUntil.Value, _lockouts);
                    return new PairingOutcome(PairingResult.LockedOut, 0, _lockedUntil);
                }

                SaveLockout();
                LogWrongCode(_logger, _options.MaxAttempts - _failedAttempts);
                return new PairingOutcome(PairingResult.WrongCode, _options.MaxAttempts - _failedAttempts, null);
            }

            var paired = new PairingStatus(true, op, normalizedLabel, now);
            Save(paired);
            _status = paired;
            _code = null;
            _failedAttempts = 0;
            _lockouts = 0;
            _presenceAskedUntil = null;
            SaveLockout();
            LogPaired(_logger, op, normalizedLabel ?? string.Empty);
            return new PairingOutcome(PairingResult.Paired, _options.MaxAttempts, null);
        }
    }

    private PairingOutcome Outcome(PairingResult result)
    {
        lock (_gate)
        {
            return new PairingOutcome(result, _options.MaxAttempts - _failedAttempts, _lockedUntil);
        }
    }

    private void Refresh(DateTimeOffset now)
    {
        if (_lockedUntil is { } until && now >= until)
        {
            _lockedUntil = null;
            _failedAttempts = 0;
        }

        if (_code is { } c && now >= c.ExpiresAt)
        {
            _code = null;
        }

        if (_presenceAskedUntil is { } asked && now >= asked)
        {
            _presenceAskedUntil = null;
        }
    }

    /// <summary>The base lockout doubled for every lockout before this one, at most <see cref="PairingOptions.MaxLockout"/>.</summary>
    private TimeSpan LockoutLength(int lockouts)
    {
        var length = _options.Lockout;
        for (int i = 1; i < Math.Min(lockouts, 64) && length < _options.MaxLockout; i++)
        {
            length += length;
        }

        return length < _options.MaxLockout ? length : _options.MaxLockout;
    }

    private void Issue(DateTimeOffset now)
    {
        int n = KernelRandom.GetInt32(0, 1_000_000);
        _code = new PairingCode(n.ToString("D6", CultureInfo.InvariantCulture), now + _options.CodeLifetime);
        LogCodeIssued(_logger, _code.ExpiresAt);
        if (LogCodes)
        {
            LogCodeForOwner(_logger, _code.Code, _code.ExpiresAt);
        }
    }

    private static bool CodeMatches(string expected, string? given)
    {
        if (given is null)
        {
            return false;
        }

        // The length is not secret (always six digits); the digits are compared without early exit.
        Span<byte> a = stackalloc byte[PairingLimits.CodeLength];
        Span<byte> b = stackalloc byte[PairingLimits.CodeLength];
        var trimmed = given.AsSpan().Trim();
        if (trimmed.Length != PairingLimits.CodeLength
            || Encoding.ASCII.GetBytes(expected, a) != PairingLimits.CodeLength)
        {
            return false;
        }

        for (int i = 0; i < trimmed.Length; i++)
        {
            // Whether the input is all digits says nothing about the code, so this early exit leaks nothing.
            if (!char.IsAsciiDigit(trimmed[i]))
            {
                return false;
            }

            b[i] = (byte)trimmed[i];
        }

        return CryptographicOperations.FixedTimeEquals(a, b);
    }

    private PairingStatus Load()
    {
        var unpaired = new PairingStatus(false, null, null, null);
        if (!File.Exists(_path))
        {
            return unpaired;
        }

        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllBytes(_path));
            var root = doc.RootElement;
            string? op = root.TryGetProperty("operatorAddress", out var o) && o.ValueKind == JsonValueKind.String ? o.GetString() : null;
            string? label = root.TryGetProperty("label", out var l) && l.ValueKind == JsonValueKind.String ? l.GetString() : null;
            DateTimeOffset? at = root.TryGetProperty("pairedAt", out var t) && t.ValueKind == JsonValueKind.String && t.TryGetDateTimeOffset(out var dto) ? dto : null;
            if (!OperatorAddress.TryNormalize(op, out var normalized) || !OperatorAddress.TryNormalizeLabel(label, out var normalizedLabel) || at is null)
            {
                LogUnreadable(_logger, _path, "missing or invalid operatorAddress, label or pairedAt");
                return unpaired;
            }

            return new PairingStatus(true, normalized, normalizedLabel, at);
        }
        catch (Exception e) when (e is JsonException or IOException or UnauthorizedAccessException)
        {
            LogUnreadable(_logger, _path, e.Message);
            return unpaired;
        }
    }

    private void Save(PairingStatus status)
    {
        // Temp, fsync, rename, fsync of the folder: a power cut leaves the old or the new file, never a torn one.
        var buffer = new System.Buffers.ArrayBufferWriter<byte>(256);
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            writer.WriteStartObject();
            writer.WriteNumber("version", 1);
            writer.WriteString("operatorAddress", status.OperatorAddress);
            if (status.AccountLabel is null)
            {
                writer.WriteNull("label");
            }
            else
            {
                writer.WriteString("label", status.AccountLabel);
            }

            writer.WriteString("pairedAt", status.PairedAt!.Value);
            writer.WriteEndObject();
        }

        AtomicFile.Write(_path, buffer.WrittenSpan);
    }

    private void SaveLockout()
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>(128);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteNumber("failedAttempts", _failedAttempts);
            writer.WriteNumber("lockouts", _lockouts);
            if (_lockedUntil is { } until)
            {
                writer.WriteString("lockedUntil", until);
            }

            writer.WriteEndObject();
        }

        try
        {
            AtomicFile.Write(_lockoutPath, buffer.WrittenSpan);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // The lockout still holds in memory; only a restart could shorten it.
            LogLockoutNotSaved(_logger, _lockoutPath, e.Message);
        }
    }

    private void LoadLockout()
    {
        if (!File.Exists(_lockoutPath))
        {
            return;
        }

        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllBytes(_lockoutPath));
            var root = doc.RootElement;
            if (root.TryGetProperty("failedAttempts", out var f) && f.TryGetInt32(out var failed) && failed >= 0)
            {
                _failedAttempts = Math.Min(failed, _options.MaxAttempts);
            }

            if (root.TryGetProperty("lockouts", out var l) && l.TryGetInt32(out var lockouts) && lockouts >= 0)
            {
                _lockouts = lockouts;
            }

            if (root.TryGetProperty("lockedUntil", out var u) && u.ValueKind == JsonValueKind.String && u.TryGetDateTimeOffset(out var until))
            {
                _lockedUntil = until;
            }
        }
        catch (Exception e) when (e is JsonException or IOException or UnauthorizedAccessException)
        {
            // An unreadable counter must not unlock pairing: count it as a lockout in force.
            LogUnreadable(_logger, _lockoutPath, e.Message);
            _lockouts = Math.Max(_lockouts, 1);
            _lockedUntil = _time.GetUtcNow() + LockoutLength(_lockouts);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Pairing code issued, valid until {ExpiresAt:o}")]
    private static partial void LogCodeIssued(ILogger logger, DateTimeOffset expiresAt);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Wrong pairing code entered; {AttemptsLeft} attempts left")]
    private static partial void LogWrongCode(ILogger logger, int attemptsLeft);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Pairing locked after {Attempts} wrong codes until {Until:o} (lockout {Lockouts})")]
    private static partial void LogLockedOut(ILogger logger, int attempts, DateTimeOffset until, int lockouts);

    [LoggerMessage(Level = LogLevel.Warning, Message = "No LCD answers: pairing code: {Code} (valid until {ExpiresAt:o})")]
    private static partial void LogCodeForOwner(ILogger logger, string code, DateTimeOffset expiresAt);

    [LoggerMessage(Level = LogLevel.Information, Message = "Re-pairing asked for: press the gateway's button to show a code")]
    private static partial void LogPresenceAsked(ILogger logger);

    [LoggerMessage(Level = LogLevel.Error, Message = "Could not save the pairing lockout to {Path}: {Reason}")]
    private static partial void LogLockoutNotSaved(ILogger logger, string path, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Paired with operator {OperatorAddress} ({Label})")]
    private static partial void LogPaired(ILogger logger, string operatorAddress, string label);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Ignoring unreadable pairing file {Path}: {Reason}; the gateway is unpaired")]
    private static partial void LogUnreadable(ILogger logger, string path, string reason);
}
