using System.Text.Json;
using EdgeMeter.Interop.Tests.Support;

namespace EdgeMeter.Interop.Tests.Agent;

/// <summary>The AOT binary end to end: a demo run, its export, and code we did not write checking it.</summary>
[Collection(AotCollection.Name)]
public sealed class DemoExportTests(AotBinaryFixture aot)
{
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(90);

    [Fact]
    public async Task Records_exported_from_a_demo_run_verify_with_ethers_to_the_address_keys_show_prints()
    {
        var data = Directory.CreateTempSubdirectory("edgemeter-export-").FullName;
        var demo = await Processes.RunAsync(aot.Binary, ["demo", "--exit-after", "6", "--data", data, "--http", "http://127.0.0.1:0"], Limit);
        Assert.True(demo.ExitCode == 0, demo.Err);
        var agentData = data;

        var keys = await Processes.RunAsync(aot.Binary, ["keys", "show", "--json", "--data", agentData], Limit);
        Assert.True(keys.ExitCode == 0, keys.Err);
        using var keysJson = JsonDocument.Parse(keys.Out);
        var address = keysJson.RootElement.GetProperty("address").GetString()!.ToLowerInvariant();

        var file = Path.Combine(data, "export.jsonl");
        var export = await Processes.RunAsync(aot.Binary, ["export", "--data", agentData, "--format", "jsonl", "--out", file], Limit);
        Assert.True(export.ExitCode == 0, export.Err);
        var lines = File.ReadAllLines(file);
        Assert.True(lines.Length >= 10, $"only {lines.Length} records exported");

        var verify = await Processes.RunAsync(aot.Binary, ["verify", file], Limit);
        Assert.True(verify.ExitCode == 0, verify.Out + verify.Err);

        var jsDir = Path.Combine(Repo.Root, "tests", "interop-js");
        TestDependencies.Require(Peer.NodePackages);
        var ethers = await Processes.RunAsync("node", [Path.Combine(jsDir, "verify-typed.mjs"), file], Limit, jsDir);
        Assert.True(ethers.ExitCode == 0, ethers.Err);
        var recovered = ethers.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => JsonDocument.Parse(l).RootElement)
            .ToList();
        Assert.Equal(lines.Length, recovered.Count);
        Assert.All(recovered, r => Assert.Equal(address, r.GetProperty("recovered").GetString()));
        Assert.Equal(Enumerable.Range(1, lines.Length).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)),
            recovered.Select(r => r.GetProperty("seq").ToString()));
    }

    [Fact]
    public async Task Sequence_and_chain_continue_across_SIGKILL_and_restart_without_gap_or_reuse()
    {
        var data = Directory.CreateTempSubdirectory("edgemeter-kill-").FullName;
        string[] args = ["demo", "--data", data, "--http", "http://127.0.0.1:0"];
        for (var round = 0; round < 3; round++)
        {
            await using var agent = new Background(aot.Binary, args);
            await Task.Delay(TimeSpan.FromMilliseconds(3000 + 700 * round));
            Assert.False(agent.HasExited, agent.Output);
            await agent.KillHardAsync();
        }
        var last = await Processes.RunAsync(aot.Binary, [.. args, "--exit-after", "5"], Limit);
        Assert.True(last.ExitCode == 0, last.Err);

        var file = Path.Combine(data, "export.jsonl");
        var export = await Processes.RunAsync(aot.Binary, ["export", "--data", data, "--out", file], Limit);
        Assert.True(export.ExitCode == 0, export.Err);
        var seqs = File.ReadAllLines(file)
            .Select(l => ulong.Parse(JsonDocument.Parse(l).RootElement.GetProperty("message").GetProperty("seq").GetString()!, System.Globalization.CultureInfo.InvariantCulture))
            .ToList();
        Assert.True(seqs.Count > 20, $"only {seqs.Count} records");
        Assert.Equal(Enumerable.Range(1, seqs.Count).Select(i => (ulong)i), seqs);

        // edgemeter verify checks every signature and hash link across the three killed runs and the last one.
        var verify = await Processes.RunAsync(aot.Binary, ["verify", file], Limit);
        Assert.True(verify.ExitCode == 0, verify.Out + verify.Err);

        var dump = await Processes.RunAsync(aot.Binary, ["ledger", "--dump", "--json", "--data", Path.Combine(data, "ledger")], Limit);
        using var ledger = JsonDocument.Parse(dump.Out);
        var device = Assert.Single(ledger.RootElement.GetProperty("devices").EnumerateArray());
        Assert.Empty(device.GetProperty("gaps").EnumerateArray());
        Assert.Empty(device.GetProperty("duplicates").EnumerateArray());
        Assert.Equal((ulong)seqs.Count, device.GetProperty("highestSeq").GetUInt64());
    }

    [Fact]
    public async Task The_private_key_appears_in_no_output_page_export_or_mqtt_message()
    {
        var data = Directory.CreateTempSubdirectory("edgemeter-secret-").FullName;
        await using var broker = await Mosquitto.StartAsync(Path.Combine(data, "broker"));
        // A plain-listener subscriber on everything the gateway and ledger publish.
        await using var spy = new Background("mosquitto_sub", ["-h", "127.0.0.1", "-p", broker.PlainPort.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "-u", Mosquitto.User, "-P", Mosquitto.Password, "-t", "#", "-v"]);
        var ledgerAddress = LedgerKey.Address(Path.Combine(data, "ledger"));
        await using (var ledger = new Background(aot.Binary, ["ledger", .. broker.TlsArgs, "--data", Path.Combine(data, "ledger")]))
        {
            var demo = await Processes.RunAsync(aot.Binary, ["demo", "--no-ledger", "--ledger-address", ledgerAddress, .. broker.TlsArgs, "--exit-after", "8", "--data", data, "--http", "http://127.0.0.1:0"], Limit);
            Assert.True(demo.ExitCode == 0, demo.Err);
            await ledger.StopAsync(TimeSpan.FromSeconds(15));
            var agentData = data;
            var keys = await Processes.RunAsync(aot.Binary, ["keys", "show", "--data", agentData], Limit);
            var export = await Processes.RunAsync(aot.Binary, ["export", "--data", agentData], Limit);

            var secret = KeyFileSecretHex(Path.Combine(agentData, "device.key"));
            Assert.Equal(64, secret.Length);
            var mqtt = spy.Output;
            Assert.Contains("/tx ", mqtt, StringComparison.Ordinal);
            foreach (var (name, text) in new[] { ("demo stdout+stderr", demo.Out + demo.Err), ("keys show", keys.Out + keys.Err), ("export", export.Out), ("mqtt", mqtt), ("ledger log", ledger.Output) })
                Assert.False(text.Contains(secret, StringComparison.OrdinalIgnoreCase), $"private key found in {name}");
        }
    }

    /// <summary>The key file holds the 32-byte secret raw or as hex; either way, return it as hex.</summary>
    private static string KeyFileSecretHex(string path)
    {
        var bytes = File.ReadAllBytes(path);
        var text = System.Text.Encoding.ASCII.GetString(bytes).Trim();
        if (text.StartsWith("0x", StringComparison.OrdinalIgnoreCase))
            text = text[2..];
        return bytes.Length == 32 ? Convert.ToHexStringLower(bytes) : text.ToLowerInvariant();
    }
}
