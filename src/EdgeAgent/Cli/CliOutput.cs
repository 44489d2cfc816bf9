using System.CommandLine;

namespace EdgeMeter.Agent.Cli;

/// <summary>Exit codes shared by every command.</summary>
internal static class ExitCodes
{
    public const int Ok = 0;
    /// <summary>The operation ran and failed: a timeout, a failed verification, an unreachable peer.</summary>
    public const int Failure = 1;
    /// <summary>Bad usage or bad configuration: the user must change something.</summary>
    public const int BadInput = 2;
}

/// <summary>Thrown by command handlers for an error the user should see as one line.</summary>
internal sealed class CliException(string message, int exitCode = ExitCodes.Failure) : Exception(message)
{
    public int ExitCode { get; } = exitCode;
}

/// <summary>Common options and the one-line error convention.</summary>
internal static class CliOutput
{
    /// <summary>Writes "edgemeter: message" to stderr and returns the exit code.</summary>
    public static int Fail(string message, int exitCode = ExitCodes.Failure)
    {
        Console.Error.WriteLine($"edgemeter: {message}");
        return exitCode;
    }

    /// <summary>The <c>--json</c> flag every reporting command takes.</summary>
    public static Option<bool> JsonOption() => new("--json") { Description = "Machine-readable JSON output on stdout." };
}
