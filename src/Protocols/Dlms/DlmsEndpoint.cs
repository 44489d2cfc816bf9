using System.Globalization;
using System.IO.Ports;
using EdgeMeter.Protocols.Transport;

namespace EdgeMeter.Protocols.Dlms;

/// <summary>The link framing below the APDUs.</summary>
public enum DlmsFraming
{
    /// <summary>The TCP wrapper (IEC 62056-47).</summary>
    Wrapper,
    /// <summary>HDLC (IEC 62056-46), on a serial line or tunnelled over TCP.</summary>
    Hdlc,
}

/// <summary>
/// Where a DLMS server is: <c>tcp://HOST:PORT</c> (port 4059 when none is given) or
/// <c>serial:///dev/ttyUSB0?baud=9600&amp;parity=N</c> (optical probes and RS-485 meters: 9600 8N1 by default).
/// </summary>
public sealed record DlmsEndpoint
{
    /// <summary>The IANA port of DLMS/COSEM over TCP.</summary>
    public const int DefaultTcpPort = 4059;

    /// <summary>Host (TCP), empty for serial.</summary>
    public string Host { get; private init; } = "";

    /// <summary>Port (TCP).</summary>
    public int Port { get; private init; }

    /// <summary>Device path (serial), empty for TCP.</summary>
    public string SerialPath { get; private init; } = "";

    /// <summary>Line speed (serial).</summary>
    public int BaudRate { get; private init; } = 9600;

    /// <summary>Parity (serial).</summary>
    public Parity Parity { get; private init; } = Parity.None;

    /// <summary>Whether this is a serial line.</summary>
    public bool IsSerial => SerialPath.Length > 0;

    /// <summary>Parses an endpoint URI; throws <see cref="FormatException"/> saying what is wrong.</summary>
    public static DlmsEndpoint Parse(string uri)
    {
        ArgumentNullException.ThrowIfNull(uri);
        if (uri.StartsWith("tcp://", StringComparison.Ordinal))
        {
            string rest = uri["tcp://".Length..].TrimEnd('/');
            int colon = rest.LastIndexOf(':');
            string host = colon < 0 ? rest : rest[..colon];
            int port = DefaultTcpPort;
            if (host.StartsWith('[') && host.EndsWith(']'))
            {
                host = host[1..^1];
            }

            if (host.Length == 0 || (colon >= 0 && (!int.TryParse(rest[(colon + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out port) || port is < 1 or > 65535)))
            {
                throw new FormatException($"'{uri}' is not tcp://HOST:PORT");
            }

            return new DlmsEndpoint { Host = host, Port = port };
        }

        if (uri.StartsWith("serial://", StringComparison.Ordinal))
        {
            string rest = uri["serial://".Length..];
            int q = rest.IndexOf('?', StringComparison.Ordinal);
            string path = q < 0 ? rest : rest[..q];
            if (!path.StartsWith('/'))
            {
                throw new FormatException($"'{uri}' is not serial:///dev/PORT?baud=9600");
            }

            var endpoint = new DlmsEndpoint { SerialPath = path };
            foreach (string pair in (q < 0 ? "" : rest[(q + 1)..]).Split('&', StringSplitOptions.RemoveEmptyEntries))
            {
                string[] kv = pair.Split('=', 2);
                endpoint = (kv[0], kv.Length == 2 ? kv[1] : "") switch
                {
                    ("baud", var v) when int.TryParse(v, NumberStyles.None, CultureInfo.InvariantCulture, out int baud) && baud is >= 300 and <= 921_600 => endpoint with { BaudRate = baud },
                    ("parity", "N" or "n") => endpoint with { Parity = Parity.None },
                    ("parity", "E" or "e") => endpoint with { Parity = Parity.Even },
                    ("parity", "O" or "o") => endpoint with { Parity = Parity.Odd },
                    _ => throw new FormatException($"'{uri}': '{pair}' is not baud=300..921600 or parity=N|E|O"),
                };
            }

            return endpoint;
        }

        throw new FormatException($"'{uri}' is not tcp://HOST:PORT or serial:///dev/PORT?baud=9600");
    }

    /// <summary>Opens the byte channel: a TCP connection (bounded by <paramref name="connectTimeout"/>) or the serial port.</summary>
    public async Task<IByteChannel> OpenChannelAsync(TimeSpan connectTimeout, CancellationToken cancellationToken)
    {
        if (IsSerial)
        {
            return new SerialByteChannel(SerialPath, BaudRate, Parity, StopBits.One);
        }

        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        cts.CancelAfter(connectTimeout);
        try
        {
            return await TcpByteChannel.ConnectAsync(Host, Port, cts.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new TimeoutException($"connecting to {this} timed out after {connectTimeout.TotalSeconds:0.#} s");
        }
    }

    /// <inheritdoc/>
    public override string ToString() => IsSerial
        ? string.Create(CultureInfo.InvariantCulture, $"serial://{SerialPath}?baud={BaudRate}")
        : Host.Contains(':', StringComparison.Ordinal) ? $"tcp://[{Host}]:{Port}" : string.Create(CultureInfo.InvariantCulture, $"tcp://{Host}:{Port}");
}
