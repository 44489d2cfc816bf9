using EdgeMeter.Agent.Setup;

namespace EdgeMeter.Agent.Web;

/// <summary>What the web server reads from the configuration; each getter is read per request, so a change applies at once.</summary>
internal sealed record WebServerOptions
{
    /// <summary>Extra host names a LAN binding answers to (<c>http.allowedHosts</c>).</summary>
    public Func<IReadOnlyList<string>> AllowedHosts { get; init; } = static () => [];

    /// <summary>Whether <c>/api/status</c> gives a read-only summary without a session (<c>http.publicSummary</c>).</summary>
    public Func<bool> PublicSummary { get; init; } = static () => false;

    /// <summary>How long an owner session lasts.</summary>
    public TimeSpan SessionLifetime { get; init; } = TimeSpan.FromHours(12);

    /// <summary>The gateway's host name; <see cref="System.Net.Dns.GetHostName"/> when null.</summary>
    public string? HostName { get; init; }

    /// <summary>Setup: meters, uplink, time zone; null where the agent has no configuration file to write.</summary>
    public ISetupService? Setup { get; init; }

    /// <summary>
    /// Host rules of a LAN binding even on a loopback address (tests, which must stay on 127.0.0.1); null: from the
    /// binding, loopback rules on a loopback address and LAN rules on any other.
    /// </summary>
    internal bool? LanHostRules { get; init; }

    /// <summary>The LCD's pages as the page mirrors them (never the pairing code); none when null.</summary>
    public Func<IReadOnlyList<(string Line1, string Line2)>>? LcdMirror { get; init; }
}
