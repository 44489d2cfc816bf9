using System.CommandLine;

namespace EdgeMeter.Agent.Cli;

/// <summary><c>edgemeter verify FILE</c>.</summary>
internal static class VerifyCommand
{
    public static Command Create() => new("verify", "Verify an export: signatures, hash chain and sequence.");
}
