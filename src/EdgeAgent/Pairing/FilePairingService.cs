using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using EdgeMeter.Agent.Status;
using EdgeMeter.Crypto.Files;
using Microsoft.Extensions.Logging;

namespace EdgeMeter.Agent.Pairing;

/// <summary>
/// <see cref="IPairingService"/> that keeps the pairing in <c>pairing.json</c> in the data directory. Codes and the
/// attempt counter live only in memory: a restart issues a fresh code, which also invalidates any partial guessing.
/// </summary>
internal sealed partial class FilePairingService : IPairingService
{
    /// <summary>The file name inside the data directory.</summary>
    public const string FileName = "pairing.json";

    private readonly string _path;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly PairingOptions _options;
    private readonly Lock _gate = new();

    private PairingStatus _status;
    private PairingCode? _code;
    private int _failedAttempts;
    private DateTimeOffset? _lockedUntil;

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

        Directory.CreateDirectory(dataDirectory);
        _path = Path.Combine(dataDirectory, FileName);
        _status = Load();
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
                _options.MaxAttempts - _failedAttempts);
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

            if (_code is null)
            {
                Issue(now);
            }

            return _code!.ExpiresAt;
        }
    }

    /// <inheritdoc />
    /// <remarks>A stand-in until the web page's presence flow: no request ever waits for the button here.</remarks>
    public bool AwaitingPresence => false;

    /// <inheritdoc />
    /// <remarks>A stand-in until the web page's presence flow: a press opens a pairing window.</remarks>
    public void ConfirmPresence() => RequestCode();

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
                    _lockedUntil = now + _options.Lockout;
                    _code = null;
                    LogLockedOut(_logger, _failedAttempts, _lockedUntil.Value);
                    return new PairingOutcome(PairingResult.LockedOut, 0, _lockedUntil);
                }

                LogWrongCode(_logger, _options.MaxAttempts - _failedAttempts);
                return new PairingOutcome(PairingResult.WrongCode, _options.MaxAttempts - _failedAttempts, null);
            }

            var paired = new PairingStatus(true, op, normalizedLabel, now);
            Save(paired);
            _status = paired;
            _code = null;
            _failedAttempts = 0;
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
    }

    private void Issue(DateTimeOffset now)
    {
        int n = RandomNumberGenerator.GetInt32(0, 1_000_000);
        _code = new PairingCode(n.ToString("D6", CultureInfo.InvariantCulture), now + _options.CodeLifetime);
        LogCodeIssued(_logger, _code.ExpiresAt);
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
        // Rename into place (AtomicFile) so that a power cut leaves either the old or the new file, never a torn one.
        var buffer = new System.Buffers.ArrayBufferWriter<byte>(512);
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

    [LoggerMessage(Level = LogLevel.Information, Message = "Pairing code issued, valid until {ExpiresAt:o}")]
    private static partial void LogCodeIssued(ILogger logger, DateTimeOffset expiresAt);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Wrong pairing code entered; {AttemptsLeft} attempts left")]
    private static partial void LogWrongCode(ILogger logger, int attemptsLeft);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Pairing locked after {Attempts} wrong codes until {Until:o}")]
    private static partial void LogLockedOut(ILogger logger, int attempts, DateTimeOffset until);

    [LoggerMessage(Level = LogLevel.Information, Message = "Paired with operator {OperatorAddress} ({Label})")]
    private static partial void LogPaired(ILogger logger, string operatorAddress, string label);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Ignoring unreadable pairing file {Path}: {Reason}; the gateway is unpaired")]
    private static partial void LogUnreadable(ILogger logger, string path, string reason);
}
