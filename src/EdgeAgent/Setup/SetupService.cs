using System.IO.Ports;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using System.Text.Json.Nodes;
using EdgeMeter.Agent.Configuration;
using EdgeMeter.Agent.Metering;
using EdgeMeter.Agent.Storage;
using EdgeMeter.Crypto.Files;
using EdgeMeter.Agent.Sync;
using EdgeMeter.Protocols.Dlms;
using EdgeMeter.Protocols.Modbus;
using Microsoft.Extensions.Logging;
using MQTTnet;
using MQTTnet.Adapter;
using MQTTnet.Exceptions;
using EdgeMeter.Crypto.Entropy;

namespace EdgeMeter.Agent.Setup;

/// <summary>
/// <see cref="ISetupService"/> over the agent's JSON configuration file. A change edits only the keys it is about
/// (so comments aside, the owner's file keeps its shape and <c>EDGEMETER_</c> secrets stay out of it), is bound and
/// validated exactly like the file at start (<see cref="ConfigLoader.Load"/>), then written with
/// <see cref="AtomicFile"/> and announced through <see cref="Changed"/>.
/// </summary>
internal sealed partial class SetupService : ISetupService
{
    private static readonly TimeSpan TestTimeout = TimeSpan.FromSeconds(15);

    private readonly string _path;
    private readonly bool _requireMeters;
    private readonly Func<string, string?> _checkEndpoint;
    private readonly ILogger _logger;
    private readonly DlmsCounterFiles _dlmsCounters;
    private readonly TimeProvider _time;
    private readonly Lock _gate = new();
    private AgentOptions _current;

    /// <summary>Creates the service for a configuration file already loaded into <paramref name="current"/>.</summary>
    /// <param name="path">The configuration file the changes go to.</param>
    /// <param name="current">The options in force.</param>
    /// <param name="requireMeters">Whether at least one meter is required (as at start).</param>
    /// <param name="checkEndpoint">The endpoint rule used at start.</param>
    /// <param name="logger">Changes made (never their secrets).</param>
    /// <param name="dlmsCounters">The HLS-GMAC counter files the poller uses too (a test read must not repeat a counter); not owned.</param>
    /// <param name="time">Clock of a DLMS test read.</param>
    public SetupService(string path, AgentOptions current, bool requireMeters, Func<string, string?> checkEndpoint, ILogger<SetupService> logger,
        DlmsCounterFiles? dlmsCounters = null, TimeProvider? time = null)
    {
        _dlmsCounters = dlmsCounters ?? new DlmsCounterFiles();
        _time = time ?? TimeProvider.System;
        _path = Path.GetFullPath(path);
        _current = current;
        _requireMeters = requireMeters;
        _checkEndpoint = checkEndpoint;
        _logger = logger;
    }

    /// <inheritdoc />
    public AgentOptions Current
    {
        get
        {
            lock (_gate)
            {
                return _current;
            }
        }
    }

    /// <inheritdoc />
    public event Action<AgentOptions>? Changed;

    /// <inheritdoc />
    public IReadOnlyList<string> SerialPorts()
    {
        var ports = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var name in SerialPort.GetPortNames())
        {
            ports.Add(name);
        }

        // Stable names for USB adapters, which is what an installer should pick.
        const string byId = "/dev/serial/by-id";
        if (Directory.Exists(byId))
        {
            foreach (var link in Directory.EnumerateFileSystemEntries(byId))
            {
                ports.Add(link);
            }
        }

        return [.. ports];
    }

    /// <inheritdoc />
    public IReadOnlyList<string> RegisterMaps() => RegisterMapCatalog.BuiltinNames;

    /// <inheritdoc />
    public async Task<TestReadResult> TestReadAsync(MeterSetup meter, CancellationToken cancellationToken)
    {
        if (CheckMeter(meter) is { } problem)
        {
            return TestReadResult.Invalid(problem);
        }

        if (meter.Protocol == "dlms")
        {
            return await TestDlmsAsync(meter, cancellationToken).ConfigureAwait(false);
        }

        ModbusEndpoint endpoint;
        RegisterMap map;
        try
        {
            endpoint = ModbusEndpoint.Parse(meter.Endpoint);
        }
        catch (FormatException e)
        {
            return TestReadResult.Invalid(new ConfigError("meters[].endpoint", e.Message));
        }

        try
        {
            map = RegisterMapCatalog.Resolve(meter.Map);
        }
        catch (Exception e) when (e is FormatException or RegisterMapException or FileNotFoundException or KeyNotFoundException or ArgumentException or IOException)
        {
            return TestReadResult.Invalid(new ConfigError("meters[].map", e.Message));
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TestTimeout);
        try
        {
            var options = new ModbusClientOptions { Timeout = TimeSpan.FromMilliseconds(meter.TimeoutMs), MaxRetries = 1 };
            await using var client = await ModbusClient.ConnectAsync(endpoint, options, timeout.Token).ConfigureAwait(false);
            var readings = await new MeterReader(client, (byte)meter.Unit, map).ReadAsync(timeout.Token).ConfigureAwait(false);
            return new TestReadResult(null, [.. readings.Select(r => new TestValue(r.Quantity, r.Value, r.Unit))]);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return NoAnswer(endpoint.ToString());
        }
        catch (Exception e) when (e is TimeoutException or ModbusException or ModbusFrameException or RegisterValueException
            or SocketException or IOException or UnauthorizedAccessException)
        {
            return ReadFailure(endpoint.ToString(), e);
        }
    }

    /// <summary>
    /// Reads a DLMS meter once through the poller's own code (<see cref="DlmsMeters"/>), with the settings exactly as a
    /// save would write and validate them, and the meter's own invocation counter; writes nothing.
    /// </summary>
    private async Task<TestReadResult> TestDlmsAsync(MeterSetup meter, CancellationToken cancellationToken)
    {
        var (candidate, errors, _) = Prepare(root => ApplyMeter(root, meter));
        if (candidate is null)
        {
            return TestReadResult.Invalid(errors[0]);
        }

        var options = candidate.Meters.Single(m => m.Id == meter.Id);
        var channel = new MeterChannel(options, DlmsQuantities.MapFor(options));
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TestTimeout);
        try
        {
            await using var source = new DlmsMeters([channel], candidate.DataDirectory, _time, _dlmsCounters);
            var read = (await source.ReadAllAsync(timeout.Token).ConfigureAwait(false))[0];
            if (read.Values is { } values)
            {
                return new TestReadResult(null, [.. values.Select(r => new TestValue(r.Quantity, r.Value, r.Unit))]);
            }

            return read.Cause is { } cause ? ReadFailure(options.Endpoint, cause) : TestReadResult.Failed("read_failed", read.Error ?? "no values", ("endpoint", options.Endpoint));
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return NoAnswer(options.Endpoint);
        }
    }

    private static TestReadResult NoAnswer(string endpoint) => TestReadResult.Failed("no_answer",
        $"{endpoint}: no answer within {TestTimeout.TotalSeconds:0} s", ("endpoint", endpoint), ("seconds", TestTimeout.TotalSeconds.ToString("0", System.Globalization.CultureInfo.InvariantCulture)));

    /// <summary>A failed read as one line and a stable code the page translates; never a secret (the client's messages carry none).</summary>
    private static TestReadResult ReadFailure(string endpoint, Exception e) => RefusedConnection(e) ? TestReadResult.Failed("refused", $"{endpoint}: {e.Message}", ("endpoint", endpoint)) : e switch
    {
        TimeoutException => TestReadResult.Failed("no_answer", $"{endpoint}: {e.Message}", ("endpoint", endpoint), ("seconds", "")),
        ModbusException m => TestReadResult.Failed("modbus_exception", $"{endpoint}: {e.Message}", ("endpoint", endpoint), ("code", ((int)m.Code).ToString(System.Globalization.CultureInfo.InvariantCulture))),
        ModbusFrameException or RegisterValueException => TestReadResult.Failed("bad_answer", $"{endpoint}: {e.Message}", ("endpoint", endpoint)),
        DlmsAssociationException => TestReadResult.Failed("dlms_refused",
            $"{endpoint}: the meter refused the association; check the client address, the authentication and its password or keys ({e.Message})", ("endpoint", endpoint)),
        DlmsDataAccessException => TestReadResult.Failed("dlms_denied", $"{endpoint}: {e.Message}", ("endpoint", endpoint)),
        DlmsException => TestReadResult.Failed("dlms_error", $"{endpoint}: {e.Message}", ("endpoint", endpoint)),
        UnauthorizedAccessException => TestReadResult.Failed("no_access", $"{endpoint}: {e.Message}", ("endpoint", endpoint)),
        _ => TestReadResult.Failed("unreachable", $"{endpoint}: {e.Message}", ("endpoint", endpoint)),
    };

    /// <summary>Whether a socket under <paramref name="e"/> (the transports wrap it in an <see cref="IOException"/>) was refused.</summary>
    private static bool RefusedConnection(Exception e)
    {
        for (Exception? inner = e; inner is not null; inner = inner.InnerException)
        {
            if (inner is SocketException { SocketErrorCode: SocketError.ConnectionRefused })
            {
                return true;
            }
        }

        return false;
    }

    /// <inheritdoc />
    public SetupOutcome SaveMeter(MeterSetup meter)
    {
        if (CheckMeter(meter) is { } problem)
        {
            return new SetupOutcome([problem]);
        }

        return Edit(root => ApplyMeter(root, meter), $"meter {meter.Id} saved");
    }

    /// <summary>Writes the page's meter into the file's JSON: only the keys the page edits; "record" and "clean" an installer wrote for a Modbus meter stay.</summary>
    private static void ApplyMeter(JsonObject root, MeterSetup meter)
    {
        var meters = ChildArray(root, "meters");
        JsonObject? entry = null;
        foreach (var node in meters)
        {
            if (node is JsonObject o && Get(o, "id")?.GetValueKind() == JsonValueKind.String && (string?)Get(o, "id") == meter.Id)
            {
                entry = o;
            }
        }

        if (entry is null)
        {
            entry = [];
            meters.Add((JsonNode)entry);
        }

        Set(entry, "id", meter.Id);
        Set(entry, "endpoint", meter.Endpoint);
        Set(entry, "source", meter.Source.ToString());
        Set(entry, "timeoutMs", meter.TimeoutMs);
        if (meter.Protocol != "dlms")
        {
            Remove(entry, "protocol");
            Remove(entry, "dlms");
            Set(entry, "unit", meter.Unit);
            Set(entry, "map", meter.Map);
            return;
        }

        var d = meter.Dlms ?? new DlmsSetup();
        Set(entry, "protocol", "dlms");
        Remove(entry, "unit");
        Remove(entry, "map");
        var dlms = ChildObject(entry, "dlms");
        Set(dlms, "transport", d.Transport);
        Set(dlms, "client", d.Client);
        Set(dlms, "server", d.Server);
        Set(dlms, "authentication", d.Auth);
        // An empty secret keeps the stored one (the page never gets it back); a level that needs none drops it.
        if (d.Auth == "low")
        {
            SetSecret(dlms, "password", d.Password);
        }
        else
        {
            Remove(dlms, "password");
        }

        if (d.Auth == "hls-gmac")
        {
            SetSecret(dlms, "blockCipherKey", d.BlockKey);
            SetSecret(dlms, "authenticationKey", d.AuthKey);
            SetSecret(dlms, "systemTitle", d.SystemTitle);
        }
        else
        {
            Remove(dlms, "blockCipherKey");
            Remove(dlms, "authenticationKey");
            Remove(dlms, "systemTitle");
        }

        // The page's register list is what is recorded; a register other than the quantity's usual one is kept as its override.
        var record = new JsonArray();
        var obis = new JsonObject();
        foreach (var text in d.Obis)
        {
            var code = ObisCode.Parse(text);
            var quantity = DlmsQuantities.QuantityFor(code)!;
            record.Add((JsonNode)JsonValue.Create(quantity));
            if (DlmsQuantities.Obis[quantity] != code.ToString())
            {
                obis[quantity] = code.ToString();
            }
        }

        Set(entry, "record", record);
        Set(dlms, "obis", obis);

        static void SetSecret(JsonObject o, string name, string? value)
        {
            if (!string.IsNullOrEmpty(value))
            {
                Set(o, name, value);
            }
        }
    }

    /// <inheritdoc />
    public SetupOutcome RemoveMeter(string id) => Edit(root =>
    {
        var meters = ChildArray(root, "meters");
        for (int i = meters.Count - 1; i >= 0; i--)
        {
            if (meters[i] is JsonObject o && Get(o, "id")?.GetValueKind() == JsonValueKind.String && (string?)Get(o, "id") == id)
            {
                meters.RemoveAt(i);
            }
        }
    }, $"meter {id} removed");

    /// <inheritdoc />
    public SetupOutcome SaveUplink(UplinkSetup uplink) => Edit(root =>
    {
        var mqtt = ChildObject(root, "mqtt");
        Set(mqtt, "broker", uplink.Broker.Trim());
        Set(mqtt, "username", string.IsNullOrEmpty(uplink.Username) ? null : uplink.Username);
        if (uplink.Password is not null)
        {
            Set(mqtt, "password", uplink.Password.Length == 0 ? null : uplink.Password);
        }

        Set(mqtt, "protocol", uplink.Protocol);
    }, "uplink saved");

    /// <inheritdoc />
    public SetupOutcome SaveUplinkFile(UplinkFileKind kind, string pem)
    {
        var key = kind switch { UplinkFileKind.Ca => "mqtt.caFile", UplinkFileKind.Certificate => "mqtt.certFile", _ => "mqtt.keyFile" };
        if (CheckPem(kind, pem) is { } problem)
        {
            return SetupOutcome.Fail(key, problem);
        }

        var directory = Path.Combine(Current.DataDirectory, "uplink");
        AtomicFile.CreateDirectory(directory, AtomicFile.OwnerOnlyDirectory);
        var caPath = Path.Combine(directory, "ca.pem");
        var certPath = Path.Combine(directory, "client.pem");
        var keyPath = Path.Combine(directory, "client.key");
        var target = kind switch { UplinkFileKind.Ca => caPath, UplinkFileKind.Certificate => certPath, _ => keyPath };
        try
        {
            AtomicFile.Write(target, System.Text.Encoding.ASCII.GetBytes(pem));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return SetupOutcome.Fail(key, $"could not be stored: {e.Message}");
        }

        if (kind != UplinkFileKind.Ca)
        {
            // Certificate and key go into the configuration together, once both are here and belong together.
            if (!File.Exists(certPath) || !File.Exists(keyPath))
            {
                LogFileStored(_logger, key);
                return SetupOutcome.Saved;
            }

            try
            {
                using var pair = X509Certificate2.CreateFromPemFile(certPath, keyPath);
            }
            catch (CryptographicException e)
            {
                return SetupOutcome.Fail(key, $"the client certificate and key do not belong together: {e.Message}");
            }
        }

        return Edit(root =>
        {
            var mqtt = ChildObject(root, "mqtt");
            if (kind == UplinkFileKind.Ca)
            {
                Set(mqtt, "caFile", caPath);
            }
            else
            {
                Set(mqtt, "certFile", certPath);
                Set(mqtt, "keyFile", keyPath);
            }
        }, $"{key} stored");
    }

    /// <inheritdoc />
    public async Task<TestReadResult> TestUplinkAsync(UplinkSetup uplink, CancellationToken cancellationToken)
    {
        var saved = Current.Mqtt;
        var options = new MqttOptions
        {
            Broker = uplink.Broker.Trim(),
            Username = string.IsNullOrEmpty(uplink.Username) ? null : uplink.Username,
            Password = uplink.Password ?? saved.Password,
            Protocol = uplink.Protocol,
            CaFile = saved.CaFile,
            CertFile = saved.CertFile,
            KeyFile = saved.KeyFile,
        };
        if (!Uri.TryCreate(options.Broker, UriKind.Absolute, out var broker) || broker.Scheme is not ("mqtt" or "mqtts") || string.IsNullOrEmpty(broker.Host))
        {
            return TestReadResult.Invalid(new ConfigError("mqtt.broker", $"must be mqtt://host:port or mqtts://host:port (got '{options.Broker}')"));
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TestTimeout);
        using var client = new MqttClientFactory().CreateMqttClient();
        try
        {
            var version = await MqttConnection.ConnectAsync(client, options, "edgemeter-test-" + Convert.ToHexStringLower(KernelRandom.GetBytes(4)),
                cleanStart: true, timeout.Token).ConfigureAwait(false);
            await client.DisconnectAsync(new MqttClientDisconnectOptions(), timeout.Token).ConfigureAwait(false);
            return new TestReadResult(null, [], version == MQTTnet.Formatter.MqttProtocolVersion.V500 ? "MQTT 5" : "MQTT 3.1.1");
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return NoAnswer(options.Broker);
        }
        catch (Exception e) when (e is MqttCommunicationException or IOException or SocketException or AuthenticationException
            or CryptographicException or InvalidOperationException)
        {
            return UplinkFailure(options.Broker, e);
        }
    }

    /// <summary>A failed broker connection as one line and a stable code: refused, bad credentials, TLS, unreachable.</summary>
    private static TestReadResult UplinkFailure(string broker, Exception e)
    {
        for (var inner = e; inner is not null; inner = inner.InnerException)
        {
            switch (inner)
            {
                // The result code is only in the message (as MqttConnection reads it too).
                case MqttConnectingFailedException when inner.Message.Contains(nameof(MqttClientConnectResultCode.BadUserNameOrPassword), StringComparison.Ordinal)
                    || inner.Message.Contains(nameof(MqttClientConnectResultCode.NotAuthorized), StringComparison.Ordinal):
                    return TestReadResult.Failed("mqtt_credentials", $"{broker}: {e.Message}", ("endpoint", broker));
                case MqttConnectingFailedException:
                    return TestReadResult.Failed("mqtt_refused", $"{broker}: {e.Message}", ("endpoint", broker));
                case AuthenticationException or CryptographicException:
                    return TestReadResult.Failed("tls", $"{broker}: {e.Message}", ("endpoint", broker));
                case SocketException { SocketErrorCode: SocketError.ConnectionRefused }:
                    return TestReadResult.Failed("refused", $"{broker}: {e.Message}", ("endpoint", broker));
                case TimeoutException or MqttCommunicationTimedOutException:
                    return TestReadResult.Failed("no_answer", $"{broker}: {e.Message}", ("endpoint", broker), ("seconds", ""));
            }
        }

        return TestReadResult.Failed("unreachable", $"{broker}: {e.Message}", ("endpoint", broker));
    }

    /// <inheritdoc />
    public SetupOutcome SaveTimeZone(string? zone) => Edit(root => Set(root, "timeZone", string.IsNullOrWhiteSpace(zone) ? null : zone.Trim()), "time zone saved");

    /// <inheritdoc />
    public SetupOutcome SavePublicSummary(bool enabled) => Edit(root => Set(ChildObject(root, "http"), "publicSummary", enabled), $"public summary {(enabled ? "on" : "off")}");

    /// <summary>Checks the page's own fields; the configuration rules run on save.</summary>
    private static ConfigError? CheckMeter(MeterSetup m)
    {
        if (m.Protocol is not ("modbus" or "dlms"))
        {
            return new ConfigError("meters[].protocol", $"must be modbus or dlms (got '{m.Protocol}')");
        }

        if (m.Protocol == "modbus")
        {
            return null;
        }

        var d = m.Dlms ?? new DlmsSetup();
        if (d.Transport is not ("wrapper" or "hdlc"))
        {
            return new ConfigError("meters[].dlms.transport", $"must be wrapper or hdlc (got '{d.Transport}')");
        }

        if (d.Client is < 1 or > 127)
        {
            return new ConfigError("meters[].dlms.client", $"must be 1..127 (got {d.Client})");
        }

        if (d.Server is < 1 or > 16383)
        {
            return new ConfigError("meters[].dlms.server", $"must be 1..16383 (got {d.Server})");
        }

        // An empty secret keeps the stored one; the file's own rules then say whether one is there.
        switch (d.Auth)
        {
            case "none" or "low":
                break;
            case "hls-gmac" when !string.IsNullOrEmpty(d.BlockKey) && !TextShapes.IsHex(d.BlockKey, 32):
                return new ConfigError("meters[].dlms.blockKey", "must be 32 hex digits");
            case "hls-gmac" when !string.IsNullOrEmpty(d.AuthKey) && !TextShapes.IsHex(d.AuthKey, 32):
                return new ConfigError("meters[].dlms.authKey", "must be 32 hex digits");
            case "hls-gmac" when !string.IsNullOrEmpty(d.SystemTitle) && !TextShapes.IsHex(d.SystemTitle, 16):
                return new ConfigError("meters[].dlms.systemTitle", "must be 16 hex digits");
            case "hls-gmac":
                break;
            default:
                return new ConfigError("meters[].dlms.auth", $"must be none, low or hls-gmac (got '{d.Auth}')");
        }

        if (d.Obis.Count == 0)
        {
            return new ConfigError("meters[].dlms.obis", "at least one OBIS code is required");
        }

        var quantities = new HashSet<string>(StringComparer.Ordinal);
        foreach (var obis in d.Obis)
        {
            if (!TextShapes.IsDottedObis(obis) || !ObisCode.TryParse(obis, out var code))
            {
                return new ConfigError("meters[].dlms.obis", $"'{obis}' is not an OBIS code (like 1.0.1.8.0.255)");
            }

            if (DlmsQuantities.QuantityFor(code) is not { } quantity)
            {
                return new ConfigError("meters[].dlms.obis", $"'{obis}' is not a register the agent records (one of {string.Join(", ", DlmsQuantities.KnownRegisters)})");
            }

            if (!quantities.Add(quantity))
            {
                return new ConfigError("meters[].dlms.obis", $"'{obis}' is a second register for {quantity}");
            }
        }

        return null;
    }

    private static string? CheckPem(UplinkFileKind kind, string pem)
    {
        if (!PemEncoding.TryFind(pem, out var fields))
        {
            return "not a PEM file";
        }

        var label = pem.AsSpan()[fields.Label];
        if (kind == UplinkFileKind.Key)
        {
            return label is "PRIVATE KEY" or "EC PRIVATE KEY" or "RSA PRIVATE KEY" ? null : $"expected a private key, got '{label}'";
        }

        if (!label.SequenceEqual("CERTIFICATE"))
        {
            return $"expected a certificate, got '{label}'";
        }

        try
        {
            using var cert = X509Certificate2.CreateFromPem(pem);
            return null;
        }
        catch (CryptographicException e)
        {
            return $"unreadable certificate: {e.Message}";
        }
    }

    /// <summary>Applies <paramref name="change"/> to the file's JSON, validates the result like at start, writes it atomically, announces it.</summary>
    private SetupOutcome Edit(Action<JsonObject> change, string what)
    {
        AgentOptions updated;
        lock (_gate)
        {
            var (candidate, errors, bytes) = Prepare(change);
            if (candidate is null)
            {
                return new SetupOutcome(errors);
            }

            var mode = File.Exists(_path) && !OperatingSystem.IsWindows() ? File.GetUnixFileMode(_path) : UnixFileMode.UserRead | UnixFileMode.UserWrite;
            try
            {
                AtomicFile.Write(_path, bytes, mode);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                return SetupOutcome.Fail("configuration", $"{_path}: cannot be written: {e.Message}");
            }

            _current = updated = candidate;
        }

        LogChanged(_logger, what, _path);
        Changed?.Invoke(updated);
        return SetupOutcome.Saved;
    }

    /// <summary>The file's JSON with <paramref name="change"/> applied, bound and validated exactly like the file at start; nothing is written.</summary>
    private (AgentOptions? Options, IReadOnlyList<ConfigError> Errors, byte[] Bytes) Prepare(Action<JsonObject> change)
    {
        JsonObject root;
        try
        {
            root = File.Exists(_path)
                ? JsonNode.Parse(File.ReadAllBytes(_path), documentOptions: new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true }) as JsonObject ?? []
                : [];
        }
        catch (Exception e) when (e is JsonException or IOException or UnauthorizedAccessException)
        {
            return (null, [new ConfigError("configuration", $"{_path}: cannot be read: {e.Message}")], []);
        }

        change(root);
        var bytes = JsonSerializer.SerializeToUtf8Bytes(root, SetupJsonContext.Default.JsonObject);
        try
        {
            return (ConfigLoader.Load(ConfigLoader.BuildFromJson(bytes), "", _requireMeters, _checkEndpoint, Hosting.RegisterMaps.Check), [], bytes);
        }
        catch (ConfigException e)
        {
            var message = e.Message.StartsWith(": ", StringComparison.Ordinal) ? e.Message[2..] : e.Message;
            int colon = message.IndexOf(": ", StringComparison.Ordinal);
            return (null, [colon > 0 ? new ConfigError(message[..colon], message[(colon + 2)..]) : new ConfigError("configuration", message)], bytes);
        }
    }

    /// <summary>The property of that name, matched case-insensitively like the configuration binder does.</summary>
    private static JsonNode? Get(JsonObject o, string name)
    {
        foreach (var (key, value) in o)
        {
            if (key.Equals(name, StringComparison.OrdinalIgnoreCase))
            {
                return value;
            }
        }

        return null;
    }

    private static void Set(JsonObject o, string name, JsonNode? value)
    {
        string key = name;
        foreach (var (existing, _) in o)
        {
            if (existing.Equals(name, StringComparison.OrdinalIgnoreCase))
            {
                key = existing;
            }
        }

        o[key] = value;
    }

    private static void Remove(JsonObject o, string name)
    {
        foreach (var (existing, _) in o.ToList())
        {
            if (existing.Equals(name, StringComparison.OrdinalIgnoreCase))
            {
                o.Remove(existing);
            }
        }
    }

    private static JsonObject ChildObject(JsonObject o, string name)
    {
        if (Get(o, name) is JsonObject existing)
        {
            return existing;
        }

        var created = new JsonObject();
        Set(o, name, created);
        return created;
    }

    private static JsonArray ChildArray(JsonObject o, string name)
    {
        if (Get(o, name) is JsonArray existing)
        {
            return existing;
        }

        var created = new JsonArray();
        Set(o, name, created);
        return created;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Setup: {What}, written to {Path}")]
    private static partial void LogChanged(ILogger logger, string what, string path);

    [LoggerMessage(Level = LogLevel.Information, Message = "Setup: {Key} stored, waiting for its other half")]
    private static partial void LogFileStored(ILogger logger, string key);
}

/// <summary>Source-generated JSON for writing the configuration's DOM.</summary>
[System.Text.Json.Serialization.JsonSourceGenerationOptions(WriteIndented = true)]
[System.Text.Json.Serialization.JsonSerializable(typeof(JsonObject))]
internal sealed partial class SetupJsonContext : System.Text.Json.Serialization.JsonSerializerContext;
