using System.Text.Json;
using EdgeMeter.Agent.Storage;
using EdgeMeter.Crypto.Records;
using EdgeMeter.Interop.Tests.Support;

namespace EdgeMeter.Interop.Tests.Mqtt;

/// <summary>
/// Issue 9, item 4, end to end: the whole agent pipeline (the edgemeter CLI's demo: meters, signing, store, uplink)
/// against real mosquitto and the development ledger in its own process. The gateway's store is restored from an older
/// copy while the ledger holds more of its chain; the gateway learns the ledger's head, continues after it with one
/// gap declaration, and the ledger ends with one unbroken chain in which no sequence number was signed twice.
/// </summary>
public sealed class LedgerAheadTests
{
    private static string Host => Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } h ? h : "dotnet";

    private static string Cli => Path.Combine(AppContext.BaseDirectory, "edgemeter.dll");

    [Fact]
    public async Task A_gateway_restored_from_an_older_store_continues_after_the_ledgers_head_with_one_gap()
    {
        var root = Directory.CreateTempSubdirectory("edgemeter-ledger-ahead-").FullName;
        await using var broker = await Mosquitto.StartAsync(Path.Combine(root, "broker"));
        var ledgerData = Path.Combine(root, "ledger");
        var agentData = Path.Combine(root, "gateway");
        var backup = Path.Combine(root, "backup");
        var ledgerAddress = LedgerKey.Address(ledgerData);
        await using var ledger = new Background(Host, ["exec", Cli, "ledger", .. broker.TlsArgs, "--data", ledgerData]);
        string[] agent = ["exec", Cli, "demo", "--no-ledger", "--ledger-address", ledgerAddress, .. broker.TlsArgs, "--data", agentData, "--http", "http://127.0.0.1:0"];

        // A first run; its store is the "backup".
        await RunAgent(agent, 6);
        ulong backedUp;
        using (var store = new RecordStore(agentData))
            backedUp = store.Head.Sequence;
        Directory.CreateDirectory(backup);
        foreach (var name in new[] { RecordStore.FileName, RecordStore.LogFileName })
        {
            if (File.Exists(Path.Combine(agentData, name)))
                File.Copy(Path.Combine(agentData, name), Path.Combine(backup, name));
        }

        // A second run takes the ledger further; then the card is restored from the backup.
        await RunAgent(agent, 6);
        ulong ledgerHead;
        using (var store = new RecordStore(agentData))
        {
            // Everything it signed reached the ledger: the ledger's head is the store's.
            Assert.Equal(store.Head.Sequence, store.Head.ConfirmedThrough);
            ledgerHead = store.Head.Sequence;
        }
        Assert.True(ledgerHead > backedUp, $"the second run added nothing: ledger at {ledgerHead}, backup at {backedUp}");
        foreach (var name in new[] { RecordStore.FileName, RecordStore.LogFileName })
        {
            File.Delete(Path.Combine(agentData, name));
            if (File.Exists(Path.Combine(backup, name)))
                File.Copy(Path.Combine(backup, name), Path.Combine(agentData, name));
        }
        using (var restored = new RecordStore(agentData))
            Assert.Equal(backedUp, restored.Head.Sequence);

        // The restored gateway runs again.
        var output = await RunAgent(agent, 8);
        Assert.Contains($"The ledger holds this device's chain through seq {ledgerHead}", output, StringComparison.Ordinal);

        var dump = await Dump(ledgerData, stopFirst: ledger);
        var device = Head(dump);
        var declared = Assert.Single(device.Element.GetProperty("declaredGaps").EnumerateArray());
        var reserve = RecordStore.DefaultLedgerAheadReserve;
        Assert.Equal(ledgerHead + 1, declared.GetProperty("fromSeq").GetUInt64());
        Assert.Equal(ledgerHead + reserve, declared.GetProperty("toSeq").GetUInt64());
        Assert.Equal(ledgerHead + reserve + 1, declared.GetProperty("seq").GetUInt64());
        Assert.Equal("ledger-ahead", declared.GetProperty("reason").GetString());
        // One unbroken chain: from 1, nothing missing but the declared range, nothing twice.
        Assert.Equal(1UL, device.Element.GetProperty("lowestSeq").GetUInt64());
        Assert.Empty(device.Element.GetProperty("gaps").EnumerateArray());
        Assert.Empty(device.Element.GetProperty("duplicates").EnumerateArray());
        Assert.True(device.Highest > ledgerHead + reserve + 1, $"nothing after the gap reached the ledger (highest {device.Highest})");
        Assert.Equal((long)(device.Highest - reserve), device.Element.GetProperty("accepted").GetInt64());

        // The gateway signed nothing with a number the ledger held, or in the declared range; it is confirmed to the end.
        using var store2 = new RecordStore(agentData);
        Assert.Equal((device.Highest, device.Highest), (store2.Head.Sequence, store2.Head.ConfirmedThrough));
        Assert.Empty(store2.ReadRange(backedUp + 1, ledgerHead + reserve));
        var after = store2.ReadRange(ledgerHead + 1, ulong.MaxValue);
        var gap = Assert.IsType<GapRecord>(after[0].Record);
        Assert.Equal(GapReason.LedgerAhead, gap.Reason);
        Assert.All(after.Skip(1), r => Assert.IsType<ReadingRecord>(r.Record));
        Assert.Equal(Enumerable.Range(0, after.Count - 1).Select(i => ledgerHead + reserve + 2 + (ulong)i), after.Skip(1).Select(r => r.Record.Sequence));
    }

    private static async Task<string> RunAgent(string[] agent, int seconds)
    {
        var run = await Processes.RunAsync(Host, [.. agent, "--exit-after", seconds.ToString(System.Globalization.CultureInfo.InvariantCulture)], TimeSpan.FromSeconds(120));
        Assert.True(run.ExitCode == 0, run.Out + run.Err);
        return run.Out + run.Err;
    }

    private static async Task<JsonElement> Dump(string ledgerData, Background stopFirst)
    {
        Assert.Equal(0, await stopFirst.StopAsync(TimeSpan.FromSeconds(15)));
        var dump = await Processes.RunAsync(Host, ["exec", Cli, "ledger", "--dump", "--json", "--data", ledgerData], TimeSpan.FromSeconds(60));
        Assert.True(dump.ExitCode == 0, dump.Err);
        using var json = JsonDocument.Parse(dump.Out);
        return json.RootElement.Clone();
    }

    private static (JsonElement Element, ulong Highest) Head(JsonElement dump)
    {
        var device = Assert.Single(dump.GetProperty("devices").EnumerateArray());
        return (device, device.GetProperty("highestSeq").GetUInt64());
    }
}
