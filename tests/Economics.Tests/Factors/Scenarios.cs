using System.Runtime.CompilerServices;

namespace EdgeMeter.Economics.Tests.Factors;

/// <summary>The scenario files (the <c>factors</c> command's tests in EdgeAgent.Tests read the same files).</summary>
internal static class Scenarios
{
    public static string Directory([CallerFilePath] string thisFile = "") =>
        System.IO.Path.Combine(System.IO.Path.GetDirectoryName(thisFile)!, "scenarios");

    public static string Scenario(string name) => System.IO.Path.Combine(Directory(), name);

    public static FactorResult Compute(string name) =>
        FactorJson.ParseScenario(File.ReadAllBytes(Scenario(name))).Compute();
}
