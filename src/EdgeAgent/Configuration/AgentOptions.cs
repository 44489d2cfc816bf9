using EdgeMeter.Crypto.Records;

namespace EdgeMeter.Agent.Configuration;

/// <summary>
/// The agent's configuration, bound from <c>/etc/edgemeter/edgemeter.json</c> (or <c>--config FILE</c>) and
/// <c>EDGEMETER_</c> environment variables (<c>EDGEMETER_Mqtt__Broker</c>), validated once at start by
/// <see cref="AgentOptionsValidator"/>. Property names are the JSON keys (case-insensitive).
/// </summary>
internal sealed class AgentOptions
{
    public const string DefaultDataDirectory = "/var/lib/edgemeter";

    /// <summary>Everything the agent writes lives below this folder: key, database, pairing state.</summary>
    public string DataDirectory { get; set; } = DefaultDataDirectory;

    /// <summary>The EVM chain id the EIP-712 domain names.</summary>
    public ulong ChainId { get; set; } = 31337;

    /// <summary>Seconds between two polls of every meter.</summary>
    public double PollIntervalSeconds { get; set; } = 1;

    public List<MeterOptions> Meters { get; set; } = [];

    public MqttOptions Mqtt { get; set; } = new();

    public HttpOptions Http { get; set; } = new();

    public DisplayOptions Display { get; set; } = new();

    public ButtonOptions Button { get; set; } = new();

    public RtcOptions Rtc { get; set; } = new();

    public StorageOptions Storage { get; set; } = new();

    public FactorsOptions Factors { get; set; } = new();

    /// <summary>IANA time zone the local page shows times in (<c>Europe/Berlin</c>); empty: the gateway's own.</summary>
    public string? TimeZone { get; set; }
}

internal sealed class FactorsOptions
{
    /// <summary>Length of a consumption interval in minutes; must divide a day.</summary>
    public int IntervalMinutes { get; set; } = 15;

    /// <summary>Also send the month's provisional claim every this many seconds; 0: only at month end.</summary>
    public int ClaimEverySeconds { get; set; }

    /// <summary>Count the interval in progress in provisional figures and claims (for demonstrations with short intervals).</summary>
    public bool IncludeCurrentInterval { get; set; }
}

/// <summary>One meter on a bus.</summary>
internal sealed class MeterOptions
{
    /// <summary>Installer label or serial number; part of every signed record.</summary>
    public string Id { get; set; } = "";

    /// <summary><c>tcp://host:502</c>, <c>rtu+tcp://host:4001</c> or <c>serial:///dev/ttyUSB0?baud=9600&amp;parity=N&amp;stop=1</c>.</summary>
    public string Endpoint { get; set; } = "";

    /// <summary>Modbus unit (slave) id, 1..247.</summary>
    public int Unit { get; set; } = 1;

    /// <summary>A shipped register map name (<c>eastron-sdm630</c>) or a path to a map file.</summary>
    public string Map { get; set; } = "";

    /// <summary>The channel's energy source.</summary>
    public EnergySource Source { get; set; } = EnergySource.GridImport;

    /// <summary>Whether the channel counts as clean energy; defaults from the source (PV and wind are clean).</summary>
    public bool? Clean { get; set; }

    /// <summary>Quantities of the map that are signed and sent; empty means the default set (energies and total power).</summary>
    public List<string> Record { get; set; } = [];

    public int TimeoutMs { get; set; } = 1000;
}

internal sealed class MqttOptions
{
    /// <summary><c>mqtt://host:1883</c> or <c>mqtts://host:8883</c>; empty disables the uplink (readings queue on disk).</summary>
    public string Broker { get; set; } = "";

    public string? Username { get; set; }

    public string? Password { get; set; }

    /// <summary>CA certificate (PEM) the broker's certificate must chain to; empty: the system store.</summary>
    public string? CaFile { get; set; }

    /// <summary>Client certificate and key (PEM) for mutual TLS.</summary>
    public string? CertFile { get; set; }

    public string? KeyFile { get; set; }

    /// <summary>MQTT protocol: 5 (default) or 3.1.1 (<c>"311"</c>).</summary>
    public string Protocol { get; set; } = "5";

    /// <summary>Records per transaction at most.</summary>
    public int BatchMaxRecords { get; set; } = 500;

    /// <summary>How long a live record may wait for its transaction to fill.</summary>
    public int BatchMaxDelayMs { get; set; } = 1000;

    /// <summary>Transactions sent and not yet receipted at once.</summary>
    public int MaxInFlight { get; set; } = 16;
}

internal sealed class HttpOptions
{
    /// <summary>Where the local page listens; empty disables it.</summary>
    public string Url { get; set; } = "http://127.0.0.1:8080";

    /// <summary>Host names a LAN binding answers to besides its addresses, host name and <c>hostname.local</c>.</summary>
    public List<string> AllowedHosts { get; set; } = [];

    /// <summary>Whether visitors without a session see a read-only summary (power, clean share, balance).</summary>
    public bool PublicSummary { get; set; }
}

internal sealed class DisplayOptions
{
    public int I2cBus { get; set; } = 1;

    /// <summary>PCF8574 backpack address: 0x27 (39) or 0x3F (63) on most modules.</summary>
    public int Address { get; set; } = 0x27;

    public int Columns { get; set; } = 16;

    public int Rows { get; set; } = 2;

    /// <summary>PCF8574 port bits of the LCD signals; the usual backpack wiring by default.</summary>
    public BackpackPinOptions Pins { get; set; } = new();

    /// <summary>The backlight goes off this long after the last button press; 0: always on.</summary>
    public int BacklightSeconds { get; set; } = 300;

    /// <summary>Also write every byte sent to the LCD to this file (<c>--lcd trace:FILE</c>); empty: no trace.</summary>
    public string? Trace { get; set; }
}

internal sealed class StorageOptions
{
    /// <summary>Below this many free megabytes confirmed records are pruned, and an alarm is raised if that is not enough.</summary>
    public int MinFreeMegabytes { get; set; } = 64;

    /// <summary>
    /// Readings are signed and committed together at most this often (0: every poll cycle). Each commit costs tens of
    /// kilobytes of SD-card writes; 15 s keeps a 1 Hz gateway near 1 KB per reading. A power cut loses at most this
    /// much of not-yet-signed readings.
    /// </summary>
    public double CommitIntervalSeconds { get; set; } = 15;

    /// <summary>Days confirmed records are kept for <c>export</c> before pruning.</summary>
    public int RetainConfirmedDays { get; set; } = 90;
}
