using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using EdgeMeter.Agent.Bench;

namespace EdgeMeter.Agent.Cli;

/// <summary><c>edgemeter bench [--json] [--quick]</c>: what this board can carry.</summary>
internal static class BenchCommand
{
    public static Command Create()
    {
        var json = CliOutput.JsonOption();
        var quick = new Option<bool>("--quick") { Description = "Short phases (about 3 s in all); rougher figures." };
        var command = new Command("bench", "Measure signing, recovery, Modbus reads, bytes written per record and backlog drain on this machine.")
        {
            json, quick,
        };
        command.SetAction(async (result, ct) =>
        {
            AgentCommands.RequireOpenSsl();
            var r = await GatewayBench.RunAsync(result.GetValue(quick), ct).ConfigureAwait(false);
            if (result.GetValue(json))
                WriteJson(r);
            else
                WriteText(r);
            return ExitCodes.Ok;
        });
        return command;
    }

    private static void WriteJson(BenchResult r)
    {
        using var stdout = Console.OpenStandardOutput();
        using (var w = new Utf8JsonWriter(stdout))
        {
            w.WriteStartObject();
            w.WriteNumber("signPerSecond", Math.Round(r.SignPerSecond));
            w.WriteNumber("recoverPerSecond", Math.Round(r.RecoverPerSecond));
            w.WriteNumber("modbusReadsPerSecond", Math.Round(r.ModbusReadsPerSecond));
            w.WriteNumber("bytesPerRecord", Math.Round(r.BytesPerRecord));
            w.WriteNumber("drainPerSecond", Math.Round(r.DrainPerSecond));
            w.WriteEndObject();
        }
        stdout.Write("\n"u8);
    }

    private static void WriteText(BenchResult r)
    {
        var c = CultureInfo.InvariantCulture;
        Console.Out.WriteLine(string.Create(c, $"signatures per second (one core):        {r.SignPerSecond,10:N0}"));
        Console.Out.WriteLine(string.Create(c, $"recoveries per second (one core):        {r.RecoverPerSecond,10:N0}"));
        Console.Out.WriteLine(string.Create(c, $"full SDM630 Modbus reads per second:     {r.ModbusReadsPerSecond,10:N0}"));
        Console.Out.WriteLine(string.Create(c, $"bytes written per stored record:         {r.BytesPerRecord,10:N0}"));
        Console.Out.WriteLine(string.Create(c, $"backlog records drained per second:      {r.DrainPerSecond,10:N0}"));
    }
}
