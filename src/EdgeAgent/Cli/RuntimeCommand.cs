using System.CommandLine;
using System.Globalization;
using System.Runtime;
using System.Text.Json;
using EdgeMeter.Agent.Status;

namespace EdgeMeter.Agent.Cli;

/// <summary>
/// <c>edgemeter runtime [--json]</c>: the garbage collector's settings as this binary runs them (those baked in at
/// publish time, <c>EdgeAgent.csproj</c>, or overridden by <c>DOTNET_*</c> variables) and this process's memory.
/// </summary>
internal static class RuntimeCommand
{
    public static Command Create()
    {
        var json = CliOutput.JsonOption();
        var command = new Command("runtime", "Print the effective garbage-collector settings of this binary.") { json };
        command.SetAction((ParseResult result, CancellationToken _) =>
        {
            var settings = Effective();
            if (result.GetValue(json))
                WriteJson(settings);
            else
                WriteText(settings);
            return Task.FromResult(ExitCodes.Ok);
        });
        return command;
    }

    /// <summary>What the GC reports (<see cref="GC.GetConfigurationVariables"/>), sorted by name, plus the server and concurrent modes.</summary>
    internal static SortedDictionary<string, object> Effective()
    {
        var settings = new SortedDictionary<string, object>(StringComparer.Ordinal);
        foreach (var (name, value) in GC.GetConfigurationVariables())
            settings[name] = value;
        settings["ServerGC"] = GCSettings.IsServerGC;
        return settings;
    }

    private static byte[]? s_sink;

    /// <summary>
    /// How many gen0 collections 16 MiB of short-lived 1 KB arrays cause: about 16 with the baked-in 1 MiB gen0 budget,
    /// one or none with a budget sized from a server's cache. GCgen0size is not among the GC's reported variables,
    /// so this is how the binary shows it runs with it.
    /// </summary>
    internal static int Gen0CollectionsPer16MiB()
    {
        GC.Collect();
        int before = GC.CollectionCount(0);
        for (int i = 0; i < 16 * 1024; i++)
            s_sink = new byte[1000];
        s_sink = null;
        return GC.CollectionCount(0) - before;
    }

    private static void WriteJson(SortedDictionary<string, object> settings)
    {
        using var stdout = Console.OpenStandardOutput();
        using (var w = new Utf8JsonWriter(stdout))
        {
            w.WriteStartObject();
            w.WriteStartObject("gc");
            foreach (var (name, value) in settings)
            {
                switch (value)
                {
                    case bool b:
                        w.WriteBoolean(name, b);
                        break;
                    case long l:
                        w.WriteNumber(name, l);
                        break;
                    case ulong u:
                        w.WriteNumber(name, u);
                        break;
                    case int i:
                        w.WriteNumber(name, i);
                        break;
                    default:
                        w.WriteString(name, value as string ?? value.ToString());
                        break;
                }
            }
            w.WriteEndObject();
            w.WriteNumber("gen0CollectionsPer16MiB", Gen0CollectionsPer16MiB());
            w.WriteNumber("peakRssKb", ProcessMemory.PeakRssKb());
            w.WriteEndObject();
        }
        stdout.Write("\n"u8);
    }

    private static void WriteText(SortedDictionary<string, object> settings)
    {
        foreach (var (name, value) in settings)
            Console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{name,-32} {value}"));
        Console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{"gen0 collections per 16 MiB",-32} {Gen0CollectionsPer16MiB()}"));
        Console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{"peak resident set (kB)",-32} {ProcessMemory.PeakRssKb()}"));
    }
}
