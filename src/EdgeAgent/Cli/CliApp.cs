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
        root.Subcommands.Add(VerifyCommand.Create());
        root.Subcommands.Add(FactorsCommand.Create());
        return root;
    }

    public static async Task<int> RunAsync(string[] args)
    {
        try
        {
            // Our handlers throw CliException for user errors; System.CommandLine's own handler would print a stack trace and exit 1.
            return await Build().Parse(args).InvokeAsync(new InvocationConfiguration { EnableDefaultExceptionHandler = false }).ConfigureAwait(false);
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
