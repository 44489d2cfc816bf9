using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using EdgeMeter.Agent.Hosting;
using EdgeMeter.Agent.Ledger;
using Microsoft.Extensions.Logging;

namespace EdgeMeter.Agent.Cli;

/// <summary><c>edgemeter ledger</c>: the development ledger, and <c>--dump</c> of what it holds.</summary>
internal static class LedgerCommand
{
    public static Command Create()
    {
        var data = new Option<string>("--data") { Description = "The ledger's data directory.", DefaultValueFactory = _ => "/var/lib/edgemeter/ledger" };
        var dump = new Option<bool>("--dump") { Description = "Print, per device, accepted records, lowest and highest sequence, gaps, duplicates and balance; then exit." };
        var chainId = new Option<ulong>("--chain-id") { Description = "Chain id of the EIP-712 domain the ledger accepts.", DefaultValueFactory = _ => 31337 };
        var json = CliOutput.JsonOption();
        var mqtt = new MqttCliOptions();
        var operatorAddress = new Option<string?>("--operator") { Description = "Address of the operator whose signed parameters and events the ledger takes; without it, the development defaults." };
        var command = new Command("ledger", "Run the development ledger (a single-node chain for development, demos and tests).")
        {
            data, dump, chainId, json, operatorAddress,
        };
        mqtt.AddTo(command);
        command.SetAction(async (result, ct) =>
        {
            var dir = Path.GetFullPath(result.GetValue(data)!);
            if (result.GetValue(dump))
            {
                if (!File.Exists(Path.Combine(dir, LedgerStore.FileName)))
                    throw new CliException($"--data: no ledger in {dir}", ExitCodes.BadInput);
                using var store = AtData(() => new LedgerStore(dir));
                Print(store.Summarise(), store.Height, result.GetValue(json));
                return ExitCodes.Ok;
            }

            var options = mqtt.Read(result) ?? throw new CliException("--broker: required (or --dump)", ExitCodes.BadInput);
            using var loggers = AgentLogging.CreateStderr();
            var op = result.GetValue(operatorAddress);
            if (op is not null && !EdgeMeter.Crypto.Keys.EthereumAddress.TryParse(op, stackalloc byte[20]))
                throw new CliException($"--operator: must be 0x and 40 hex digits (got '{op}')", ExitCodes.BadInput);
            var ledger = AtData(() => new DevLedger(options, dir, result.GetValue(chainId), loggers.CreateLogger<DevLedger>(), op));
            await using (ledger.ConfigureAwait(false))
            {
                await ledger.RunAsync(ct).ConfigureAwait(false);
            }
            return ExitCodes.Ok;
        });
        return command;
    }

    /// <summary>Opens what lives in the ledger's data directory: a file there the ledger cannot take is bad input, named by <c>--data</c>.</summary>
    private static T AtData<T>(Func<T> open)
    {
        try
        {
            return open();
        }
        catch (InvalidDataException e)
        {
            throw new CliException($"--data: {e.Message}", ExitCodes.BadInput);
        }
    }

    private static void Print(IReadOnlyList<DeviceSummary> devices, long height, bool json)
    {
        if (json)
        {
            using var stdout = Console.OpenStandardOutput();
            using (var w = new Utf8JsonWriter(stdout, new JsonWriterOptions { Indented = true }))
            {
                w.WriteStartObject();
                w.WriteNumber("height", height);
                w.WriteStartArray("devices");
                foreach (var d in devices)
                {
                    w.WriteStartObject();
                    w.WriteString("device", d.Device);
                    w.WriteNumber("accepted", d.Accepted);
                    w.WriteNumber("lowestSeq", d.Lowest);
                    w.WriteNumber("highestSeq", d.Highest);
                    w.WriteStartArray("gaps");
                    foreach (var g in d.Gaps)
                        w.WriteNumberValue(g);
                    w.WriteEndArray();
                    w.WriteStartArray("duplicates");
                    foreach (var g in d.Duplicates)
                        w.WriteNumberValue(g);
                    w.WriteEndArray();
                    // Ranges the device's chain skips by its own signed gap declaration: declared, not missing.
                    w.WriteStartArray("declaredGaps");
                    foreach (var g in d.DeclaredGaps)
                    {
                        w.WriteStartObject();
                        w.WriteNumber("seq", g.Sequence);
                        w.WriteNumber("fromSeq", g.From);
                        w.WriteNumber("toSeq", g.To);
                        w.WriteString("reason", VerifyCommand.GapReasonName(g.Reason));
                        w.WriteEndObject();
                    }
                    w.WriteEndArray();
                    w.WriteNumber("balance", d.Balance);
                    // Per month, the claimed and the recomputed figures, and the verdict.
                    w.WriteStartArray("claims");
                    foreach (var c in d.Claims)
                    {
                        w.WriteStartObject();
                        w.WriteString("month", c.Month);
                        w.WriteBoolean("final", c.Final);
                        w.WriteString("status", c.Status);
                        w.WriteNumber("claimed", c.Claimed);
                        if (c.Recomputed is { } r)
                            w.WriteNumber("recomputed", r);
                        else
                            w.WriteNull("recomputed");
                        if (c.Reason is not null)
                            w.WriteString("reason", c.Reason);
                        w.WriteEndObject();
                    }
                    w.WriteEndArray();
                    w.WriteEndObject();
                }
                w.WriteEndArray();
                w.WriteEndObject();
            }
            stdout.Write("\n"u8);
            return;
        }
        Console.WriteLine($"height {height}");
        foreach (var d in devices)
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{d.Device}  accepted {d.Accepted}  seq {d.Lowest}..{d.Highest}  gaps {(d.Gaps.Count == 0 ? "none" : string.Join(',', d.Gaps))}  duplicates {(d.Duplicates.Count == 0 ? "none" : string.Join(',', d.Duplicates))}  balance {d.Balance}"));
            foreach (var g in d.DeclaredGaps)
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  declared gap: seqs {g.From}..{g.To} skipped at seq {g.Sequence} ({VerifyCommand.GapReasonName(g.Reason)})"));
            foreach (var c in d.Claims)
            {
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"  {c.Month} {(c.Final ? "final" : "running")} {c.Status}: claimed {c.Claimed}, recomputed {(c.Recomputed is { } r ? r.ToString(CultureInfo.InvariantCulture) : "-")}{(c.Reason is null ? "" : "  (" + c.Reason + ")")}"));
            }
        }
    }
}
