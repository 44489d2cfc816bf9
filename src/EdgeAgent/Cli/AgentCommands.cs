using System.CommandLine;
using System.Text.Json;
using EdgeMeter.Agent.Configuration;
using EdgeMeter.Agent.Demo;
using EdgeMeter.Agent.Hosting;
using EdgeMeter.Protocols.Modbus;

namespace EdgeMeter.Agent.Cli;

/// <summary><c>edgemeter run</c> (the service) and <c>edgemeter demo</c>.</summary>
internal static class AgentCommands
{
    public static Command CreateRun()
    {
        var config = new Option<string?>("--config") { Description = $"Configuration file (default {ConfigLoader.DefaultPath})." };
        var lcd = LcdOption();
        var command = new Command("run", "Run the agent as a service (systemd Type=notify).") { config, lcd };
        command.SetAction(async (result, ct) =>
        {
            var path = result.GetValue(config) ?? ConfigLoader.DefaultPath;
            var options = LoadConfig(path);
            options.Display.Trace = LcdTrace(result.GetValue(lcd)) ?? options.Display.Trace;
            RequireOpenSsl();
            return await AgentHost.RunAsync(options, ct, configPath: path).ConfigureAwait(false);
        });
        return command;
    }

    /// <summary>Loads and validates the configuration; a problem stops with one line naming the key and exit code 2.</summary>
    internal static AgentOptions LoadConfig(string path)
    {
        try
        {
            var configuration = ConfigLoader.Build(path);
            return ConfigLoader.Load(configuration, path, requireMeters: true, Metering.MeterEndpoints.Check, RegisterMaps.Check);
        }
        catch (ConfigException e)
        {
            throw new CliException(e.Message, ExitCodes.BadInput);
        }
    }

    private static Option<string?> LcdOption() =>
        new("--lcd") { Description = "trace:FILE writes every byte sent to the LCD to FILE, one hex byte per line (a stand-in takes them without an LCD)." };

    /// <summary>The trace file of <c>--lcd trace:FILE</c>, as a full path; null when the option is absent.</summary>
    internal static string? LcdTrace(string? value)
    {
        if (value is null)
            return null;
        const string prefix = "trace:";
        if (!value.StartsWith(prefix, StringComparison.Ordinal) || value.Length == prefix.Length)
            throw new CliException($"--lcd: must be trace:FILE (got '{value}')", ExitCodes.BadInput);
        return Path.GetFullPath(value[prefix.Length..]);
    }

    internal static void RequireOpenSsl()
    {
        if (NativeChecks.CheckOpenSsl() is { } problem)
            throw new CliException(problem, ExitCodes.Failure);
    }

    public static Command CreateDemo()
    {
        var exitAfter = new Option<double?>("--exit-after") { Description = "Stop after this many seconds and print one JSON line of counters." };
        var data = new Option<string?>("--data") { Description = "Keep the demo's state (key, databases) here; default a fresh temporary folder." };
        var http = new Option<string>("--http") { Description = "URL of the local web page.", DefaultValueFactory = _ => "http://127.0.0.1:8080" };
        var noLedger = new Option<bool>("--no-ledger") { Description = "Do not run the development ledger in-process (it runs elsewhere)." };
        var ledgerAddress = new Option<string?>("--ledger-address") { Description = "With --no-ledger: the address of the ledger whose signed receipts and balances count (its log shows it)." };
        var backlog = new Option<int>("--backlog") { Description = "First fill the outbox with N signed readings, as if the uplink had been down; reports drainSeconds." };
        var meterCount = new Option<int>("--meters") { Description = "Simulated meters to poll (2 by default: grid and PV).", DefaultValueFactory = _ => 2 };
        var lcd = LcdOption();
        var mqtt = new MqttCliOptions();
        var command = new Command("demo", "Run the whole path with simulated meters, an embedded broker and the development ledger.")
        {
            exitAfter, data, http, noLedger, ledgerAddress, backlog, meterCount, lcd,
        };
        mqtt.AddTo(command);
        command.SetAction(async (result, ct) =>
        {
            var seconds = result.GetValue(exitAfter);
            if (seconds is <= 0)
                throw new CliException("--exit-after: must be greater than 0", ExitCodes.BadInput);
            var n = result.GetValue(backlog);
            if (n < 0)
                throw new CliException("--backlog: must not be negative", ExitCodes.BadInput);
            if (result.GetValue(meterCount) is < 1 or > 32)
                throw new CliException("--meters: must be 1 to 32", ExitCodes.BadInput);
            var external = mqtt.Read(result);
            if (result.GetValue(noLedger) && external is null)
                throw new CliException("--no-ledger needs --broker: with the embedded broker nobody else could run the ledger", ExitCodes.BadInput);
            var ledger = result.GetValue(ledgerAddress);
            if (ledger is not null && !result.GetValue(noLedger))
                throw new CliException("--ledger-address: only with --no-ledger (the in-process ledger's address is known)", ExitCodes.BadInput);
            if (ledger is not null && !EdgeMeter.Crypto.Keys.EthereumAddress.TryParse(ledger, stackalloc byte[20]))
                throw new CliException($"--ledger-address: must be 0x and 40 hex digits (got '{ledger}')", ExitCodes.BadInput);
            var url = result.GetValue(http)!;
            if (!Uri.TryCreate(url, UriKind.Absolute, out var u) || u.Scheme != "http")
                throw new CliException($"--http: must be http://host:port (got '{url}')", ExitCodes.BadInput);
            RequireOpenSsl();

            var settings = new DemoSettings
            {
                DataDirectory = result.GetValue(data),
                HttpUrl = url,
                ExitAfter = seconds is { } s ? TimeSpan.FromSeconds(s) : null,
                ExternalBroker = external,
                NoLedger = result.GetValue(noLedger),
                LedgerAddress = ledger,
                Backlog = n,
                LcdTrace = LcdTrace(result.GetValue(lcd)),
                MeterCount = result.GetValue(meterCount),
            };
            using var loggers = AgentLogging.CreateStderr();
            var outcome = await new DemoRunner(settings, loggers).RunAsync(ct).ConfigureAwait(false);
            if (settings.ExitAfter is not null)
                WriteResult(outcome);
            return ExitCodes.Ok;
        });
        return command;
    }

    private static void WriteResult(DemoResult r)
    {
        using var stdout = Console.OpenStandardOutput();
        using (var w = new Utf8JsonWriter(stdout))
        {
            w.WriteStartObject();
            w.WriteNumber("readings", r.Readings);
            w.WriteNumber("signed", r.Signed);
            w.WriteNumber("stored", r.Stored);
            w.WriteNumber("published", r.Published);
            w.WriteNumber("confirmed", r.Confirmed);
            w.WriteNumber("balance", r.Balance);
            if (r.DrainSeconds is { } d)
                w.WriteNumber("drainSeconds", d);
            if (r.DrainCpuSeconds is { } cpu)
                w.WriteNumber("drainCpuSeconds", cpu);
            if (r.FirstSignedMs >= 0)
            {
                w.WriteNumber("firstSignedMs", r.FirstSignedMs);
                w.WriteNumber("firstPollMs", r.FirstPollMs);
            }
            w.WriteEndObject();
        }
        stdout.Write("\n"u8);
    }
}
