using System.CommandLine;
using System.Text;
using System.Text.Json;
using EdgeMeter.Crypto.Keys;
using EdgeMeter.Crypto.Verification;
using EdgeMeter.Economics;

namespace EdgeMeter.Agent.Cli;

/// <summary><c>edgemeter verify FILE [--signer ADDRESS] [--json]</c>.</summary>
internal static class VerifyCommand
{
    public static Command Create()
    {
        var command = new Command("verify",
            "Verify an export: signatures, hash chain and sequence. Exits 0 only when every record holds.");
        var file = new Argument<FileInfo>("file") { Description = "A JSONL export (edgemeter export --format jsonl)." };
        var signer = new Option<string?>("--signer") { Description = "Require every record to be signed by this 0x address." };
        var json = CliOutput.JsonOption();
        command.Arguments.Add(file);
        command.Options.Add(signer);
        command.Options.Add(json);
        command.SetAction((ParseResult pr, CancellationToken ct) =>
        {
            var path = pr.GetValue(file)!;
            string? expected = pr.GetValue(signer);
            if (expected is not null && !EthereumAddress.TryParse(expected, stackalloc byte[20]))
                return Task.FromResult(CliOutput.Fail($"--signer '{expected}' is not a 0x address", ExitCodes.BadInput));
            if (!path.Exists)
                return Task.FromResult(CliOutput.Fail($"no such file: {path.FullName}", ExitCodes.BadInput));

            VerificationReport report;
            using (var reader = new StreamReader(path.FullName, Encoding.UTF8))
                report = ChainVerifier.VerifyJsonLines(reader, expected);

            if (pr.GetValue(json))
                WriteJson(report);
            else
                WriteText(report);
            return Task.FromResult(report.Ok ? ExitCodes.Ok : ExitCodes.Failure);
        });
        return command;
    }

    private static void WriteText(VerificationReport report)
    {
        foreach (var finding in report.Findings)
            Console.Out.WriteLine(finding.ToString());
        foreach (var device in report.Devices)
            Console.Out.WriteLine($"device {device.Device}: seq {device.FirstSequence}..{device.LastSequence}, {device.VerifiedRecords} verified");
        Console.Out.WriteLine(report.Ok
            ? $"OK: {report.RecordCount} records verified"
            : $"FAILED: {report.Findings.Count} problem(s) in {report.RecordCount} records");
    }

    private static void WriteJson(VerificationReport report)
    {
        using var stdout = Console.OpenStandardOutput();
        using (var writer = new Utf8JsonWriter(stdout, new JsonWriterOptions { Indented = true }))
        {
            writer.WriteStartObject();
            writer.WriteBoolean("ok", report.Ok);
            writer.WriteNumber("records", report.RecordCount);
            writer.WriteStartArray("devices");
            foreach (var device in report.Devices)
            {
                writer.WriteStartObject();
                writer.WriteString("device", device.Device);
                writer.WriteNumber("firstSeq", device.FirstSequence);
                writer.WriteNumber("lastSeq", device.LastSequence);
                writer.WriteNumber("verified", device.VerifiedRecords);
                writer.WriteEndObject();
            }
            writer.WriteEndArray();
            writer.WriteStartArray("findings");
            foreach (var finding in report.Findings)
            {
                writer.WriteStartObject();
                writer.WriteString("kind", finding.Kind.ToString());
                writer.WriteNumber("seq", finding.Sequence);
                if (finding.Line is int line)
                    writer.WriteNumber("line", line);
                if (finding.Device is not null)
                    writer.WriteString("device", finding.Device);
                writer.WriteString("message", finding.Message);
                writer.WriteEndObject();
            }
            writer.WriteEndArray();
            writer.WriteEndObject();
        }
        stdout.Write("\n"u8);
    }
}
