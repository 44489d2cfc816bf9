using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Json;
using EdgeMeter.Agent.Factors;
using EdgeMeter.Economics;

namespace EdgeMeter.Agent.Cli;

/// <summary><c>edgemeter factors --input SCENARIO.json [--json]</c>.</summary>
internal static class FactorsCommand
{
    public static Command Create()
    {
        var input = new Option<string>("--input")
        {
            Description = "Scenario file: {\"params\":{...},\"intervals\":[...],\"events\":[...]} (see src/EdgeAgent/Factors/README.md).",
            Required = true,
        };
        var json = CliOutput.JsonOption();
        var cmd = new Command("factors", "Compute one month's contribution factors and tokens from a scenario file.");
        cmd.Options.Add(input);
        cmd.Options.Add(json);
        cmd.SetAction(async (ParseResult pr, CancellationToken ct) =>
        {
            var path = pr.GetValue(input)!;
            FactorResult result;
            try
            {
                result = await ComputeFileAsync(path, ct).ConfigureAwait(false);
            }
            catch (CliException e)
            {
                // System.CommandLine's default handler would print a stack trace before CliApp sees the exception.
                return CliOutput.Fail(e.Message, e.ExitCode);
            }
            if (pr.GetValue(json))
            {
                await Console.Out.WriteLineAsync(ToJson(result)).ConfigureAwait(false);
            }
            else
            {
                await Console.Out.WriteAsync(ToTable(result)).ConfigureAwait(false);
            }
            return ExitCodes.Ok;
        });
        return cmd;
    }

    /// <summary>Reads, parses and computes a scenario; every input problem becomes a one-line <see cref="CliException"/> with exit code 2.</summary>
    internal static async Task<FactorResult> ComputeFileAsync(string path, CancellationToken ct)
    {
        byte[] bytes;
        try
        {
            bytes = await File.ReadAllBytesAsync(path, ct).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CliException($"{path}: cannot read: {e.Message.ReplaceLineEndings(" ")}", ExitCodes.BadInput);
        }
        try
        {
            return FactorJson.ParseScenario(bytes).Compute();
        }
        catch (FactorInputException e)
        {
            throw new CliException($"{path}: {e.Message}", ExitCodes.BadInput);
        }
        catch (OverflowException e)
        {
            throw new CliException($"{path}: numbers too large to compute: {e.Message}", ExitCodes.BadInput);
        }
    }

    /// <summary>The <c>--json</c> document: quantities rounded half away from zero to 6 places, tokens as integers.</summary>
    internal static string ToJson(FactorResult r)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteString("month", r.Month.ToString());
            w.WriteNumber("cleanShare", FactorDecimal.Round6(r.CleanShare));
            w.WriteNumber("fDemand", FactorDecimal.Round6(r.FDemand));
            if (r.FSupply is { } fSupply)
            {
                w.WriteNumber("fSupply", FactorDecimal.Round6(fSupply));
            }
            else
            {
                w.WriteNull("fSupply");
            }
            w.WriteNumber("eDrKwh", FactorDecimal.Round6(r.EDrKwh));
            w.WriteNumber("congestionFactor", FactorDecimal.Round6(r.CongestionFactor));
            w.WriteNumber("congestionCarryOut", FactorDecimal.Round6(r.CongestionCarryOut));
            w.WriteNumber("carbonTokens", r.CarbonTokens);
            w.WriteNumber("congestionTokens", r.CongestionTokens);
            w.WriteNumber("totalTokens", r.TotalTokens);
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    private static string ToTable(FactorResult r)
    {
        var sb = new StringBuilder();
        Row("month", r.Month.ToString());
        Row("clean share", Fmt(r.CleanShare));
        Row("F_demand", Fmt(r.FDemand));
        Row("F_supply", r.FSupply is { } f ? Fmt(f) : "-");
        Row("E_dr (kWh)", Fmt(r.EDrKwh));
        Row("congestion factor C", Fmt(r.CongestionFactor));
        Row("congestion carry-out", Fmt(r.CongestionCarryOut));
        Row("carbon tokens", r.CarbonTokens.ToString(CultureInfo.InvariantCulture));
        Row("congestion tokens", r.CongestionTokens.ToString(CultureInfo.InvariantCulture));
        Row("total tokens", r.TotalTokens.ToString(CultureInfo.InvariantCulture));
        return sb.ToString();

        void Row(string name, string value) => sb.Append(CultureInfo.InvariantCulture, $"{name,-22}{value}\n");
        static string Fmt(decimal d) => FactorDecimal.Format(FactorDecimal.Round6(d));
    }
}
