using System.Buffers;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using EdgeMeter.Agent.Pairing;
using EdgeMeter.Agent.Status;
using Microsoft.Extensions.Logging;

namespace EdgeMeter.Agent.Web;

/// <summary>
/// The gateway's local web page and JSON API on <see cref="HttpListener"/> (no ASP.NET: size and memory matter on
/// the gateway). Public routes: <c>GET /</c>, <c>GET /healthz</c>, <c>GET|POST /api/pair</c>,
/// <c>POST /api/pair/code</c>. Owner routes (a session cookie from a successful pairing): <c>GET /api/status</c>,
/// <c>GET /api/session</c>, <c>POST /api/logout</c> and everything under <c>/api/setup/</c>.
/// </summary>
/// <remarks>
/// Host hygiene defeats DNS rebinding (a page from another site that re-points its name at the gateway still sends
/// its own name as Host): bound to loopback only loopback names are served; on a LAN binding only the gateway's own
/// addresses, its host name, <c>hostname.local</c> and the names in <c>http.allowedHosts</c>. POSTs must be
/// <c>application/json</c>, which a cross-site form cannot send without a CORS preflight that we never grant, a
/// foreign Origin is refused, and every state-changing owner request carries the session's CSRF token in the
/// <c>X-CSRF-Token</c> header.
/// </remarks>
internal sealed partial class WebServer : IAsyncDisposable
{
    /// <summary>Largest request body accepted.</summary>
    public const int MaxBodyBytes = 4 * 1024;

    /// <summary>Largest body of a certificate or key upload (PEM).</summary>
    public const int MaxUploadBytes = 32 * 1024;

    private const int MaxConcurrentRequests = 8;
    private static readonly TimeSpan BodyReadTimeout = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan DrainTimeout = TimeSpan.FromSeconds(5);

    private readonly Uri _url;
    private readonly IAgentStatusSource _status;
    private readonly IPairingService _pairing;
    private readonly WebServerOptions _options;
    private readonly OwnerSessions _sessions;
    private readonly HostAllowList _hosts;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly CancellationTokenSource _stopping = new();
    private readonly SemaphoreSlim _slots = new(MaxConcurrentRequests, MaxConcurrentRequests);
    private HttpListener? _listener;
    private Task? _acceptLoop;
    private Uri? _boundUrl;
    private bool _loopbackOnly;
    private int _port;
    private int _disposed;
    private CancellationTokenRegistration _callerStop;

    /// <summary>Creates the server; nothing listens until <see cref="StartAsync"/>.</summary>
    /// <param name="url"><c>http://host:port</c>, host an IP literal, <c>localhost</c> or <c>0.0.0.0</c> (all interfaces); port 0 picks a free port.</param>
    /// <param name="status">The status snapshot the page shows.</param>
    /// <param name="pairing">The pairing flow.</param>
    /// <param name="logger">Startup, shutdown and failed requests.</param>
    /// <param name="time">Clock for Retry-After and sessions; the pairing service's clock, <see cref="TimeProvider.System"/> when null.</param>
    /// <param name="options">Allowed host names, the public summary switch, the setup service; defaults when null.</param>
    /// <exception cref="ArgumentException">The URL is not a plain http URL with a usable host.</exception>
    public WebServer(Uri url, IAgentStatusSource status, IPairingService pairing, ILogger<WebServer> logger, TimeProvider? time = null, WebServerOptions? options = null)
    {
        _time = time ?? TimeProvider.System;
        ArgumentNullException.ThrowIfNull(url);
        _ = ResolveBindAddress(url);
        _url = url;
        _status = status;
        _pairing = pairing;
        _logger = logger;
        _options = options ?? new WebServerOptions();
        _sessions = new OwnerSessions(_time, _options.SessionLifetime);
        _hosts = new HostAllowList(_options.HostName ?? Dns.GetHostName(), _options.AllowedHosts, _time);
    }

    /// <summary>The owner sessions (for tests: how many are live).</summary>
    internal OwnerSessions Sessions => _sessions;

    /// <summary>The URL the server answers on, with the real port when 0 was asked for.</summary>
    /// <exception cref="InvalidOperationException">Before <see cref="StartAsync"/>.</exception>
    public Uri BoundUrl => _boundUrl ?? throw new InvalidOperationException("The web server is not started.");

    /// <summary>Validates a <c>--http</c> URL and returns the address to bind.</summary>
    /// <exception cref="ArgumentException">Not <c>http://</c>, has a path, query or user info, or a host name other than localhost.</exception>
    public static IPAddress ResolveBindAddress(Uri url)
    {
        ArgumentNullException.ThrowIfNull(url);
        if (!url.IsAbsoluteUri || url.Scheme != Uri.UriSchemeHttp)
        {
            throw new ArgumentException($"web URL '{url}' must start with http://", nameof(url));
        }

        if (url.AbsolutePath != "/" || url.Query.Length > 0 || url.UserInfo.Length > 0 || url.Fragment.Length > 0)
        {
            throw new ArgumentException($"web URL '{url}' must be just http://host:port", nameof(url));
        }

        if (url.IsLoopback && url.HostNameType == UriHostNameType.Dns)
        {
            return IPAddress.Loopback;
        }

        if (url.HostNameType is UriHostNameType.IPv4 or UriHostNameType.IPv6
            && IPAddress.TryParse(url.Host.Trim('[', ']'), out var ip))
        {
            return ip;
        }

        throw new ArgumentException($"web URL '{url}': host must be an IP address, localhost or 0.0.0.0", nameof(url));
    }

    /// <summary>Starts listening; <paramref name="cancellationToken"/> later stops the server cleanly.</summary>
    /// <exception cref="HttpListenerException">The port is taken or the address is not local.</exception>
    public Task StartAsync(CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        if (_listener is not null)
        {
            throw new InvalidOperationException("The web server is already started.");
        }

        var address = ResolveBindAddress(_url);
        bool any = address.Equals(IPAddress.Any) || address.Equals(IPAddress.IPv6Any);
        _loopbackOnly = _options.LanHostRules is { } lan ? !lan : IPAddress.IsLoopback(address);

        // HttpListener cannot report the port it picked, so for port 0 we ask the OS for a free one first; another
        // process could take it in between, hence the retries.
        for (int attempt = 0; ; attempt++)
        {
            int port = _url.Port != 0 ? _url.Port : FreePort(any ? IPAddress.Loopback : address);
            var listener = new HttpListener { IgnoreWriteExceptions = true };
            foreach (var prefix in Prefixes(address, any, port))
            {
                listener.Prefixes.Add(prefix);
            }

            try
            {
                listener.Start();
            }
            catch (HttpListenerException) when (_url.Port == 0 && attempt < 5)
            {
                listener.Close();
                continue;
            }

            _listener = listener;
            _port = port;
            var host = any ? _url.Host : address.AddressFamily == AddressFamily.InterNetworkV6 ? $"[{address}]" : address.ToString();
            if (_url.HostNameType == UriHostNameType.Dns)
            {
                host = _url.Host;
            }

            _boundUrl = new Uri($"http://{host}:{port}/");
            break;
        }

        _callerStop = cancellationToken.Register(static s => ((WebServer)s!)._stopping.Cancel(), this);
        _acceptLoop = Task.Run(AcceptLoopAsync, CancellationToken.None);
        LogListening(_logger, _boundUrl, _loopbackOnly);
        return Task.CompletedTask;
    }

    /// <summary>Stops accepting, lets running requests finish (briefly), and closes the listener.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await _callerStop.DisposeAsync().ConfigureAwait(false);
        await _stopping.CancelAsync().ConfigureAwait(false);
        if (_acceptLoop is not null)
        {
            await _acceptLoop.ConfigureAwait(false);
        }

        _stopping.Dispose();
        _slots.Dispose();
    }

    private static IEnumerable<string> Prefixes(IPAddress address, bool any, int port)
    {
        if (any)
        {
            // "+" makes HttpListener bind every interface and accept any Host header.
            yield return $"http://+:{port}/";
            yield break;
        }

        if (address.AddressFamily == AddressFamily.InterNetworkV6)
        {
            yield return $"http://[{address}]:{port}/";
        }
        else
        {
            yield return $"http://{address}:{port}/";
        }

        if (address.Equals(IPAddress.Loopback))
        {
            yield return $"http://localhost:{port}/";
        }
    }

    private static int FreePort(IPAddress address)
    {
        var probe = new TcpListener(address, 0);
        probe.Start();
        try
        {
            return ((IPEndPoint)probe.LocalEndpoint).Port;
        }
        finally
        {
            probe.Stop();
        }
    }

    private async Task AcceptLoopAsync()
    {
        var listener = _listener!;
        var token = _stopping.Token;
        var inFlight = new List<Task>();
        Task<HttpListenerContext>? pending = null;
        try
        {
            while (!token.IsCancellationRequested)
            {
                await _slots.WaitAsync(token).ConfigureAwait(false);
                HttpListenerContext context;
                try
                {
                    pending = listener.GetContextAsync();
                    context = await pending.WaitAsync(token).ConfigureAwait(false);
                    pending = null;
                }
                catch
                {
                    _slots.Release();
                    throw;
                }

                inFlight.RemoveAll(static t => t.IsCompleted);
                inFlight.Add(Task.Run(() => HandleAsync(context, token), CancellationToken.None));
            }
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
        }
        catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or InvalidOperationException)
        {
            LogListenerFailed(_logger, e.Message);
        }
        finally
        {
            // Running requests are short (a JSON snapshot, one pairing check); give them a moment, then close.
            await Task.WhenAny(Task.WhenAll(inFlight), Task.Delay(DrainTimeout)).ConfigureAwait(false);
            listener.Close();
            if (pending is not null)
            {
                try
                {
                    await pending.ConfigureAwait(false);
                }
                catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or InvalidOperationException)
                {
                    // Expected: closing the listener fails the outstanding accept.
                }
            }

            LogStopped(_logger, _boundUrl!);
        }
    }

    private async Task HandleAsync(HttpListenerContext context, CancellationToken token)
    {
        var request = context.Request;
        var response = context.Response;
        try
        {
            response.Headers["X-Content-Type-Options"] = "nosniff";
            response.Headers["Referrer-Policy"] = "no-referrer";
            response.Headers["X-Frame-Options"] = "DENY";
            response.Headers["Cross-Origin-Resource-Policy"] = "same-origin";

            if (_loopbackOnly ? !IsLoopbackHost(request.UserHostName, _port) : !_hosts.Allows(request.UserHostName, _port))
            {
                await WriteErrorAsync(response, HttpStatusCode.Forbidden, "host_not_allowed", "This gateway does not answer to that host name.", token).ConfigureAwait(false);
                return;
            }

            var path = request.Url?.AbsolutePath ?? "/";
            var method = request.HttpMethod;
            var session = _sessions.Find(request.Cookies[OwnerSessions.CookieName]?.Value);
            if (path.StartsWith("/api/setup/", StringComparison.Ordinal))
            {
                await SetupAsync(context, path, session, token).ConfigureAwait(false);
                return;
            }

            switch (path)
            {
                case "/" or "/index.html" when method == "GET":
                    response.Headers["Content-Security-Policy"] = WebPage.ContentSecurityPolicy;
                    response.Headers["Cache-Control"] = "no-cache";
                    response.Headers["Vary"] = "Accept-Language";
                    await WriteAsync(response, HttpStatusCode.OK, "text/html; charset=utf-8", WebPage.Html(WebPage.PickLanguage(request.Headers["Accept-Language"])), token).ConfigureAwait(false);
                    break;
                case "/healthz" when method == "GET":
                    response.Headers["Cache-Control"] = "no-store";
                    await WriteAsync(response, HttpStatusCode.OK, "text/plain; charset=utf-8", "ok\n"u8.ToArray(), token).ConfigureAwait(false);
                    break;
                case "/api/status" when method == "GET":
                    if (session is not null)
                    {
                        await WriteJsonAsync(response, HttpStatusCode.OK, w => StatusJson.WriteStatus(w, _status.Current, _pairing.GetState(), _options.LcdMirror?.Invoke()), token).ConfigureAwait(false);
                    }
                    else if (_options.PublicSummary())
                    {
                        await WriteJsonAsync(response, HttpStatusCode.OK, w => StatusJson.WriteSummary(w, _status.Current), token).ConfigureAwait(false);
                    }
                    else
                    {
                        await WriteErrorAsync(response, HttpStatusCode.Unauthorized, "login_required", "Pair with the gateway first.", token).ConfigureAwait(false);
                    }

                    break;
                case "/api/pair" when method == "GET":
                    await WriteJsonAsync(response, HttpStatusCode.OK, w => StatusJson.WritePairing(w, _pairing.GetState(), owner: session is not null), token).ConfigureAwait(false);
                    break;
                case "/api/pair" when method == "POST":
                    await PairAsync(context, token).ConfigureAwait(false);
                    break;
                case "/api/pair/code" when method == "POST":
                    await RequestCodeAsync(context, session, token).ConfigureAwait(false);
                    break;
                case "/api/session" when method == "GET":
                    if (session is null)
                    {
                        await WriteErrorAsync(response, HttpStatusCode.Unauthorized, "login_required", "No owner session.", token).ConfigureAwait(false);
                        break;
                    }

                    await WriteJsonAsync(response, HttpStatusCode.OK, w => WriteSession(w, session), token).ConfigureAwait(false);
                    break;
                case "/api/logout" when method == "POST":
                    if (await RequireOwnerAsync(context, session, token).ConfigureAwait(false) is { } ending)
                    {
                        _sessions.End(ending);
                        response.AppendHeader("Set-Cookie", $"{OwnerSessions.CookieName}=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict");
                        await WriteJsonAsync(response, HttpStatusCode.OK, w =>
                        {
                            w.WriteStartObject();
                            w.WriteString("result", "logged_out");
                            w.WriteEndObject();
                        }, token).ConfigureAwait(false);
                    }

                    break;
                case "/" or "/index.html" or "/healthz" or "/api/status" or "/api/session":
                    response.Headers["Allow"] = "GET";
                    await WriteErrorAsync(response, HttpStatusCode.MethodNotAllowed, "method_not_allowed", "Method not allowed.", token).ConfigureAwait(false);
                    break;
                case "/api/pair":
                    response.Headers["Allow"] = "GET, POST";
                    await WriteErrorAsync(response, HttpStatusCode.MethodNotAllowed, "method_not_allowed", "Method not allowed.", token).ConfigureAwait(false);
                    break;
                case "/api/pair/code" or "/api/logout":
                    response.Headers["Allow"] = "POST";
                    await WriteErrorAsync(response, HttpStatusCode.MethodNotAllowed, "method_not_allowed", "Method not allowed.", token).ConfigureAwait(false);
                    break;
                default:
                    await WriteErrorAsync(response, HttpStatusCode.NotFound, "not_found", "Not found.", token).ConfigureAwait(false);
                    break;
            }
        }
        catch (Exception e) when (e is HttpListenerException or IOException or ObjectDisposedException or OperationCanceledException)
        {
            // The client went away or we are stopping; nothing to answer.
            LogRequestAborted(_logger, request.HttpMethod, request.Url?.AbsolutePath ?? "?", e.Message);
        }
        catch (Exception e)
        {
            LogRequestFailed(_logger, e, request.HttpMethod, request.Url?.AbsolutePath ?? "?");
            try
            {
                await WriteErrorAsync(response, HttpStatusCode.InternalServerError, "internal", "Internal error.", token).ConfigureAwait(false);
            }
            catch (Exception inner) when (inner is HttpListenerException or IOException or ObjectDisposedException or InvalidOperationException or OperationCanceledException)
            {
                // Headers were already sent; the connection is closed below.
            }
        }
        finally
        {
            try
            {
                response.Close();
            }
            catch (Exception e) when (e is HttpListenerException or IOException or ObjectDisposedException or InvalidOperationException)
            {
                // Already closed by the peer.
            }

            _slots.Release();
        }
    }

    private async Task PairAsync(HttpListenerContext context, CancellationToken token)
    {
        var body = await ReadJsonBodyAsync(context, token).ConfigureAwait(false);
        if (body is null)
        {
            return;
        }

        string? code, op, label;
        try
        {
            using var doc = JsonDocument.Parse(body, new JsonDocumentOptions { MaxDepth = 4 });
            if (doc.RootElement.ValueKind != JsonValueKind.Object)
            {
                throw new JsonException("not an object");
            }

            code = StringProperty(doc.RootElement, "code");
            op = StringProperty(doc.RootElement, "operatorAddress");
            label = StringProperty(doc.RootElement, "label");
        }
        catch (JsonException)
        {
            await WriteErrorAsync(context.Response, HttpStatusCode.BadRequest, "bad_json", "Send a JSON object with code, operatorAddress and label.", token).ConfigureAwait(false);
            return;
        }

        var outcome = _pairing.TryPair(code, op, label);
        var response = context.Response;
        switch (outcome.Result)
        {
            case PairingResult.Paired:
                // A (re-)pairing is a new owner: every earlier session ends, this browser gets the only new one.
                _sessions.EndAll();
                var (cookie, session) = _sessions.Start();
                response.AppendHeader("Set-Cookie",
                    $"{OwnerSessions.CookieName}={cookie}; Path=/; Max-Age={(int)_sessions.Lifetime.TotalSeconds}; HttpOnly; SameSite=Strict");
                await WriteJsonAsync(response, HttpStatusCode.OK, w =>
                {
                    w.WriteStartObject();
                    w.WriteString("result", "paired");
                    w.WriteString("csrf", session.CsrfToken);
                    w.WriteString("sessionExpiresAt", session.ExpiresAt);
                    w.WritePropertyName("pairing");
                    StatusJson.WritePairing(w, _pairing.GetState(), owner: true);
                    w.WriteEndObject();
                }, token).ConfigureAwait(false);
                break;
            case PairingResult.WrongCode:
                await WriteErrorAsync(response, HttpStatusCode.Forbidden, "wrong_code",
                    $"Wrong code. {outcome.AttemptsLeft} attempt{(outcome.AttemptsLeft == 1 ? "" : "s")} left.", token, outcome.AttemptsLeft).ConfigureAwait(false);
                break;
            case PairingResult.LockedOut:
                var wait = outcome.LockedUntil is { } until ? until - _time.GetUtcNow() : TimeSpan.Zero;
                response.Headers["Retry-After"] = Math.Max(1, (int)Math.Ceiling(wait.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
                await WriteErrorAsync(response, HttpStatusCode.TooManyRequests, "locked",
                    "Too many wrong codes. Pairing is locked for a while.", token, 0).ConfigureAwait(false);
                break;
            case PairingResult.NoActiveCode:
                await WriteErrorAsync(response, HttpStatusCode.Conflict, "no_code",
                    "No pairing code is active. Request a new code; it appears on the gateway display.", token).ConfigureAwait(false);
                break;
            case PairingResult.InvalidOperatorAddress:
                await WriteErrorAsync(response, HttpStatusCode.BadRequest, "invalid_operator",
                    "The operator address must be 0x followed by 40 hex digits.", token).ConfigureAwait(false);
                break;
            default:
                await WriteErrorAsync(response, HttpStatusCode.BadRequest, "invalid_label",
                    $"The label may have at most {PairingLimits.MaxLabelLength} characters and no control characters.", token).ConfigureAwait(false);
                break;
        }
    }

    private async Task RequestCodeAsync(HttpListenerContext context, OwnerSession? session, CancellationToken token)
    {
        // The owner's session stands for presence (it began with a code read off the gateway); anyone else on a
        // paired gateway must press its button. A session without the CSRF token counts as no session.
        bool owner = session is not null && OwnerSessions.CsrfMatches(session, context.Request.Headers[CsrfHeader]);
        if (await ReadJsonBodyAsync(context, token).ConfigureAwait(false) is null)
        {
            return;
        }

        var opened = _pairing.RequestCode();
        if (opened is null && owner && _pairing.AwaitingPresence)
        {
            _pairing.ConfirmPresence();
            opened = _pairing.RequestCode();
        }

        if (opened is null)
        {
            if (_pairing.AwaitingPresence)
            {
                await WriteErrorAsync(context.Response, HttpStatusCode.Forbidden, "presence_required",
                    "Press the button on the gateway to show a new pairing code.", token).ConfigureAwait(false);
                return;
            }

            await WriteErrorAsync(context.Response, HttpStatusCode.TooManyRequests, "locked", "Too many wrong codes. Pairing is locked for a while.", token).ConfigureAwait(false);
            return;
        }

        await WriteJsonAsync(context.Response, HttpStatusCode.OK, w =>
        {
            w.WriteStartObject();
            w.WriteString("result", "code_shown");
            w.WritePropertyName("pairing");
            StatusJson.WritePairing(w, _pairing.GetState(), owner);
            w.WriteEndObject();
        }, token).ConfigureAwait(false);
    }

    /// <summary>The header that carries the session's CSRF token on every state-changing owner request.</summary>
    public const string CsrfHeader = "X-CSRF-Token";

    /// <summary>
    /// The session, when the request has one and (for anything but GET) its CSRF token; otherwise writes 401 (no
    /// session) or 403 (no or wrong token) and returns null.
    /// </summary>
    private async Task<OwnerSession?> RequireOwnerAsync(HttpListenerContext context, OwnerSession? session, CancellationToken token)
    {
        if (session is null)
        {
            await WriteErrorAsync(context.Response, HttpStatusCode.Unauthorized, "login_required", "Pair with the gateway first.", token).ConfigureAwait(false);
            return null;
        }

        if (context.Request.HttpMethod != "GET" && !OwnerSessions.CsrfMatches(session, context.Request.Headers[CsrfHeader]))
        {
            await WriteErrorAsync(context.Response, HttpStatusCode.Forbidden, "csrf", "Missing or wrong X-CSRF-Token.", token).ConfigureAwait(false);
            return null;
        }

        return session;
    }

    private static void WriteSession(Utf8JsonWriter w, OwnerSession session)
    {
        w.WriteStartObject();
        w.WriteBoolean("owner", true);
        w.WriteString("csrf", session.CsrfToken);
        w.WriteString("expiresAt", session.ExpiresAt);
        w.WriteEndObject();
    }

    /// <summary>
    /// Applies the POST rules and reads the body; on a violation writes the error response and returns null.
    /// </summary>
    private async Task<byte[]?> ReadJsonBodyAsync(HttpListenerContext context, CancellationToken token, int maxBytes = MaxBodyBytes)
    {
        var request = context.Request;
        var response = context.Response;
        if (!IsSameOrigin(request.Headers["Origin"], request.UserHostName) || request.Headers["Sec-Fetch-Site"] == "cross-site")
        {
            await WriteErrorAsync(response, HttpStatusCode.Forbidden, "cross_origin", "Cross-site requests are not accepted.", token).ConfigureAwait(false);
            return null;
        }

        if (!IsJsonContentType(request.ContentType))
        {
            await WriteErrorAsync(response, HttpStatusCode.UnsupportedMediaType, "content_type", "Send Content-Type: application/json.", token).ConfigureAwait(false);
            return null;
        }

        if (request.ContentLength64 > maxBytes)
        {
            response.KeepAlive = false;
            await WriteErrorAsync(response, HttpStatusCode.RequestEntityTooLarge, "too_large", $"The body may have at most {maxBytes} bytes.", token).ConfigureAwait(false);
            return null;
        }

        // Chunked bodies have no length up front: read one byte past the limit to tell "exactly full" from "too big".
        var buffer = ArrayPool<byte>.Shared.Rent(maxBytes + 1);
        try
        {
            int total = 0;
            var stream = request.InputStream;
            while (total <= maxBytes)
            {
                var read = stream.ReadAsync(buffer.AsMemory(total, maxBytes + 1 - total), token).AsTask();
                int n;
                try
                {
                    n = await read.WaitAsync(BodyReadTimeout, token).ConfigureAwait(false);
                }
                catch (TimeoutException)
                {
                    // HttpListener's stream ignores the token; aborting the connection ends the stuck read.
                    response.Abort();
                    throw new IOException("request body not received in time");
                }

                if (n == 0)
                {
                    break;
                }

                total += n;
            }

            if (total > maxBytes)
            {
                response.KeepAlive = false;
                await WriteErrorAsync(response, HttpStatusCode.RequestEntityTooLarge, "too_large", $"The body may have at most {maxBytes} bytes.", token).ConfigureAwait(false);
                return null;
            }

            return buffer.AsSpan(0, total).ToArray();
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>Whether a Host header names this loopback server (127.0.0.1, [::1] or localhost, with our port or none).</summary>
    internal static bool IsLoopbackHost(string? host, int port)
    {
        if (string.IsNullOrEmpty(host))
        {
            return false;
        }

        var span = host.AsSpan();
        int colon = span.LastIndexOf(':');
        int close = span.LastIndexOf(']');
        if (colon > close)
        {
            if (!int.TryParse(span[(colon + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out int p) || p != port)
            {
                return false;
            }

            span = span[..colon];
        }

        return span.Equals("localhost", StringComparison.OrdinalIgnoreCase)
            || span.SequenceEqual("127.0.0.1")
            || span.SequenceEqual("[::1]");
    }

    /// <summary>No Origin (a non-browser client) or one naming the same host and port the request was sent to.</summary>
    internal static bool IsSameOrigin(string? origin, string? host)
    {
        if (string.IsNullOrEmpty(origin))
        {
            return true;
        }

        return host is not null
            && origin.StartsWith("http://", StringComparison.OrdinalIgnoreCase)
            && origin.AsSpan(7).Equals(host, StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>Whether the media type (ignoring parameters such as charset) is application/json.</summary>
    internal static bool IsJsonContentType(string? contentType)
    {
        if (contentType is null)
        {
            return false;
        }

        var span = contentType.AsSpan();
        int semicolon = span.IndexOf(';');
        if (semicolon >= 0)
        {
            span = span[..semicolon];
        }

        return span.Trim().Equals("application/json", StringComparison.OrdinalIgnoreCase);
    }

    private static string? StringProperty(JsonElement obj, string name) =>
        obj.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

    private static Task WriteErrorAsync(HttpListenerResponse response, HttpStatusCode status, string code, string message, CancellationToken token, int? attemptsLeft = null) =>
        WriteJsonAsync(response, status, w =>
        {
            w.WriteStartObject();
            w.WriteString("result", code);
            w.WriteString("error", message);
            if (attemptsLeft is { } left)
            {
                w.WriteNumber("attemptsLeft", left);
            }

            w.WriteEndObject();
        }, token);

    private static async Task WriteJsonAsync(HttpListenerResponse response, HttpStatusCode status, Action<Utf8JsonWriter> write, CancellationToken token)
    {
        var buffer = new ArrayBufferWriter<byte>(1024);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            write(writer);
        }

        response.Headers["Cache-Control"] = "no-store";
        await WriteAsync(response, status, "application/json; charset=utf-8", buffer.WrittenMemory, token).ConfigureAwait(false);
    }

    private static async Task WriteAsync(HttpListenerResponse response, HttpStatusCode status, string contentType, ReadOnlyMemory<byte> body, CancellationToken token)
    {
        response.StatusCode = (int)status;
        response.ContentType = contentType;
        response.ContentLength64 = body.Length;
        await response.OutputStream.WriteAsync(body, token).ConfigureAwait(false);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Web page on {Url} (loopback only: {LoopbackOnly})")]
    private static partial void LogListening(ILogger logger, Uri url, bool loopbackOnly);

    [LoggerMessage(Level = LogLevel.Information, Message = "Web page on {Url} stopped")]
    private static partial void LogStopped(ILogger logger, Uri url);

    [LoggerMessage(Level = LogLevel.Error, Message = "Web listener failed: {Reason}")]
    private static partial void LogListenerFailed(ILogger logger, string reason);

    [LoggerMessage(Level = LogLevel.Debug, Message = "{Method} {Path} aborted: {Reason}")]
    private static partial void LogRequestAborted(ILogger logger, string method, string path, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "{Method} {Path} failed")]
    private static partial void LogRequestFailed(ILogger logger, Exception exception, string method, string path);
}
