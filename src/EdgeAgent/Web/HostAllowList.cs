using System.Globalization;
using System.Net;
using System.Net.NetworkInformation;

namespace EdgeMeter.Agent.Web;

/// <summary>
/// The Host headers a LAN-bound server answers: the gateway's own addresses (every interface, refreshed now and
/// then because DHCP moves them), loopback, its host name, <c>hostname.local</c>, and configured names. Anything
/// else is a name some other site resolved to the gateway: DNS rebinding.
/// </summary>
internal sealed class HostAllowList
{
    private static readonly TimeSpan AddressRefresh = TimeSpan.FromSeconds(30);

    private readonly string _hostName;
    private readonly Func<IReadOnlyList<string>> _configured;
    private readonly TimeProvider _time;
    private readonly Lock _gate = new();
    private HashSet<IPAddress> _addresses = [];
    private DateTimeOffset _addressesAt = DateTimeOffset.MinValue;

    /// <summary>Creates the list.</summary>
    /// <param name="hostName">The gateway's host name (without <c>.local</c>).</param>
    /// <param name="configured">Extra names from the configuration, read on each check.</param>
    /// <param name="time">Clock for refreshing the interface addresses.</param>
    public HostAllowList(string hostName, Func<IReadOnlyList<string>> configured, TimeProvider time)
    {
        _hostName = hostName;
        _configured = configured;
        _time = time;
    }

    /// <summary>Whether <paramref name="host"/> (a Host header, with or without port) names this gateway on <paramref name="port"/>.</summary>
    public bool Allows(string? host, int port)
    {
        if (!TrySplit(host, port, out var name))
        {
            return false;
        }

        if (name.StartsWith('['))
        {
            name = name[1..^1];
        }

        if (IPAddress.TryParse(name, out var ip))
        {
            if (IPAddress.IsLoopback(ip))
            {
                return true;
            }

            if (ip.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6)
            {
                ip.ScopeId = 0;
            }

            return OwnAddresses().Contains(ip);
        }

        name = name.TrimEnd('.');
        if (name.Equals("localhost", StringComparison.OrdinalIgnoreCase)
            || name.Equals(_hostName, StringComparison.OrdinalIgnoreCase)
            || name.Equals(_hostName + ".local", StringComparison.OrdinalIgnoreCase))
        {
            return true;
        }

        foreach (var allowed in _configured())
        {
            if (name.Equals(allowed.TrimEnd('.'), StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Splits <c>name[:port]</c> or <c>[v6][:port]</c>; a port, when present, must be ours.</summary>
    private static bool TrySplit(string? host, int port, out string name)
    {
        name = "";
        if (string.IsNullOrEmpty(host) || host.Length > 255)
        {
            return false;
        }

        string rest;
        if (host[0] == '[')
        {
            int close = host.IndexOf(']');
            if (close < 0)
            {
                return false;
            }

            name = host[..(close + 1)];
            rest = host[(close + 1)..];
        }
        else
        {
            int colon = host.IndexOf(':');
            if (colon >= 0 && host.IndexOf(':', colon + 1) >= 0)
            {
                return false; // an IPv6 literal must be in brackets
            }

            name = colon < 0 ? host : host[..colon];
            rest = colon < 0 ? "" : host[colon..];
        }

        if (rest.Length > 0
            && (rest[0] != ':' || !int.TryParse(rest.AsSpan(1), NumberStyles.None, CultureInfo.InvariantCulture, out int p) || p != port))
        {
            return false;
        }

        return name.Length > 0;
    }

    private HashSet<IPAddress> OwnAddresses()
    {
        lock (_gate)
        {
            var now = _time.GetUtcNow();
            if (now - _addressesAt < AddressRefresh)
            {
                return _addresses;
            }

            var set = new HashSet<IPAddress>();
            try
            {
                foreach (var nic in NetworkInterface.GetAllNetworkInterfaces())
                {
                    foreach (var unicast in nic.GetIPProperties().UnicastAddresses)
                    {
                        // Without the IPv6 zone (fe80::1%eth0): a Host header never carries it.
                        var a = new IPAddress(unicast.Address.GetAddressBytes());
                        set.Add(a);
                        if (a.IsIPv4MappedToIPv6)
                        {
                            set.Add(a.MapToIPv4());
                        }
                    }
                }
            }
            catch (NetworkInformationException)
            {
                // Keep the last known addresses.
                return _addresses;
            }

            _addresses = set;
            _addressesAt = now;
            return set;
        }
    }
}
