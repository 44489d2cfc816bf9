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
        var ocmfKey = new Option<string?>("--ocmf-key") { Description = "For an OCMF export: the gateway's OCMF public key (DER hex, as export prints it)." };
        var json = CliOutput.JsonOption();
        command.Arguments.Add(file);
        command.Options.Add(signer);
        command.Options.Add(ocmfKey);
        command.Options.Add(json);
        command.SetAction((ParseResult pr, CancellationToken ct) =>
        {
            var path = pr.GetValue(file)!;
            string? expected = pr.GetValue(signer);
            if (expected is not null && !EthereumAddress.TryParse(expected, stackalloc byte[20]))
                return Task.FromResult(CliOutput.Fail($"--signer '{expected}' is not a 0x address", ExitCodes.BadInput));
            if (!path.Exists)
                return Task.FromResult(CliOutput.Fail($"no such file: {path.FullName}", ExitCodes.BadInput));

            if (FirstLine(path.FullName)?.StartsWith("OCMF|", StringComparison.Ordinal) == true)
                return Task.FromResult(VerifyOcmf(path.FullName, pr.GetValue(ocmfKey)));

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

    private static string? FirstLine(string path)
    {
        using var reader = new StreamReader(path, Encoding.UTF8);
        string? line;
        while ((line = reader.ReadLine()) is not null)
        {
            if (line.Length > 0)
                return line;
        }
        return null;
    }

    /// <summary>
    /// An OCMF export (one <c>OCMF|payload|signature</c> per line) is recognised as such: its signatures are checked
    /// against <c>--ocmf-key</c>; without it, one line says what the file is and what to pass.
    /// </summary>
    private static int VerifyOcmf(string path, string? keyHex)
    {
        if (keyHex is null)
            return CliOutput.Fail($"{path} is an OCMF export: pass --ocmf-key with the OCMF public key (DER hex) that export printed, or check it with an OCMF tool", ExitCodes.BadInput);
        if (!EdgeMeter.Crypto.Ocmf.OcmfKey.TryParsePublicKey(keyHex, out var key))
            return CliOutput.Fail("--ocmf-key: not a P-256 public key in DER hex", ExitCodes.BadInput);
        int total = 0, bad = 0, number = 0;
        foreach (var line in File.ReadLines(path, Encoding.UTF8))
        {
            number++;
            if (line.Length == 0)
                continue;
            total++;
            if (!EdgeMeter.Crypto.Ocmf.OcmfWriter.Verify(line, key!))
            {
                bad++;
                Console.Out.WriteLine($"line {number}: OCMF signature does not verify");
            }
        }
        Console.Out.WriteLine(bad == 0 ? $"OK: {total} OCMF records verified" : $"FAILED: {bad} of {total} OCMF records do not verify");
        return bad == 0 ? ExitCodes.Ok : ExitCodes.Failure;
    }

    private static void WriteText(VerificationReport report)
    {
        foreach (var finding in report.Findings)
            Console.Out.WriteLine(finding.ToString());
        foreach (var device in report.Devices)
            Console.Out.WriteLine($"device {device.Device}: seq {device.FirstSequence}..{device.LastSequence}, {device.VerifiedRecords} verified");
        foreach (var gap in report.DeclaredGaps)
            Console.Out.WriteLine($"device {gap.Device}: seqs {gap.From}..{gap.To} declared skipped at seq {gap.Sequence} ({GapReasonName(gap.Reason)})");
        Console.Out.WriteLine(report.Ok
            ? $"OK: {report.RecordCount} records verified"
            : $"FAILED: {report.Findings.Count} problem(s) in {report.RecordCount} records");
    }

    /// <summary>The name of a gap reason as the CLI and <c>ledger --dump</c> print it.</summary>
    internal static string GapReasonName(EdgeMeter.Crypto.Records.GapReason reason) => reason switch
    {
        EdgeMeter.Crypto.Records.GapReason.LedgerAhead => "ledger-ahead",
        EdgeMeter.Crypto.Records.GapReason.StoreLost => "store-lost",
        _ => ((byte)reason).ToString(System.Globalization.CultureInfo.InvariantCulture),
    };

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
            writer.WriteStartArray("declaredGaps");
            foreach (var gap in report.DeclaredGaps)
            {
                writer.WriteStartObject();
                writer.WriteString("device", gap.Device);
                writer.WriteNumber("seq", gap.Sequence);
                writer.WriteNumber("fromSeq", gap.From);
                writer.WriteNumber("toSeq", gap.To);
                writer.WriteString("reason", GapReasonName(gap.Reason));
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
