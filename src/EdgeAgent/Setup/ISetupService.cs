using EdgeMeter.Agent.Configuration;
using EdgeMeter.Crypto.Records;

namespace EdgeMeter.Agent.Setup;

/// <summary>
/// Everything the owner may change from the local page. Every change is validated with the configuration file's own
/// rules (<see cref="AgentOptionsValidator"/>), written atomically into the configuration file and applied without
/// a restart (<see cref="Changed"/>). Secrets (the broker password, keys) are written, never read back.
/// </summary>
internal interface ISetupService
{
    /// <summary>The options in force (the file plus <c>EDGEMETER_</c> variables).</summary>
    AgentOptions Current { get; }

    /// <summary>Raised after a change is on disk, with the new options.</summary>
    event Action<AgentOptions>? Changed;

    /// <summary>Serial ports the gateway has, for a meter on RS-485.</summary>
    IReadOnlyList<string> SerialPorts();

    /// <summary>The register maps shipped with the agent.</summary>
    IReadOnlyList<string> RegisterMaps();

    /// <summary>Reads the meter once with these settings, without saving anything.</summary>
    Task<TestReadResult> TestReadAsync(MeterSetup meter, CancellationToken cancellationToken);

    /// <summary>Adds the meter, or replaces the one with the same id.</summary>
    SetupOutcome SaveMeter(MeterSetup meter);

    /// <summary>Removes the meter with this id.</summary>
    SetupOutcome RemoveMeter(string id);

    /// <summary>Sets the broker URL, user name, protocol and (when not null) the password.</summary>
    SetupOutcome SaveUplink(UplinkSetup uplink);

    /// <summary>Stores an uploaded PEM file (CA, client certificate or client key) and points the configuration at it.</summary>
    SetupOutcome SaveUplinkFile(UplinkFileKind kind, string pem);

    /// <summary>Connects to the broker with these settings (and the stored certificates), then disconnects.</summary>
    Task<TestReadResult> TestUplinkAsync(UplinkSetup uplink, CancellationToken cancellationToken);

    /// <summary>Sets the IANA time zone the page shows local times in; empty for the gateway's own.</summary>
    SetupOutcome SaveTimeZone(string? zone);

    /// <summary>Turns the read-only summary for visitors without a session on or off.</summary>
    SetupOutcome SavePublicSummary(bool enabled);
}

/// <summary>A meter as the setup page describes it.</summary>
internal sealed record MeterSetup
{
    /// <summary>Installer label or serial number.</summary>
    public required string Id { get; init; }

    /// <summary><c>modbus</c> or <c>dlms</c>.</summary>
    public string Protocol { get; init; } = "modbus";

    /// <summary>The Modbus (or DLMS) endpoint URI.</summary>
    public string Endpoint { get; init; } = "";

    /// <summary>Modbus unit id.</summary>
    public int Unit { get; init; } = 1;

    /// <summary>Register map name.</summary>
    public string Map { get; init; } = "";

    /// <summary>The channel's energy source.</summary>
    public EnergySource Source { get; init; } = EnergySource.GridImport;

    /// <summary>Response timeout.</summary>
    public int TimeoutMs { get; init; } = 1000;

    /// <summary>The DLMS association settings, for <c>protocol: dlms</c>.</summary>
    public DlmsSetup? Dlms { get; init; }
}

/// <summary>
/// A DLMS/COSEM association, with the fields of <c>edgemeter read dlms</c>: transport, client and server address,
/// authentication and its secrets, the OBIS codes to read.
/// </summary>
internal sealed record DlmsSetup
{
    /// <summary><c>wrapper</c> (TCP) or <c>hdlc</c>.</summary>
    public string Transport { get; init; } = "wrapper";

    /// <summary>Client SAP: 16 public client, 1 management.</summary>
    public int Client { get; init; } = 16;

    /// <summary>Server (logical device) address.</summary>
    public int Server { get; init; } = 1;

    /// <summary><c>none</c>, <c>low</c> or <c>hls-gmac</c>.</summary>
    public string Auth { get; init; } = "none";

    /// <summary>Low-level security password.</summary>
    public string? Password { get; init; }

    /// <summary>HLS-GMAC block cipher key, 32 hex digits.</summary>
    public string? BlockKey { get; init; }

    /// <summary>HLS-GMAC authentication key, 32 hex digits.</summary>
    public string? AuthKey { get; init; }

    /// <summary>Our system title, 16 hex digits.</summary>
    public string? SystemTitle { get; init; }

    /// <summary>OBIS codes to read, <c>1.0.1.8.0.255</c> with an optional <c>:attribute</c>.</summary>
    public IReadOnlyList<string> Obis { get; init; } = [];
}

/// <summary>Uplink settings from the page; a null password keeps the stored one.</summary>
internal sealed record UplinkSetup(string Broker, string? Username, string? Password, string Protocol);

/// <summary>The uploaded file kinds.</summary>
internal enum UplinkFileKind
{
    /// <summary>The CA the broker's certificate must chain to.</summary>
    Ca,
    /// <summary>The gateway's client certificate.</summary>
    Certificate,
    /// <summary>The client certificate's private key.</summary>
    Key,
}

/// <summary>The problems of a change; none means it was written and applied.</summary>
internal sealed record SetupOutcome(IReadOnlyList<ConfigError> Errors)
{
    public static readonly SetupOutcome Saved = new([]);

    public bool Ok => Errors.Count == 0;

    public static SetupOutcome Fail(string key, string reason) => new([new ConfigError(key, reason)]);
}

/// <summary>One value of a test read.</summary>
internal sealed record TestValue(string Quantity, decimal Value, string Unit);

/// <summary>
/// A test's values (and what it found, such as the protocol version), or the one error that stopped it: one English
/// line, and a stable <see cref="Code"/> with its <see cref="Args"/> (endpoint, key, numbers) that the page shows in
/// the reader's language.
/// </summary>
internal sealed record TestReadResult(string? Error, IReadOnlyList<TestValue> Values, string? Detail = null)
{
    public bool Ok => Error is null;

    /// <summary>What went wrong, for the page's translations: <c>no_answer</c>, <c>refused</c>, <c>dlms_refused</c>, a configuration rule's code, ...</summary>
    public string? Code { get; init; }

    /// <summary>The values the message names (never a secret).</summary>
    public IReadOnlyList<KeyValuePair<string, string>> Args { get; init; } = [];

    public static TestReadResult Failed(string code, string error, params (string Name, string Value)[] args) =>
        new(error, []) { Code = code, Args = [.. args.Select(a => KeyValuePair.Create(a.Name, a.Value))] };

    /// <summary>The settings break a configuration rule: the rule's code, with the key.</summary>
    public static TestReadResult Invalid(ConfigError error)
    {
        var (code, args) = ConfigErrorCodes.Classify(error);
        return new(error.ToString(), []) { Code = code, Args = [KeyValuePair.Create("key", error.Key), .. args] };
    }
}
