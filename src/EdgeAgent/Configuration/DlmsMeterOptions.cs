using EdgeMeter.Crypto.Entropy;
using System.Globalization;
using EdgeMeter.Protocols.Dlms;

namespace EdgeMeter.Agent.Configuration;

/// <summary>
/// The association with a DLMS/COSEM meter (<c>"protocol": "dlms"</c>). Secrets come from the file or from
/// <c>EDGEMETER_Meters__N__Dlms__Password</c> and friends; validation messages never repeat them.
/// </summary>
internal sealed class DlmsMeterOptions
{
    /// <summary><c>wrapper</c> (default on tcp://) or <c>hdlc</c> (default on serial://, or HDLC tunnelled over TCP).</summary>
    public string? Transport { get; set; }

    /// <summary>Client address: 16 public, 17 reading with a password, 1 management (HLS).</summary>
    public int Client { get; set; } = 16;

    /// <summary>Server logical address (upper HDLC address).</summary>
    public int Server { get; set; } = 1;

    /// <summary>HDLC physical (lower) address, when the bus has several meters.</summary>
    public int? PhysicalAddress { get; set; }

    /// <summary><c>none</c>, <c>low</c> or <c>hls-gmac</c>.</summary>
    public string Authentication { get; set; } = "none";

    public string? Password { get; set; }

    /// <summary>EK, 32 hex digits.</summary>
    public string? BlockCipherKey { get; set; }

    /// <summary>AK, 32 hex digits.</summary>
    public string? AuthenticationKey { get; set; }

    /// <summary>Our system title, 16 hex digits.</summary>
    public string? SystemTitle { get; set; }

    /// <summary>
    /// The meter's load profile (a Profile Generic whose rows capture the clock and the energy registers), e.g.
    /// <c>1.0.99.1.0.255</c>. When set, the agent reads its rows since the last one it signed, at start and once a day,
    /// so that an outage of the gateway leaves no hole in the energy series. Null: no read-back.
    /// </summary>
    public string? LoadProfile { get; set; }

    /// <summary>OBIS code per recorded quantity, overriding <see cref="DlmsQuantities.Obis"/>.</summary>
    public Dictionary<string, string> Obis { get; set; } = [];

    public static bool IsDlms(MeterOptions meter) => string.Equals(meter.Protocol, "dlms", StringComparison.OrdinalIgnoreCase);

    /// <summary>Problems as (key suffix, reason); never echoes a password or key.</summary>
    public IEnumerable<(string Key, string Reason)> Validate(string endpoint)
    {
        if (!string.IsNullOrWhiteSpace(endpoint))
        {
            string? error = null;
            try
            {
                DlmsEndpoint.Parse(endpoint);
            }
            catch (FormatException e)
            {
                error = e.Message;
            }

            if (error is not null)
                yield return ("endpoint", error);
        }

        if (Transport is not (null or "wrapper" or "hdlc"))
            yield return ("dlms.transport", $"must be \"wrapper\" or \"hdlc\" (got '{Transport}')");
        if (Client is < 1 or > 127)
            yield return ("dlms.client", $"must be 1..127 (got {Client})");
        if (Server is < 1 or > 0x3FFF)
            yield return ("dlms.server", $"must be 1..16383 (got {Server})");
        if (PhysicalAddress is < 0 or > 0x3FFF)
            yield return ("dlms.physicalAddress", $"must be 0..16383 (got {PhysicalAddress})");
        switch (Authentication)
        {
            case "none":
                break;
            case "low":
                if (string.IsNullOrEmpty(Password))
                    yield return ("dlms.password", "is required for low authentication");
                break;
            case "hls-gmac":
                if (!IsHex(BlockCipherKey, 16))
                    yield return ("dlms.blockCipherKey", "must be 32 hex digits for hls-gmac");
                if (!IsHex(AuthenticationKey, 16))
                    yield return ("dlms.authenticationKey", "must be 32 hex digits for hls-gmac");
                if (!IsHex(SystemTitle, 8))
                    yield return ("dlms.systemTitle", "must be 16 hex digits for hls-gmac");
                break;
            default:
                yield return ("dlms.authentication", $"must be none, low or hls-gmac (got '{Authentication}')");
                break;
        }

        if (LoadProfile is not null && !ObisCode.TryParse(LoadProfile, out _))
            yield return ("dlms.loadProfile", $"'{LoadProfile}' is not an OBIS code");

        foreach (var (quantity, obis) in Obis)
        {
            if (!ObisCode.TryParse(obis, out _))
                yield return ($"dlms.obis.{quantity}", $"'{obis}' is not an OBIS code");
        }
    }

    public DlmsClientSettings ToClientSettings(IInvocationCounterStore? counters, uint? lastServerCounter) => Authentication switch
    {
        "low" => new DlmsClientSettings { ClientAddress = (ushort)Client, Authentication = DlmsAuthentication.Low, Password = System.Text.Encoding.UTF8.GetBytes(Password!) },
        "hls-gmac" => new DlmsClientSettings
        {
            ClientAddress = (ushort)Client,
            Authentication = DlmsAuthentication.HlsGmac,
            BlockCipherKey = Convert.FromHexString(BlockCipherKey!),
            AuthenticationKey = Convert.FromHexString(AuthenticationKey!),
            ClientSystemTitle = Convert.FromHexString(SystemTitle!),
            InvocationCounters = counters,
            LastServerInvocationCounter = lastServerCounter,
            ChallengeFactory = () => KernelRandom.GetBytes(16),
        },
        _ => new DlmsClientSettings { ClientAddress = (ushort)Client },
    };

    private static bool IsHex(string? text, int bytes) =>
        text is not null && text.Length == bytes * 2 && text.All(char.IsAsciiHexDigit);
}

/// <summary>The recorded quantities of a DLMS meter and the OBIS registers they are read from.</summary>
internal static class DlmsQuantities
{
    public static readonly IReadOnlyDictionary<string, string> Obis = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["import_active_energy"] = "1.0.1.8.0.255",
        ["export_active_energy"] = "1.0.2.8.0.255",
        ["active_power"] = "1.0.1.7.0.255",
        ["voltage_l1"] = "1.0.32.7.0.255",
        ["current_l1"] = "1.0.31.7.0.255",
        ["frequency"] = "1.0.14.7.0.255",
    };

    /// <summary>A register map that only names the quantities, so a DLMS meter fits the same pipeline as a Modbus one.</summary>
    public static EdgeMeter.Protocols.Modbus.RegisterMap MapFor(MeterOptions meter) => new()
    {
        Name = "dlms",
        MaxRegistersPerRequest = 1,
        Registers = [.. Obis.Keys.Select(q => new EdgeMeter.Protocols.Modbus.RegisterDefinition
        {
            Quantity = q,
            Address = 0,
            Function = EdgeMeter.Protocols.Modbus.ModbusFunction.ReadHoldingRegisters,
            Type = EdgeMeter.Protocols.Modbus.RegisterDataType.Int64,
            Unit = "",
            Obis = ObisCode.TryParse(ObisOf(meter, q), out var code) ? code.ToReducedId() : ObisOf(meter, q),
            Scaler = 0,
        })],
    };

    /// <summary>Other registers that carry a quantity: 1.0.16.7.0.255 is the net active power (import minus export).</summary>
    private static readonly IReadOnlyDictionary<string, string> Aliases = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["1.0.16.7.0.255"] = "active_power",
    };

    /// <summary>The quantity a register is recorded as, or null when the agent records no quantity from it.</summary>
    public static string? QuantityFor(ObisCode code)
    {
        var text = code.ToString();
        foreach (var (quantity, obis) in Obis)
        {
            if (obis == text)
                return quantity;
        }

        return Aliases.GetValueOrDefault(text);
    }

    /// <summary>Every register the agent records a quantity from, for messages.</summary>
    public static IEnumerable<string> KnownRegisters => Obis.Values.Concat(Aliases.Keys);

    public static string ObisOf(MeterOptions meter, string quantity) =>
        meter.Dlms.Obis.GetValueOrDefault(quantity) ?? Obis.GetValueOrDefault(quantity) ?? throw new KeyNotFoundException(quantity);

    public static string Describe(int value) => value.ToString(CultureInfo.InvariantCulture);
}
