using System.Globalization;
using System.IO.Ports;

namespace EdgeMeter.Protocols.Modbus;

/// <summary>How to reach a Modbus bus.</summary>
public enum ModbusTransportKind
{
    /// <summary><c>tcp://host:port</c>: Modbus TCP (MBAP).</summary>
    Tcp,
    /// <summary><c>rtu+tcp://host:port</c>: RTU frames through a TCP serial gateway.</summary>
    RtuOverTcp,
    /// <summary><c>serial:///dev/ttyUSB0?baud=9600&amp;parity=N&amp;stop=1</c>: RTU on a local serial line.</summary>
    Serial,
}

/// <summary>
/// Where a bus is: parsed from a URI such as <c>tcp://10.0.0.5:502</c>, <c>rtu+tcp://gw:4001</c> or
/// <c>serial:///dev/ttyUSB0?baud=9600&amp;parity=N&amp;stop=1</c>. Serial defaults follow the Modbus serial-line spec:
/// 19200 baud, even parity, one stop bit, 8 data bits.
/// </summary>
public sealed record ModbusEndpoint
{
    /// <summary>Port used when a TCP URI names none.</summary>
    public const int DefaultTcpPort = 502;

    private ModbusEndpoint(ModbusTransportKind kind) => Kind = kind;

    /// <summary>The transport.</summary>
    public ModbusTransportKind Kind { get; }

    /// <summary>Host name or address (TCP kinds).</summary>
    public string Host { get; private init; } = "";

    /// <summary>TCP port (TCP kinds).</summary>
    public int Port { get; private init; }

    /// <summary>Device path, e.g. <c>/dev/ttyUSB0</c> (serial).</summary>
    public string SerialPath { get; private init; } = "";

    /// <summary>Line speed (serial).</summary>
    public int BaudRate { get; private init; } = 19200;

    /// <summary>Parity (serial).</summary>
    public Parity Parity { get; private init; } = Parity.Even;

    /// <summary>Stop bits (serial).</summary>
    public StopBits StopBits { get; private init; } = StopBits.One;

    /// <summary>Data bits (serial); RTU needs 8.</summary>
    public int DataBits { get; private init; } = 8;

    /// <summary>The framing this endpoint implies.</summary>
    public ModbusFraming Framing => Kind == ModbusTransportKind.Tcp ? ModbusFraming.Tcp : ModbusFraming.Rtu;

    /// <summary>A TCP endpoint.</summary>
    public static ModbusEndpoint Tcp(string host, int port, bool rtuOverTcp = false)
    {
        ArgumentException.ThrowIfNullOrEmpty(host);
        ArgumentOutOfRangeException.ThrowIfLessThan(port, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(port, 65535);
        return new ModbusEndpoint(rtuOverTcp ? ModbusTransportKind.RtuOverTcp : ModbusTransportKind.Tcp) { Host = host, Port = port };
    }

    /// <summary>A serial endpoint.</summary>
    public static ModbusEndpoint Serial(string path, int baudRate = 19200, Parity parity = Parity.Even, StopBits stopBits = StopBits.One)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(baudRate);
        return new ModbusEndpoint(ModbusTransportKind.Serial) { SerialPath = path, BaudRate = baudRate, Parity = parity, StopBits = stopBits };
    }

    /// <summary>Parses an endpoint URI; throws <see cref="FormatException"/> saying what is wrong.</summary>
    public static ModbusEndpoint Parse(string uri)
    {
        if (string.IsNullOrWhiteSpace(uri))
        {
            throw new FormatException("endpoint is empty; expected tcp://HOST:PORT, rtu+tcp://HOST:PORT or serial:///dev/ttyX?baud=9600");
        }

        int schemeEnd = uri.IndexOf("://", StringComparison.Ordinal);
        if (schemeEnd <= 0)
        {
            throw new FormatException($"endpoint '{uri}' has no scheme; expected tcp://, rtu+tcp:// or serial://");
        }

        string scheme = uri[..schemeEnd].ToLowerInvariant();
        string rest = uri[(schemeEnd + 3)..];
        return scheme switch
        {
            "tcp" => ParseTcp(uri, rest, rtu: false),
            "rtu+tcp" or "rtu-over-tcp" => ParseTcp(uri, rest, rtu: true),
            "serial" or "rtu" => ParseSerial(uri, rest),
            _ => throw new FormatException($"endpoint '{uri}': unknown scheme '{scheme}'; expected tcp, rtu+tcp or serial"),
        };
    }

    /// <summary>Parses an endpoint URI without throwing.</summary>
    public static bool TryParse(string uri, out ModbusEndpoint? endpoint)
    {
        try
        {
            endpoint = Parse(uri);
            return true;
        }
        catch (FormatException)
        {
            endpoint = null;
            return false;
        }
    }

    /// <summary>The canonical URI.</summary>
    public override string ToString()
    {
        string host = Host.Contains(':', StringComparison.Ordinal) ? $"[{Host}]" : Host;
        return Kind switch
        {
            ModbusTransportKind.Tcp => $"tcp://{host}:{Port}",
            ModbusTransportKind.RtuOverTcp => $"rtu+tcp://{host}:{Port}",
            _ => string.Create(CultureInfo.InvariantCulture,
                $"serial://{SerialPath}?baud={BaudRate}&parity={ParityLetter(Parity)}&stop={(StopBits == StopBits.Two ? 2 : 1)}"),
        };
    }

    private static ModbusEndpoint ParseTcp(string uri, string rest, bool rtu)
    {
        rest = rest.TrimEnd('/');
        if (rest.Length == 0)
        {
            throw new FormatException($"endpoint '{uri}' has no host");
        }

        string host;
        string? portText = null;
        if (rest[0] == '[')
        {
            int close = rest.IndexOf(']', StringComparison.Ordinal);
            if (close < 0)
            {
                throw new FormatException($"endpoint '{uri}': unterminated IPv6 address");
            }

            host = rest[1..close];
            if (close + 1 < rest.Length)
            {
                if (rest[close + 1] != ':')
                {
                    throw new FormatException($"endpoint '{uri}': expected ':' after the IPv6 address");
                }

                portText = rest[(close + 2)..];
            }
        }
        else
        {
            int colon = rest.LastIndexOf(':');
            host = colon < 0 ? rest : rest[..colon];
            portText = colon < 0 ? null : rest[(colon + 1)..];
        }

        if (host.Length == 0 || host.Contains('/', StringComparison.Ordinal) || host.Contains('?', StringComparison.Ordinal))
        {
            throw new FormatException($"endpoint '{uri}': bad host '{host}'");
        }

        int port = DefaultTcpPort;
        if (portText is not null && (!int.TryParse(portText, NumberStyles.None, CultureInfo.InvariantCulture, out port) || port is < 1 or > 65535))
        {
            throw new FormatException($"endpoint '{uri}': port '{portText}' is not a number in 1..65535");
        }

        return Tcp(host, port, rtu);
    }

    private static ModbusEndpoint ParseSerial(string uri, string rest)
    {
        int q = rest.IndexOf('?', StringComparison.Ordinal);
        string path = q < 0 ? rest : rest[..q];
        if (path.Length == 0)
        {
            throw new FormatException($"endpoint '{uri}' has no device path, e.g. serial:///dev/ttyUSB0?baud=9600");
        }

        int baud = 19200;
        var parity = Parity.Even;
        var stop = StopBits.One;
        int dataBits = 8;
        if (q >= 0)
        {
            foreach (string pair in rest[(q + 1)..].Split('&', StringSplitOptions.RemoveEmptyEntries))
            {
                int eq = pair.IndexOf('=', StringComparison.Ordinal);
                string key = (eq < 0 ? pair : pair[..eq]).ToLowerInvariant();
                string value = eq < 0 ? "" : pair[(eq + 1)..];
                switch (key)
                {
                    case "baud":
                        if (!int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out baud) || baud is < 50 or > 4_000_000)
                        {
                            throw new FormatException($"endpoint '{uri}': baud '{value}' is not a rate in 50..4000000");
                        }

                        break;
                    case "parity":
                        parity = value.ToUpperInvariant() switch
                        {
                            "N" or "NONE" => Parity.None,
                            "E" or "EVEN" => Parity.Even,
                            "O" or "ODD" => Parity.Odd,
                            _ => throw new FormatException($"endpoint '{uri}': parity '{value}' must be N, E or O"),
                        };
                        break;
                    case "stop":
                        stop = value switch
                        {
                            "1" => StopBits.One,
                            "2" => StopBits.Two,
                            _ => throw new FormatException($"endpoint '{uri}': stop '{value}' must be 1 or 2"),
                        };
                        break;
                    case "data":
                        if (value is not ("7" or "8"))
                        {
                            throw new FormatException($"endpoint '{uri}': data '{value}' must be 7 or 8");
                        }

                        dataBits = value[0] - '0';
                        break;
                    default:
                        throw new FormatException($"endpoint '{uri}': unknown setting '{key}' (known: baud, parity, stop, data)");
                }
            }
        }

        return new ModbusEndpoint(ModbusTransportKind.Serial)
        {
            SerialPath = path, BaudRate = baud, Parity = parity, StopBits = stop, DataBits = dataBits,
        };
    }

    private static char ParityLetter(Parity parity) => parity switch
    {
        Parity.None => 'N',
        Parity.Odd => 'O',
        _ => 'E',
    };
}
