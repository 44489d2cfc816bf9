using System.Runtime.CompilerServices;
using System.Text.Json;
using EdgeMeter.Agent.Cli;
using EdgeMeter.Agent.Factors;
using EdgeMeter.Economics;
using Xunit;

namespace EdgeMeter.Agent.Tests.Factors;

/// <summary>Tests that swap Console.Out/Error run alone: the console is process-wide.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class FactorsConsoleCollection
{
    public const string Name = "Factors console";
}

internal static class FactorTestSupport
{
    public static string ScenarioDir([CallerFilePath] string thisFile = "") =>
        Path.Combine(Path.GetDirectoryName(thisFile)!, "..", "..", "Economics.Tests", "Factors", "scenarios");

    public static string Scenario(string name) => Path.Combine(ScenarioDir(), name);

    public static FactorResult Compute(string name) =>
        FactorJson.ParseScenario(File.ReadAllBytes(Scenario(name))).Compute();

    public static async Task<(int Code, string Out, string Err)> RunCliAsync(params string[] args)
    {
        var oldOut = Console.Out;
        var oldErr = Console.Error;
        using var outWriter = new StringWriter();
        using var errWriter = new StringWriter();
        Console.SetOut(outWriter);
        Console.SetError(errWriter);
        try
        {
            var code = await CliApp.RunAsync(args);
            return (code, outWriter.ToString(), errWriter.ToString());
        }
        finally
        {
            Console.SetOut(oldOut);
            Console.SetError(oldErr);
        }
    }

    /// <summary>Runs <c>factors --input file --json</c> and returns the parsed output, asserting success.</summary>
    public static async Task<CliOutputValues> RunScenarioJsonAsync(string path)
    {
        var (code, stdout, stderr) = await RunCliAsync("factors", "--input", path, "--json");
        Assert.Equal("", stderr);
        Assert.Equal(0, code);
        using var doc = JsonDocument.Parse(stdout);
        var r = doc.RootElement;
        Assert.Equal(10, r.EnumerateObject().Count());
        return new CliOutputValues(
            r.GetProperty("month").GetString()!,
            r.GetProperty("cleanShare").GetDecimal(),
            r.GetProperty("fDemand").GetDecimal(),
            r.GetProperty("fSupply").ValueKind == JsonValueKind.Null ? null : r.GetProperty("fSupply").GetDecimal(),
            r.GetProperty("eDrKwh").GetDecimal(),
            r.GetProperty("congestionFactor").GetDecimal(),
            r.GetProperty("congestionCarryOut").GetDecimal(),
            r.GetProperty("carbonTokens").GetInt64(),
            r.GetProperty("congestionTokens").GetInt64(),
            r.GetProperty("totalTokens").GetInt64());
    }
}

internal sealed record CliOutputValues(
    string Month,
    decimal CleanShare,
    decimal FDemand,
    decimal? FSupply,
    decimal EDrKwh,
    decimal CongestionFactor,
    decimal CongestionCarryOut,
    long CarbonTokens,
    long CongestionTokens,
    long TotalTokens);
