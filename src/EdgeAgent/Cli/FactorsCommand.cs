using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Json;
using EdgeMeter.Agent.Factors;
using EdgeMeter.Economics;

namespace EdgeMeter.Agent.Cli;

/// <summary>
/// <c>edgemeter factors --input SCENARIO.json [--json]</c>, or from a verified export:
/// <c>edgemeter factors --export FILE.jsonl --month YYYY-MM [--params P.json] [--events E.json] [--interval-minutes N] [--carry-in X] [--json|--claim]</c>.
/// </summary>
internal static class FactorsCommand
{
    public static Command Create()
    {
        var input = new Option<string>("--input")
        {
            Description = "Scenario file: {\"params\":{...},\"intervals\":[...],\"events\":[...]} (see src/Economics/Factors/README.md).",
        };
        var export = new Option<string?>("--export") { Description = "A JSONL export (check it with edgemeter verify first): compute the month from its readings, as the ledger does." };
        var month = new Option<string?>("--month") { Description = "With --export: the month, YYYY-MM." };
        var paramsFile = new Option<string?>("--params") { Description = "With --export: the operator's parameters (JSON); default the development defaults." };
        var eventsFile = new Option<string?>("--events") { Description = "With --export: the operator's events (an array, or an operator payload with \"events\")." };
        var minutes = new Option<int>("--interval-minutes") { Description = "With --export: the interval length the claim names.", DefaultValueFactory = _ => 15 };
        var carry = new Option<decimal>("--carry-in") { Description = "With --export: the congestion carry from the previous month." };
        var claimOut = new Option<bool>("--claim") { Description = "With --export: print the claim's canonical JSON (the bytes the gateway signs) instead." };
        var json = CliOutput.JsonOption();
        var cmd = new Command("factors", "Compute one month's contribution factors and tokens from a scenario file or from an export.");
        cmd.Options.Add(input);
        cmd.Options.Add(export);
        cmd.Options.Add(month);
        cmd.Options.Add(paramsFile);
        cmd.Options.Add(eventsFile);
        cmd.Options.Add(minutes);
        cmd.Options.Add(carry);
        cmd.Options.Add(claimOut);
        cmd.Options.Add(json);
        cmd.SetAction(async (ParseResult pr, CancellationToken ct) =>
        {
            FactorResult result;
            try
            {
                if (pr.GetValue(export) is { } exportPath)
                {
                    if (pr.GetValue(input) is not null)
                        throw new CliException("--input and --export: give one of them", ExitCodes.BadInput);
                    var claim = await ClaimFromExportAsync(exportPath, pr.GetValue(month), pr.GetValue(paramsFile), pr.GetValue(eventsFile),
                        pr.GetValue(minutes), pr.GetValue(carry), ct).ConfigureAwait(false);
                    if (pr.GetValue(claimOut))
                    {
                        await Console.Out.WriteLineAsync(Encoding.UTF8.GetString(claim.ToCanonicalJson())).ConfigureAwait(false);
                        return ExitCodes.Ok;
                    }
                    result = claim.Result;
                }
                else
                {
                    var path = pr.GetValue(input) ?? throw new CliException("--input or --export: one is required", ExitCodes.BadInput);
                    result = await ComputeFileAsync(path, ct).ConfigureAwait(false);
                }
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

    /// <summary>
    /// The month's claim from the readings of an export, exactly as the ledger recomputes it: every record of the
    /// device, accumulated into intervals of <paramref name="intervalMinutes"/>, through the end of the month.
    /// </summary>
    internal static async Task<TokenClaim> ClaimFromExportAsync(string path, string? monthText, string? paramsPath, string? eventsPath, int intervalMinutes, decimal carryIn, CancellationToken ct)
    {
        if (!FactorMonth.TryParse(monthText, out var month))
            throw new CliException("--month: required with --export, YYYY-MM", ExitCodes.BadInput);
        if (intervalMinutes <= 0 || 1440 % intervalMinutes != 0)
            throw new CliException("--interval-minutes: must divide 1440", ExitCodes.BadInput);
        if (carryIn < 0)
            throw new CliException("--carry-in: must not be negative", ExitCodes.BadInput);
        try
        {
            var p = FactorJson.ParseParams(paramsPath is null ? Encoding.UTF8.GetBytes(FactorParams.DevelopmentDefaultsJson) : await Read(paramsPath).ConfigureAwait(false));
            IReadOnlyList<FactorEvent> events = [];
            if (eventsPath is not null)
            {
                var bytes = await Read(eventsPath).ConfigureAwait(false);
                using var doc = JsonDocument.Parse(bytes);
                events = doc.RootElement.ValueKind == JsonValueKind.Object && doc.RootElement.TryGetProperty("events", out _)
                    ? OperatorMessage.ReadEvents(bytes)
                    : FactorJson.ParseEvents(bytes);
            }
            var accumulator = new IntervalAccumulator(intervalMinutes);
            string? device = null;
            var number = 0;
            foreach (var line in File.ReadLines(path, Encoding.UTF8))
            {
                number++;
                if (line.Length == 0)
                    continue;
                EdgeMeter.Crypto.Records.ReadingRecord record;
                try
                {
                    using var doc = JsonDocument.Parse(line);
                    // A gap declaration carries no energy: the months are computed from the readings around it.
                    if (EdgeMeter.Crypto.Records.ReadingJson.ReadExport(doc.RootElement).Reading.Reading is not { } reading)
                        continue;
                    record = reading;
                }
                catch (Exception e) when (e is JsonException or FormatException or KeyNotFoundException or InvalidOperationException)
                {
                    throw new CliException($"{path}: line {number}: not a record of a JSONL export ({e.Message.ReplaceLineEndings(" ")})", ExitCodes.BadInput);
                }
                device ??= record.Device;
                if (!string.Equals(device, record.Device, StringComparison.OrdinalIgnoreCase))
                    throw new CliException($"{path}: line {number}: another device ({record.Device}); export one device", ExitCodes.BadInput);
                accumulator.Add(record);
            }
            if (device is null)
                throw new CliException($"{path}: no records", ExitCodes.BadInput);
            return accumulator.BuildClaimThrough(device, month, p, events, carryIn, month.Next().StartIn(p.TimeZone));
        }
        catch (FactorInputException e)
        {
            throw new CliException(e.Message, ExitCodes.BadInput);
        }
        catch (JsonException e)
        {
            throw new CliException($"not valid JSON: {e.Message.ReplaceLineEndings(" ")}", ExitCodes.BadInput);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CliException($"{path}: cannot read: {e.Message.ReplaceLineEndings(" ")}", ExitCodes.BadInput);
        }

        static async Task<byte[]> Read(string file)
        {
            try
            {
                return await File.ReadAllBytesAsync(file).ConfigureAwait(false);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new CliException($"{file}: cannot read: {e.Message.ReplaceLineEndings(" ")}", ExitCodes.BadInput);
            }
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
