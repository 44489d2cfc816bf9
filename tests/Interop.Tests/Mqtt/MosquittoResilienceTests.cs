using System.Text.Json;
using EdgeMeter.Agent.Storage;
using EdgeMeter.Interop.Tests.Support;

namespace EdgeMeter.Interop.Tests.Mqtt;

[Collection(AotCollection.Name)]
public sealed class MosquittoResilienceTests(AotBinaryFixture aot)
{
    [Fact]
    public async Task Five_SIGKILLs_and_two_broker_restarts_leave_every_sequence_on_the_ledger_exactly_once()
    {
        var root = Directory.CreateTempSubdirectory("edgemeter-resilience-").FullName;
        await using var broker = await Mosquitto.StartAsync(Path.Combine(root, "broker"));
        var ledgerData = Path.Combine(root, "ledger");
        var agentData = Path.Combine(root, "gateway");
        var ledgerAddress = LedgerKey.Address(ledgerData);
        await using var ledger = new Background(aot.Binary, ["ledger", .. broker.TlsArgs, "--data", ledgerData]);

        string[] agentArgs = ["demo", "--no-ledger", "--ledger-address", ledgerAddress, .. broker.TlsArgs, "--data", agentData, "--http", "http://127.0.0.1:0"];
        for (var round = 0; round < 5; round++)
        {
            await using var agent = new Background(aot.Binary, agentArgs);
            await Task.Delay(TimeSpan.FromMilliseconds(2500 + 300 * round));
            if (round is 1 or 3)
            {
                await broker.RestartAsync();
                await Task.Delay(TimeSpan.FromMilliseconds(2000));
            }
            Assert.False(agent.HasExited, agent.Output);
            await agent.KillHardAsync();
        }

        // A last, orderly run drains what the killed runs left in the outbox.
        var final = await Processes.RunAsync(aot.Binary, [.. agentArgs, "--exit-after", "10"], TimeSpan.FromSeconds(90));
        Assert.True(final.ExitCode == 0, final.Err);
        Assert.Equal(0, await ledger.StopAsync(TimeSpan.FromSeconds(15)));

        var dump = await Processes.RunAsync(aot.Binary, ["ledger", "--dump", "--json", "--data", ledgerData], TimeSpan.FromSeconds(30));
        Assert.True(dump.ExitCode == 0, dump.Err);
        using var json = JsonDocument.Parse(dump.Out);
        var device = Assert.Single(json.RootElement.GetProperty("devices").EnumerateArray());
        var highest = device.GetProperty("highestSeq").GetUInt64();
        Assert.Equal(1UL, device.GetProperty("lowestSeq").GetUInt64());
        Assert.Equal((long)highest, device.GetProperty("accepted").GetInt64());
        Assert.Empty(device.GetProperty("gaps").EnumerateArray());
        Assert.Empty(device.GetProperty("duplicates").EnumerateArray());

        using var store = new RecordStore(agentData);
        Assert.True(highest > 20, $"only {highest} records reached the ledger:\n{ledger.Output}");
        Assert.Equal(store.Head.Sequence, highest);
        Assert.Equal(store.Head.ConfirmedThrough, highest);
        Assert.Equal(store.Head.Sequence, (ulong)store.ReadRange(1, ulong.MaxValue).Count);
    }
}
