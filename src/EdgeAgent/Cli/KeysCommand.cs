using System.CommandLine;

namespace EdgeMeter.Agent.Cli;

/// <summary><c>edgemeter keys show</c>.</summary>
internal static class KeysCommand
{
    public static Command Create() => new("keys", "Show the device identity (address and public key).");
}
