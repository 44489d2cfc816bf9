using System.CommandLine;

namespace EdgeMeter.Agent.Cli;

/// <summary>The command line: one root command, one sub-command per capability.</summary>
internal static class CliApp
{
    public static RootCommand Build()
    {
        var root = new RootCommand("EdgeMeter: signed meter readings for the energy token economy.");
        root.Subcommands.Add(AgentCommands.CreateRun());
        root.Subcommands.Add(AgentCommands.CreateDemo());
        root.Subcommands.Add(LedgerCommand.Create());
        root.Subcommands.Add(ModbusCommands.CreateRead());
        root.Subcommands.Add(ModbusCommands.CreateScan());
        root.Subcommands.Add(KeysCommand.Create());
        root.Subcommands.Add(ExportCommand.Create());
        root.Subcommands.Add(VerifyCommand.Create());
        root.Subcommands.Add(FactorsCommand.Create());
        root.Subcommands.Add(BenchCommand.Create());
        root.Subcommands.Add(RuntimeCommand.Create());
        return root;
    }

    private static IEnumerable<string> CommandPath(ParseResult parsed)
    {
        var names = new List<string>();
        for (var c = parsed.CommandResult; c is not null; c = c.Parent as System.CommandLine.Parsing.CommandResult)
        {
            if (c.Command is not RootCommand)
                names.Insert(0, c.Command.Name);
        }
        return names;
    }

    public static async Task<int> RunAsync(string[] args)
    {
        try
        {
            // Our handlers throw CliException for user errors; System.CommandLine's own handler would print a stack trace and exit 1.
            var parsed = Build().Parse(args);
            if (parsed.Errors.Count > 0)
            {
                // Usage errors are bad input: one line and exit 2, not System.CommandLine's help dump and 1.
                var help = string.Join(' ', ["edgemeter", .. CommandPath(parsed), "--help"]);
                var messages = parsed.Errors.Select(e => e.Message.TrimEnd('.')).Distinct();
                return CliOutput.Fail($"{string.Join("; ", messages)} (see '{help}')", ExitCodes.BadInput);
            }
            return await parsed.InvokeAsync(new InvocationConfiguration { EnableDefaultExceptionHandler = false, ProcessTerminationTimeout = TimeSpan.FromSeconds(15) }).ConfigureAwait(false);
        }
        catch (CliException e)
        {
            return CliOutput.Fail(e.Message, e.ExitCode);
        }
        catch (Exception e) when (e is not OperationCanceledException && Environment.GetEnvironmentVariable("EDGEMETER_DEBUG") is null)
        {
            // A bug, not a user error: still one line, with the way to the full trace.
            return CliOutput.Fail($"unexpected {e.GetType().Name}: {e.Message} (set EDGEMETER_DEBUG=1 for the stack trace)");
        }
    }
}
