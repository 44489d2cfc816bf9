using EdgeMeter.Crypto.Hashing;
using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using EdgeMeter.Crypto.Entropy;

namespace EdgeMeter.Agent.Web;

/// <summary>One owner session: the cookie token's hash, its CSRF token, and when it ends.</summary>
internal sealed record OwnerSession(byte[] TokenHash, string CsrfToken, DateTimeOffset ExpiresAt);

/// <summary>
/// The owner's sessions, started by a successful pairing. Tokens are 32 bytes from the CSPRNG; only their SHA-256
/// is kept, and a presented token is compared with every live session in constant time (no early exit, no lookup
/// keyed by the secret). A re-pairing ends every session; so does a restart (sessions live in memory only).
/// </summary>
internal sealed class OwnerSessions
{
    /// <summary>The cookie's name.</summary>
    public const string CookieName = "em_session";

    /// <summary>Sessions kept at most; starting one more ends the oldest.</summary>
    public const int MaxSessions = 8;

    private readonly TimeProvider _time;
    private readonly List<OwnerSession> _sessions = [];
    private readonly Lock _gate = new();

    /// <summary>Creates the store.</summary>
    /// <param name="time">Clock for expiry.</param>
    /// <param name="lifetime">How long a session lasts from its start (the cookie's Max-Age too).</param>
    public OwnerSessions(TimeProvider time, TimeSpan lifetime)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(lifetime, TimeSpan.Zero);
        _time = time;
        Lifetime = lifetime;
    }

    /// <summary>How long a session lasts.</summary>
    public TimeSpan Lifetime { get; }

    /// <summary>Live sessions (for tests and status).</summary>
    public int Count
    {
        get
        {
            lock (_gate)
            {
                Prune(_time.GetUtcNow());
                return _sessions.Count;
            }
        }
    }

    /// <summary>Starts a session; returns the cookie token (to hand to the browser once) and the session.</summary>
    public (string Token, OwnerSession Session) Start()
    {
        var token = NewToken();
        var session = new OwnerSession(Hash(token), NewToken(), _time.GetUtcNow() + Lifetime);
        lock (_gate)
        {
            Prune(_time.GetUtcNow());
            if (_sessions.Count >= MaxSessions)
            {
                _sessions.RemoveAt(0);
            }

            _sessions.Add(session);
        }

        return (token, session);
    }

    /// <summary>The live session of a cookie token, or null.</summary>
    public OwnerSession? Find(string? token)
    {
        if (string.IsNullOrEmpty(token) || token.Length > 128)
        {
            return null;
        }

        var hash = Hash(token);
        lock (_gate)
        {
            Prune(_time.GetUtcNow());
            OwnerSession? found = null;
            foreach (var s in _sessions)
            {
                // Every entry is compared in full; the branch below depends on the result, not on the bytes.
                bool match = CryptographicOperations.FixedTimeEquals(s.TokenHash, hash);
                found = match ? s : found;
            }

            return found;
        }
    }

    /// <summary>Whether <paramref name="csrf"/> is the session's CSRF token (constant time).</summary>
    public static bool CsrfMatches(OwnerSession session, string? csrf)
    {
        if (string.IsNullOrEmpty(csrf) || csrf.Length > 128)
        {
            return false;
        }

        return CryptographicOperations.FixedTimeEquals(Hash(session.CsrfToken), Hash(csrf));
    }

    /// <summary>Ends one session (logout).</summary>
    public void End(OwnerSession session)
    {
        lock (_gate)
        {
            _sessions.Remove(session);
        }
    }

    /// <summary>Ends every session (a re-pairing).</summary>
    public void EndAll()
    {
        lock (_gate)
        {
            _sessions.Clear();
        }
    }

    private void Prune(DateTimeOffset now) => _sessions.RemoveAll(s => now >= s.ExpiresAt);

    private static string NewToken()
    {
        Span<byte> raw = stackalloc byte[32];
        KernelRandom.Fill(raw);
        return Base64Url.EncodeToString(raw);
    }

    private static byte[] Hash(string token) => Sha256.HashData(Encoding.UTF8.GetBytes(token));
}
