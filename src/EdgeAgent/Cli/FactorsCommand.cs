using System.CommandLine;

namespace EdgeMeter.Agent.Cli;

/// <summary><c>edgemeter factors --input SCENARIO.json</c>.</summary>
internal static class FactorsCommand
{
    public static Command Create() => new("factors", "Compute one month's contribution factors and tokens from a scenario file.");
}
