using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using EdgeMeter.Agent.Storage;
using EdgeMeter.Crypto.Ocmf;
using EdgeMeter.Crypto.Records;
using EdgeMeter.Crypto.Signing;

namespace EdgeMeter.Agent.Cli;

/// <summary><c>edgemeter export</c>: the signed records, for verification by anyone.</summary>
internal static class ExportCommand
{
    public static Command Create()
    {
        var data = KeysCommand.DataOption();
        var from = new Option<string?>("--from") { Description = "Only records with gateway time at or after this ISO-8601 instant (with offset)." };
        var to = new Option<string?>("--to") { Description = "Only records with gateway time at or before this ISO-8601 instant (with offset)." };
        var format = new Option<string>("--format")
        {
            Description = "jsonl: one EIP-712 typed-data record per line (domain, types, primaryType, message, signature, signer). "
                + "ocmf: one OCMF record per line, signed with the gateway's secp256r1 OCMF key (ocmf.key; public key on stderr).",
            DefaultValueFactory = _ => "jsonl",
        };
        format.AcceptOnlyFromAmong("jsonl", "ocmf");
        var output = new Option<string?>("--out") { Description = "Write to this file instead of stdout." };
        var chainId = new Option<ulong>("--chain-id") { Description = "Chain id the records were signed for.", DefaultValueFactory = _ => 31337 };
        var command = new Command("export", "Export signed records for independent verification (edgemeter verify, ethers.verifyTypedData).")
        {
            data, from, to, format, output, chainId,
        };
        command.SetAction(async (result, ct) =>
        {
            var dir = KeysCommand.ResolveDataDirectory(result.GetValue(data));
            if (!File.Exists(Path.Combine(dir, RecordStore.FileName)))
                throw new CliException($"--data: no record store in {dir}", ExitCodes.BadInput);
            var fromMs = ParseInstant(result.GetValue(from), "--from") ?? long.MinValue;
            var toMs = ParseInstant(result.GetValue(to), "--to") ?? long.MaxValue;
            if (fromMs > toMs)
                throw new CliException("--from: must not be after --to", ExitCodes.BadInput);
            var domain = Eip712Domain.ForReadings(result.GetValue(chainId));

            // Read-only: the agent may be running on this directory, and a second writer would corrupt its store.
            using var store = RecordStore.OpenReadOnly(dir);
            var path = result.GetValue(output);
            var stream = path is null ? Console.OpenStandardOutput() : new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None);
            long count = 0;
            await using (stream.ConfigureAwait(false))
            {
                var records = store.ReadByTime(fromMs, toMs);
                if (result.GetValue(format) == "ocmf")
                {
                    // OCMF verifiers (Transparenzsoftware and others) take secp256r1; this key signs exports only.
                    var key = OcmfKey.LoadOrCreate(Path.Combine(dir, OcmfKeyFileName));
                    Console.Error.WriteLine($"edgemeter: OCMF public key (DER, hex): {key.PublicKeyDerHex}");
                    var device = store.Head.Sequence > 0 ? store.ReadRange(1, 1).FirstOrDefault()?.Record.Device ?? "" : "";
                    count = WriteOcmf(records, new OcmfContext(device, device, Hosting.AgentVersion.Text), key, stream, ct);
                }
                else
                {
                    count = Write(records, domain, stream, ct);
                }
            }
            if (path is not null)
                Console.Error.WriteLine($"edgemeter: exported {count} records to {path}");
            return ExitCodes.Ok;
        });
        return command;
    }

    public const string OcmfKeyFileName = "ocmf.key";

    /// <summary>
    /// Writes one OCMF record per reading and line; returns the count. Gap declarations have no OCMF form (OCMF
    /// pagination simply skips the declared numbers); the JSONL export carries them.
    /// </summary>
    internal static long WriteOcmf(IEnumerable<SignedReading> records, OcmfContext context, OcmfKey key, Stream stream, CancellationToken ct)
    {
        long count = 0;
        foreach (var r in records)
        {
            ct.ThrowIfCancellationRequested();
            if (r.Reading is not { } reading)
                continue;
            stream.Write(System.Text.Encoding.UTF8.GetBytes(OcmfWriter.Format(reading, context, key)));
            stream.Write("\n"u8);
            count++;
        }
        return count;
    }

    /// <summary>Writes one JSON object per line; returns the count.</summary>
    internal static long Write(IEnumerable<SignedReading> records, Eip712Domain domain, Stream stream, CancellationToken ct)
    {
        long count = 0;
        using var writer = new Utf8JsonWriter(stream);
        foreach (var r in records)
        {
            ct.ThrowIfCancellationRequested();
            ReadingJson.WriteExport(writer, r, domain);
            writer.Flush();
            writer.Reset();
            stream.Write("\n"u8);
            count++;
        }
        return count;
    }

    private static long? ParseInstant(string? text, string option)
    {
        if (text is null)
            return null;
        if (!DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.None, out var instant)
            || !(text.EndsWith('Z') || text.Contains('+', StringComparison.Ordinal) || text.LastIndexOf('-') > 9))
            throw new CliException($"{option}: '{text}' is not an ISO-8601 instant with offset (e.g. 2026-11-01T00:00:00Z)", ExitCodes.BadInput);
        return instant.ToUnixTimeMilliseconds();
    }
}
