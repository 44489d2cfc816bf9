using System.Globalization;
using System.Text.Json;
using EdgeMeter.Agent.Ledger;
using EdgeMeter.Agent.Storage;
using EdgeMeter.Crypto.Records;
using EdgeMeter.Crypto.Signing;
using Xunit.Abstractions;

namespace EdgeMeter.Interop.Tests.Agent;

/// <summary>
/// Power cuts with real processes: <c>edgemeter run</c> (the Native AOT binary, as the other agent process tests) with its data directory on cutfs (a FUSE file system that
/// forgets what was not synced), a meter on loopback, mosquitto and <c>edgemeter ledger</c>. Three times the agent
/// is killed (SIGKILL) and the file system cut right after, with no sync in between, then the agent starts again on
/// what the medium kept.
/// </summary>
[Collection(AotCollection.Name)]
public sealed class RealPowerCutTests(AotBinaryFixture aot, ITestOutputHelper output)
{
    private const ulong ChainId = 31337;
    private const int Cuts = 3;
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(90);

    [Fact]
    public async Task Three_kills_with_a_cut_leave_one_unbroken_chain_on_the_ledger_losing_nothing_acknowledged_and_signing_no_sequence_twice()
    {
        TestDependencies.Require(Peer.Fuse);
        var root = Directory.CreateTempSubdirectory("edgemeter-realcut-").FullName;
        await using var fs = await CutFs.MountAsync(Path.Combine(root, "fs"), seed: (uint)Environment.TickCount);
        await using var broker = await Mosquitto.StartAsync(Path.Combine(root, "broker"));
        var ledgerData = Path.Combine(root, "ledger");
        var ledgerAddress = LedgerKey.Address(ledgerData);
        await using var ledger = new Background(aot.Binary, ["ledger", .. broker.TlsArgs, "--data", ledgerData]);
        await Until(() => ledger.Output.Contains("Ledger connected", StringComparison.Ordinal), "the ledger to connect", () => ledger.Output);
        // What crosses the broker: every transaction the gateway sends and every receipt the ledger gives.
        await using var spy = new Background("mosquitto_sub", ["-h", "127.0.0.1", "-p", broker.PlainPort.ToString(CultureInfo.InvariantCulture),
            "-u", Mosquitto.User, "-P", Mosquitto.Password, "-q", "1", "-v", "-t", "edgemeter/+/tx", "-t", "edgemeter/+/receipt"]);

        var data = Path.Combine(fs.Mount, "data");
        var config = Path.Combine(root, "edgemeter.json");
        var random = new Random();
        var ackedBeforeCut = new List<ulong>();
        var droppedPerCut = new List<long>();
        var agentLog = new System.Text.StringBuilder();
        var meter = RunConfig.StartSdm630(7);
        var meterRunning = true;
        try
        {
            await File.WriteAllTextAsync(config, $$"""
                { "dataDirectory": "{{data}}", "chainId": {{ChainId}}, "pollIntervalSeconds": 0.2, "http": { "url": "http://127.0.0.1:0" },
                  "meters": [ { "id": "main", "endpoint": "tcp://127.0.0.1:{{meter.LocalEndPoint.Port}}", "unit": 7, "map": "eastron-sdm630" } ],
                  "mqtt": { "broker": "{{broker.TlsUrl}}", "caFile": "{{broker.Certificates.CaCert}}", "username": "{{Mosquitto.User}}",
                            "password": "{{Mosquitto.Password}}", "batchMaxDelayMs": 200 },
                  "ledger": { "address": "{{ledgerAddress}}" },
                  "storage": { "commitIntervalSeconds": 0.5 } }
                """);

            for (var round = 0; round < Cuts; round++)
            {
                var before = Wire.Parse(spy.Output).Receipts;
                await using var agent = new Background(aot.Binary, ["run", "--config", config]);
                // Runs until the ledger acknowledged something new in this life, then a little longer, so the cut falls anywhere.
                await Until(() => Wire.Parse(spy.Output).Receipts > before || agent.HasExited, $"round {round}: a new receipt", () => agent.Output + spy.Output);
                Assert.False(agent.HasExited, agent.Output);
                await Task.Delay(random.Next(1500, 6000));
                if (round % 2 == 0)
                {
                    // The cut falls inside a commit: the store's log written, its fsync under way and never finished.
                    await fs.HoldNextSyncAsync(RecordStore.LogFileName);
                    await fs.WaitHeldAsync(TimeSpan.FromSeconds(30));
                    // SIGKILL: every thread dies at once but the one inside the held fsync, which the kernel lets
                    // finish only when the file system answers. Once it is the last one left, nothing of the agent
                    // can run any more: cut, answer the sync with EIO, and the process is gone.
                    try
                    {
                        await Processes.RunAsync("kill", ["-KILL", agent.Id.ToString(CultureInfo.InvariantCulture)], TimeSpan.FromSeconds(5));
                        await Until(() => LiveThreads(agent.Id) <= 1, "the killed agent's other threads to end", () => agent.Output);
                    }
                    finally
                    {
                        await fs.CutHeldAsync(); // also on failure: the held thread keeps the process (and its disposal) alive
                    }
                    await agent.KillHardAsync();
                }
                else
                {
                    // The cut falls wherever the kill left the agent, between two file system operations.
                    await agent.KillHardAsync();
                    await fs.CutAsync();
                }
                droppedPerCut.Add((await fs.CountersAsync())["dropped"] - droppedPerCut.Sum());
                agentLog.AppendLine(CultureInfo.InvariantCulture, $"--- life {round}\n{agent.Output}");
                // Receipts still on their way belong to records sent before the cut: they count as acknowledged too.
                await Task.Delay(1000);
                ackedBeforeCut.Add(Wire.Parse(spy.Output).Acknowledged);
            }

            // Power stays on: the meter stops, the agent sends what it has and stops in order once the ledger holds it all.
            var receiptsBefore = Wire.Parse(spy.Output).Receipts;
            await using (var agent = new Background(aot.Binary, ["run", "--config", config]))
            {
                await Until(() => Wire.Parse(spy.Output).Receipts > receiptsBefore || agent.HasExited, "the last life: a new receipt", () => agent.Output);
                await meter.DisposeAsync();
                meterRunning = false;
                var (transactions, since) = (-1, DateTime.UtcNow);
                await Until(() =>
                {
                    var wire = Wire.Parse(spy.Output);
                    if (wire.Transactions != transactions)
                        (transactions, since) = (wire.Transactions, DateTime.UtcNow);
                    return wire.Acknowledged == wire.HighestSent && DateTime.UtcNow - since > TimeSpan.FromSeconds(3);
                }, "the backlog to drain", () => agent.Output);
                Assert.Equal(0, await agent.StopAsync(TimeSpan.FromSeconds(30)));
                agentLog.AppendLine(CultureInfo.InvariantCulture, $"--- last life\n{agent.Output}");
            }
        }
        finally
        {
            if (meterRunning)
                await meter.DisposeAsync();
        }
        Assert.Equal(0, await ledger.StopAsync(TimeSpan.FromSeconds(20)));
        var seen = Wire.Parse(spy.Output);
        var counters = await fs.CountersAsync();
        output.WriteLine($"acknowledged before each cut: {string.Join(", ", ackedBeforeCut)}; final {seen.Acknowledged}; {seen.Transactions} transactions, {seen.Rejected.Count} rejected; cutfs {string.Join(", ", counters.Select(c => $"{c.Key} {c.Value}"))}; files and directories with unsynced changes dropped at each cut: {string.Join(", ", droppedPerCut)}");

        // The ledger: one device, one chain from 1, no gap, no duplicate, every link and digest holding.
        using var ledgerStore = new LedgerStore(ledgerData);
        var device = Assert.Single(ledgerStore.Summarise());
        var highest = device.Highest;
        Assert.Equal(1UL, device.Lowest);
        Assert.Empty(device.Gaps);
        Assert.Empty(device.Duplicates);
        Assert.Equal((long)highest, device.Accepted);
        Assert.Equal(seen.Acknowledged, highest);
        var onLedger = ledgerStore.ReadReadings(device.Device, 1, highest);
        Assert.Equal(highest, (ulong)onLedger.Count);
        var digests = onLedger.Select(Digest).ToList();
        for (var i = 0; i < onLedger.Count; i++)
        {
            Assert.Equal((ulong)i + 1, onLedger[i].Sequence);
            Assert.Equal(i == 0 ? new byte[32] : digests[i - 1], onLedger[i].PrevHash.ToArray());
            Assert.Equal(ledgerStore.GetDigest(device.Device, (ulong)i + 1), digests[i]);
        }

        // Nothing acknowledged was lost: the ledger grew past every cut, and the gateway still holds exactly what it holds.
        Assert.All(ackedBeforeCut, acked => Assert.True(acked <= highest, $"{acked} > {highest}"));
        Assert.True(ackedBeforeCut[0] > 0 && ackedBeforeCut[^1] > ackedBeforeCut[0], string.Join(", ", ackedBeforeCut));
        using (var store = RecordStore.OpenReadOnly(data))
        {
            Assert.Equal(highest, store.Head.Sequence);
            var kept = store.ReadRange(1, ulong.MaxValue);
            Assert.Equal(digests.Select(Convert.ToHexString), kept.Select(r => Convert.ToHexString(r.Digest.Span)));
            Assert.All(kept, r => Assert.Equal(device.Device, r.Record.Device));
        }

        // No sequence number was ever signed with two contents: not on the wire, not between the wire and the ledger.
        var twice = seen.Sent.Where(s => s.Value.Count > 1).Select(s => s.Key).ToList();
        Assert.True(twice.Count == 0, $"signed twice with different content: {string.Join(", ", twice)}\n{agentLog}");
        // A rejection for a gap (a batch that overtook another after a restart) is resent; a conflict would be a second content.
        Assert.DoesNotContain(seen.Rejected, r => r.Contains("conflicts", StringComparison.Ordinal));
        for (var i = 0; i < digests.Count; i++)
            Assert.Equal(Convert.ToHexString(digests[i]), Assert.Single(seen.Sent[(ulong)i + 1]));
    }

    /// <summary>Threads of <paramref name="pid"/> that are not dead yet (a killed group leader stays as a zombie until the last one ends).</summary>
    private static int LiveThreads(int pid)
    {
        var live = 0;
        try
        {
            foreach (var task in Directory.GetDirectories($"/proc/{pid}/task"))
            {
                var stat = File.ReadAllText(Path.Combine(task, "stat"));
                if (stat[stat.LastIndexOf(')') + 2] is not ('Z' or 'X'))
                    live++;
            }
        }
        catch (IOException)
        {
            // The process or one of its threads went away while we looked.
        }
        return live;
    }

    private static byte[] Digest(ReadingRecord record)
    {
        var digest = new byte[32];
        ReadingTypedData.Digest(Eip712Domain.ForReadings(ChainId), record, digest);
        return digest;
    }

    private static async Task Until(Func<bool> condition, string what, Func<string> context)
    {
        var deadline = DateTime.UtcNow + Bound;
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"waited {Bound.TotalSeconds} s for {what}:\n{context()}");
            await Task.Delay(100);
        }
    }

    /// <summary>What mosquitto_sub saw: every sequence number sent with its digests, and the receipts.</summary>
    private sealed record Wire(Dictionary<ulong, HashSet<string>> Sent, ulong Acknowledged, List<string> Rejected, int Transactions, int Receipts)
    {
        public ulong HighestSent => Sent.Count == 0 ? 0 : Sent.Keys.Max();

        public static Wire Parse(string lines)
        {
            var sent = new Dictionary<ulong, HashSet<string>>();
            ulong acknowledged = 0;
            var rejected = new List<string>();
            var txCount = 0;
            var receipts = 0;
            foreach (var line in lines.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                var space = line.IndexOf(' ', StringComparison.Ordinal);
                if (space < 0 || !line.StartsWith("edgemeter/", StringComparison.Ordinal))
                    continue;
                using var json = JsonDocument.Parse(line[(space + 1)..]);
                if (line[..space].EndsWith("/tx", StringComparison.Ordinal))
                {
                    txCount++;
                    foreach (var r in json.RootElement.GetProperty("records").EnumerateArray())
                    {
                        var record = ReadingJson.ReadMessage(r.GetProperty("message"));
                        if (!sent.TryGetValue(record.Sequence, out var set))
                            sent[record.Sequence] = set = new HashSet<string>(StringComparer.Ordinal);
                        set.Add(Convert.ToHexString(Digest(record)));
                    }
                }
                else
                {
                    receipts++;
                    using var payload = JsonDocument.Parse(json.RootElement.GetProperty("payload").GetString()!);
                    var receipt = payload.RootElement;
                    acknowledged = Math.Max(acknowledged, ulong.Parse(receipt.GetProperty("acceptedThrough").GetString()!, CultureInfo.InvariantCulture));
                    if (receipt.GetProperty("status").GetString() != "accepted")
                        rejected.Add(payload.RootElement.GetRawText());
                }
            }
            return new Wire(sent, acknowledged, rejected, txCount, receipts);
        }
    }
}
