using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using EdgeMeter.Agent.Configuration;
using MQTTnet;
using MQTTnet.Formatter;

namespace EdgeMeter.Agent.Sync;

/// <summary>Builds MQTTnet client options from <see cref="MqttOptions"/>: TLS with server verification, mTLS, v5 or v3.1.1.</summary>
internal static class MqttConnection
{
    /// <summary>Reconnect delay: exponential backoff with full jitter, 0.5 s to 60 s.</summary>
    internal static TimeSpan Backoff(int attempt)
    {
        var ceiling = Math.Min(60_000, 500 * Math.Pow(2, Math.Min(attempt, 10)));
        return TimeSpan.FromMilliseconds(250 + Random.Shared.NextDouble() * ceiling);
    }

    /// <summary>
    /// Connects with MQTT 5, or 3.1.1 when configured so; a broker that refuses version 5 ("unacceptable protocol
    /// version") gets a second attempt with 3.1.1 at once. Returns the version in use.
    /// </summary>
    public static async Task<MqttProtocolVersion> ConnectAsync(
        IMqttClient client, MqttOptions o, string clientId, bool cleanStart, CancellationToken ct, string? willTopic = null, byte[]? willPayload = null)
    {
        if (o.Protocol != "311")
        {
            MqttClientConnectResult result;
            try
            {
                result = await client.ConnectAsync(BuildOptions(o, clientId, cleanStart, willTopic, willPayload), ct).ConfigureAwait(false);
            }
            catch (MQTTnet.Adapter.MqttConnectingFailedException e) when (e.Message.Contains(nameof(MqttClientConnectResultCode.UnsupportedProtocolVersion), StringComparison.Ordinal))
            {
                result = new MqttClientConnectResult { ResultCode = MqttClientConnectResultCode.UnsupportedProtocolVersion };
            }
            if (result.ResultCode == MqttClientConnectResultCode.Success && client.IsConnected)
                return MqttProtocolVersion.V500;
            // A 3.1.1-only broker answers an MQTT 5 CONNECT with the 3.1.1 return code 1, "unacceptable protocol
            // version" (MQTT 5, 3.1.2.2); an MQTT 5 broker that will not speak 5 says 0x84. Either way: 3.1.1, at once.
            if (result.ResultCode is not (MqttClientConnectResultCode.UnsupportedProtocolVersion or UnacceptableProtocolVersion311))
                throw new IOException($"the broker refused the connection: {result.ResultCode} {result.ReasonString}".TrimEnd());
        }
        var v311 = new MqttOptions
        {
            Broker = o.Broker, Username = o.Username, Password = o.Password, CaFile = o.CaFile, CertFile = o.CertFile, KeyFile = o.KeyFile,
            Protocol = "311", BatchMaxRecords = o.BatchMaxRecords, BatchMaxDelayMs = o.BatchMaxDelayMs, MaxInFlight = o.MaxInFlight,
        };
        await client.ConnectAsync(BuildOptions(v311, clientId, cleanStart, willTopic, willPayload), ct).ConfigureAwait(false);
        return MqttProtocolVersion.V311;
    }

    /// <summary>The MQTT 3.1.1 CONNACK return code 1, as MQTTnet's MQTT 5 decoder passes it through.</summary>
    private const MqttClientConnectResultCode UnacceptableProtocolVersion311 = (MqttClientConnectResultCode)1;

    public static MqttClientOptions BuildOptions(
        MqttOptions o,
        string clientId,
        bool cleanStart,
        string? willTopic = null,
        byte[]? willPayload = null)
    {
        var uri = new Uri(o.Broker);
        var tls = uri.Scheme == "mqtts";
        var port = uri.IsDefaultPort || uri.Port <= 0 ? (tls ? 8883 : 1883) : uri.Port;
        var builder = new MqttClientOptionsBuilder()
            .WithTcpServer(uri.Host, port)
            .WithClientId(clientId)
            .WithProtocolVersion(o.Protocol == "311" ? MqttProtocolVersion.V311 : MqttProtocolVersion.V500)
            .WithKeepAlivePeriod(TimeSpan.FromSeconds(30))
            .WithTimeout(TimeSpan.FromSeconds(10))
            .WithCleanStart(cleanStart);
        if (!cleanStart && o.Protocol != "311")
            builder.WithSessionExpiryInterval(7 * 24 * 3600);
        if (!string.IsNullOrEmpty(o.Username))
            builder.WithCredentials(o.Username, o.Password ?? "");
        if (willTopic is not null && willPayload is not null)
        {
            builder.WithWillTopic(willTopic)
                .WithWillPayload(willPayload)
                .WithWillRetain()
                .WithWillQualityOfServiceLevel(MQTTnet.Protocol.MqttQualityOfServiceLevel.AtLeastOnce);
        }
        if (tls)
        {
            var ca = string.IsNullOrEmpty(o.CaFile) ? null : X509CertificateLoader.LoadCertificateFromFile(o.CaFile);
            var tlsBuilder = new MqttClientTlsOptionsBuilder()
                .UseTls()
                .WithTargetHost(uri.Host)
                .WithSslProtocols(System.Security.Authentication.SslProtocols.Tls12 | System.Security.Authentication.SslProtocols.Tls13);
            if (ca is not null)
                tlsBuilder.WithCertificateValidationHandler(args => ValidateAgainst(ca, args.Certificate, args.SslPolicyErrors));
            if (!string.IsNullOrEmpty(o.CertFile) && !string.IsNullOrEmpty(o.KeyFile))
            {
                using var pem = X509Certificate2.CreateFromPemFile(o.CertFile, o.KeyFile);
                // SslStream needs a certificate whose key is not ephemeral on some platforms; a PKCS#12 round trip fixes that.
                var client = X509CertificateLoader.LoadPkcs12(pem.Export(X509ContentType.Pkcs12), null);
                tlsBuilder.WithClientCertificates([client]);
            }
            builder.WithTlsOptions(tlsBuilder.Build());
        }
        return builder.Build();
    }

    /// <summary>
    /// Server verification against our own CA only: the chain must end in exactly that root and the name must
    /// match. The system store is not consulted, so a public CA cannot vouch for a rogue broker.
    /// </summary>
    internal static bool ValidateAgainst(X509Certificate2 ca, X509Certificate? presented, SslPolicyErrors errors)
    {
        if (presented is null || (errors & SslPolicyErrors.RemoteCertificateNameMismatch) != 0 || (errors & SslPolicyErrors.RemoteCertificateNotAvailable) != 0)
            return false;
        using var cert = presented as X509Certificate2 ?? X509CertificateLoader.LoadCertificate(presented.GetRawCertData());
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(ca);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        return chain.Build(cert);
    }
}
