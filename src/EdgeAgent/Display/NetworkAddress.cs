using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;

namespace EdgeMeter.Agent.Display;

/// <summary>The gateway's address in the home network, for the long press of the button.</summary>
internal static class NetworkAddress
{
    /// <summary>The first IPv4 address of an interface that is up and not loopback; null without a network.</summary>
    public static string? Find()
    {
        try
        {
            foreach (var nic in NetworkInterface.GetAllNetworkInterfaces())
            {
                if (nic.OperationalStatus != OperationalStatus.Up || nic.NetworkInterfaceType == NetworkInterfaceType.Loopback)
                {
                    continue;
                }

                foreach (var unicast in nic.GetIPProperties().UnicastAddresses)
                {
                    if (unicast.Address.AddressFamily == AddressFamily.InterNetwork && !IPAddress.IsLoopback(unicast.Address))
                    {
                        return unicast.Address.ToString();
                    }
                }
            }
        }
        catch (NetworkInformationException)
        {
        }

        return null;
    }

    /// <summary>
    /// The web page's address as a phone in the home network reaches it: a wildcard host (0.0.0.0, [::]) is replaced
    /// by <paramref name="ip"/>.
    /// </summary>
    public static string WebUrl(Uri bound, string? ip) =>
        ip is not null && (bound.Host is "0.0.0.0" or "[::]" or "::")
            ? new UriBuilder(bound) { Host = ip }.Uri.ToString()
            : bound.ToString();
}
