using System.Text.Json;
using EdgeMeter.Agent.Cli;
using EdgeMeter.Agent.Storage;
using EdgeMeter.Agent.Tests.Support;
using EdgeMeter.Crypto.Ocmf;

namespace EdgeMeter.Agent.Tests.Cli;

[Collection(ConsoleCollection.Name)]
public sealed class ExportCommandTests
{
    [Fact]
    public async Task Jsonl_export_honours_the_time_window_and_verifies()
    {
        using var dir = new TempDir();
        using (var store = new RecordStore(dir.Path))
            store.Append(Records.Drafts(10, firstTimeMs: 1_780_000_000_000), Records.Signer(dir.Path));
        var file = dir.File("out.jsonl");

        // Records 3..7: gateway times +2 s .. +6 s.
        var (code, _, err) = await CliRunner.RunAsync("export", "--data", dir.Path, "--from", "2026-05-28T20:26:42Z", "--to", "2026-05-28T20:26:46Z", "--out", file);

        Assert.True(code == 0, err);
        var seqs = File.ReadAllLines(file).Select(l => JsonDocument.Parse(l).RootElement.GetProperty("message").GetProperty("seq").GetString()).ToList();
        Assert.Equal(["3", "4", "5", "6", "7"], seqs);
        Assert.Equal($"edgemeter: exported 5 records to {file}\n", err);
    }

    [Fact]
    public async Task Ocmf_export_signs_every_record_with_the_p256_key()
    {
        using var dir = new TempDir();
        using (var store = new RecordStore(dir.Path))
            store.Append(Records.Drafts(4), Records.Signer(dir.Path));
        var file = dir.File("out.ocmf");

        var (code, _, err) = await CliRunner.RunAsync("export", "--data", dir.Path, "--format", "ocmf", "--out", file);

        Assert.True(code == 0, err);
        var key = OcmfKey.LoadOrCreate(dir.File(ExportCommand.OcmfKeyFileName));
        var lines = File.ReadAllLines(file);
        Assert.Equal(4, lines.Length);
        Assert.All(lines, l => Assert.StartsWith("OCMF|", l, StringComparison.Ordinal));
        Assert.All(lines, l => Assert.True(OcmfWriter.Verify(l, key.PublicKey)));
        Assert.Contains(key.PublicKeyDerHex, err, StringComparison.Ordinal);
        Assert.False(OcmfWriter.Verify(lines[0].Replace("\"RV\":", "\"RV\":1", StringComparison.Ordinal), key.PublicKey));
    }

    [Fact]
    public async Task Verify_recognises_an_ocmf_export_and_checks_it_with_the_ocmf_key()
    {
        using var dir = new TempDir();
        using (var store = new RecordStore(dir.Path))
            store.Append(Records.Drafts(3), Records.Signer(dir.Path));
        var file = dir.File("out.ocmf");
        Assert.Equal(0, (await CliRunner.RunAsync("export", "--data", dir.Path, "--format", "ocmf", "--out", file)).ExitCode);
        var key = OcmfKey.LoadOrCreate(dir.File(ExportCommand.OcmfKeyFileName)).PublicKeyDerHex;

        var (code, stdout, err) = await CliRunner.RunAsync("verify", file);
        Assert.Equal(2, code);
        Assert.Equal("", stdout);
        Assert.Equal($"edgemeter: {file} is an OCMF export: pass --ocmf-key with the OCMF public key (DER hex) that export printed, or check it with an OCMF tool\n", err);

        (code, stdout, err) = await CliRunner.RunAsync("verify", file, "--ocmf-key", key);
        Assert.True(code == 0, err);
        Assert.Equal("OK: 3 OCMF records verified\n", stdout);

        File.WriteAllLines(file, File.ReadAllLines(file).Select((l, i) => i == 1 ? l.Replace("\"RV\":", "\"RV\":1", StringComparison.Ordinal) : l));
        (code, stdout, _) = await CliRunner.RunAsync("verify", file, "--ocmf-key", key);
        Assert.Equal(1, code);
        Assert.Equal("line 2: OCMF signature does not verify\nFAILED: 1 of 3 OCMF records do not verify\n", stdout);
    }

    [Fact]
    public async Task Factors_over_a_verified_export_gives_the_gateway_s_claim_byte_for_byte()
    {
        using var dir = new TempDir();
        var drafts = Records.HourlyGridAndPv(new DateTimeOffset(2026, 2, 26, 0, 0, 0, TimeSpan.Zero), new DateTimeOffset(2026, 4, 1, 1, 0, 0, TimeSpan.Zero),
            gridStep: 9_000, pvStep: 11_000, pvOffsetMs: 700);
        var gateway = new EdgeMeter.Economics.IntervalAccumulator(15);
        using (var store = new RecordStore(dir.Path))
        {
            foreach (var r in store.Append(drafts, Records.Signer(dir.Path)))
                gateway.Add(r.Reading!);
        }
        var p = EdgeMeter.Economics.FactorJson.ParseParams(System.Text.Encoding.UTF8.GetBytes(EdgeMeter.Economics.FactorParams.DevelopmentDefaultsJson));
        var expected = gateway.BuildClaimThrough(Records.Signer(dir.Path).Key.Address, new EdgeMeter.Economics.FactorMonth(2026, 3), p, [], 0m,
            new DateTimeOffset(2026, 4, 1, 0, 0, 0, TimeSpan.Zero));
        var file = dir.File("march.jsonl");
        Assert.Equal(0, (await CliRunner.RunAsync("export", "--data", dir.Path, "--out", file)).ExitCode);
        Assert.Equal(0, (await CliRunner.RunAsync("verify", file)).ExitCode);

        var (code, stdout, err) = await CliRunner.RunAsync("factors", "--export", file, "--month", "2026-03", "--claim");

        Assert.True(code == 0, err);
        Assert.Equal(System.Text.Encoding.UTF8.GetString(expected.ToCanonicalJson()) + "\n", stdout);
        Assert.True(expected.Result.TotalTokens > 0);
        (code, _, err) = await CliRunner.RunAsync("factors", "--export", file);
        Assert.Equal((2, "edgemeter: --month: required with --export, YYYY-MM\n"), (code, err));
    }

    [Fact]
    public async Task Export_without_a_store_or_with_a_bad_instant_exits_2()
    {
        using var dir = new TempDir();
        var (code, _, err) = await CliRunner.RunAsync("export", "--data", dir.Path);
        Assert.Equal(2, code);
        Assert.Equal($"edgemeter: --data: no record store in {dir.Path}\n", err);

        using (var store = new RecordStore(dir.Path))
            store.Append(Records.Drafts(1), Records.Signer(dir.Path));
        (code, _, err) = await CliRunner.RunAsync("export", "--data", dir.Path, "--from", "yesterday");
        Assert.Equal(2, code);
        Assert.StartsWith("edgemeter: --from: 'yesterday' is not an ISO-8601 instant", err, StringComparison.Ordinal);
    }
}
