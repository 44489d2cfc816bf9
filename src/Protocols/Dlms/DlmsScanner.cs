using EdgeMeter.Protocols.Transport;

namespace EdgeMeter.Protocols.Dlms;

/// <summary>Finds the HDLC server addresses that answer on a bus: an SNRM to each, a UA means a meter is there.</summary>
public static class DlmsScanner
{
    /// <summary>
    /// Tries logical device <paramref name="logical"/> at each physical address in turn and returns those that answer
    /// SNRM with UA (each link is closed again with DISC). Silence, DM and garbage count as no meter.
    /// </summary>
    public static async Task<IReadOnlyList<HdlcAddress>> ScanAsync(IByteChannel channel, byte client, ushort logical, IEnumerable<ushort> physicalAddresses, TimeSpan timeout, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(physicalAddresses);
        var found = new List<HdlcAddress>();
        foreach (ushort physical in physicalAddresses)
        {
            var address = HdlcAddress.Server(logical, physical);
            await using var link = new HdlcTransport(channel, HdlcAddress.Client(client), address, timeout, ownsChannel: false);
            try
            {
                await link.OpenAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is TimeoutException or DlmsException)
            {
                continue;
            }

            found.Add(address);
            try
            {
                await link.CloseAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is TimeoutException or DlmsException)
            {
                // It answered SNRM; a lost UA to DISC does not make it absent.
            }
        }

        return found;
    }
}
