using System.Text.Json;
using EdgeMeter.Interop.Tests.Support;

namespace EdgeMeter.Interop.Tests.Mqtt;

/// <summary>TLS as a gateway meets it: the broker must prove itself, and may ask the gateway to.</summary>
[Collection(AotCollection.Name)]
public sealed class MosquittoTlsTests(AotBinaryFixture aot)
{
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(90);

    private static long Confirmed(ProcessResult demo) =>
        JsonDocument.Parse(demo.Out.Trim().Split('\n')[^1]).RootElement.GetProperty("confirmed").GetInt64();

    [Fact]
    public async Task Mutual_TLS_with_a_client_certificate_delivers_and_without_one_nothing_leaves()
    {
        var root = Directory.CreateTempSubdirectory("edgemeter-mtls-").FullName;
        await using var broker = await Mosquitto.StartAsync(Path.Combine(root, "broker"));
        var ledgerAddress = LedgerKey.Address(Path.Combine(root, "ledger"));
        await using var ledger = new Background(aot.Binary, ["ledger", .. broker.TlsArgs, "--data", Path.Combine(root, "ledger")]);
        var certs = broker.Certificates;
        string[] common = ["demo", "--no-ledger", "--ledger-address", ledgerAddress, "--broker", broker.MtlsUrl, "--ca", certs.CaCert,
            "--username", Mosquitto.User, "--password", Mosquitto.Password, "--exit-after", "6", "--http", "http://127.0.0.1:0"];

        var withCert = await Processes.RunAsync(aot.Binary, [.. common, "--cert", certs.ClientCert, "--key", certs.ClientKey, "--data", Path.Combine(root, "a")], Limit);
        var withoutCert = await Processes.RunAsync(aot.Binary, [.. common, "--data", Path.Combine(root, "b")], Limit);

        Assert.True(withCert.ExitCode == 0, withCert.Err);
        Assert.True(Confirmed(withCert) >= 5, withCert.Out + withCert.Err);
        Assert.True(withoutCert.ExitCode == 0, withoutCert.Err);
        Assert.Equal(0, Confirmed(withoutCert));
        Assert.Contains("Uplink down", withoutCert.Err, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_broker_whose_certificate_does_not_chain_to_our_CA_gets_nothing()
    {
        var root = Directory.CreateTempSubdirectory("edgemeter-wrongca-").FullName;
        await using var broker = await Mosquitto.StartAsync(Path.Combine(root, "broker"));
        var otherCa = TestCertificates.Create(Path.Combine(root, "other-ca"));
        await using var spy = new Background("mosquitto_sub", ["-h", "127.0.0.1", "-p", broker.PlainPort.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "-u", Mosquitto.User, "-P", Mosquitto.Password, "-t", "edgemeter/#", "-v"]);

        var demo = await Processes.RunAsync(aot.Binary, ["demo", "--no-ledger", "--broker", broker.TlsUrl, "--ca", otherCa.CaCert,
            "--username", Mosquitto.User, "--password", Mosquitto.Password, "--exit-after", "6", "--data", Path.Combine(root, "gw"), "--http", "http://127.0.0.1:0"], Limit);

        Assert.True(demo.ExitCode == 0, demo.Err);
        var last = JsonDocument.Parse(demo.Out.Trim().Split('\n')[^1]).RootElement;
        Assert.Equal(0, last.GetProperty("published").GetInt64());
        Assert.True(last.GetProperty("stored").GetInt64() > 0);
        Assert.Contains("Uplink down", demo.Err, StringComparison.Ordinal);
        Assert.DoesNotContain("edgemeter/", spy.Output, StringComparison.Ordinal);
    }
}
