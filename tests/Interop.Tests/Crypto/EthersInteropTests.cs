using System.Text;
using System.Text.Json;
using EdgeMeter.Crypto.Keys;
using EdgeMeter.Crypto.Records;
using EdgeMeter.Crypto.Signing;
using Xunit;

namespace EdgeMeter.Interop.Tests.Crypto;

/// <summary>
/// Our signed exports against code we did not write: ethers v6 (verifyTypedData, TypedDataEncoder) and
/// @noble/curves (RFC 6979 signing). The npm packages come from tests/interop-js (npm ci).
/// </summary>
public sealed class EthersInteropTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "edgemeter-interop-" + Guid.NewGuid().ToString("N"));
    private static readonly Eip712Domain Domain = Eip712Domain.ForReadings(100);

    public EthersInteropTests() => Directory.CreateDirectory(_dir);

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task Ethers_recovers_the_address_that_keys_show_prints_for_every_exported_record()
    {
        using var key = FileDeviceKey.LoadOrCreate(Path.Combine(_dir, "device.key"));
        var (code, stdout, stderr) = await ProcessRunner.RunEdgemeterAsync("keys", "show", "--json", "--data", _dir);
        Assert.True(code == 0, stderr);
        string shown;
        using (var doc = JsonDocument.Parse(stdout))
            shown = doc.RootElement.GetProperty("address").GetString()!;

        Assert.Equal(shown, key.Address);
        var export = Path.Combine(_dir, "export.jsonl");
        var chain = WriteExport(key, export, 6);

        var lines = await RunNodeAsync("verify-typed.mjs", [export]);
        Assert.Equal(chain.Count, lines.Count);
        for (int i = 0; i < chain.Count; i++)
        {
            using var result = JsonDocument.Parse(lines[i]);
            Assert.Equal(chain[i].Record.Sequence.ToString(System.Globalization.CultureInfo.InvariantCulture), result.RootElement.GetProperty("seq").GetString());
            Assert.Equal(shown, result.RootElement.GetProperty("recovered").GetString());
            Assert.Equal("0x" + Convert.ToHexStringLower(chain[i].Digest.Span), result.RootElement.GetProperty("digest").GetString());
        }

        var verify = await ProcessRunner.RunEdgemeterAsync("verify", export, "--signer", shown);
        Assert.True(verify.ExitCode == 0, verify.Stdout + verify.Stderr);
        Assert.Contains("OK: 6 records verified", verify.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Signatures_are_byte_identical_to_noble_curves_rfc6979_signatures()
    {
        var random = new Random(20240601);
        var input = new StringBuilder();
        var ours = new List<string>();
        for (int i = 0; i < 40; i++)
        {
            var secret = new byte[32];
            var digest = new byte[32];
            random.NextBytes(secret);
            random.NextBytes(digest);
            secret[0] &= 0x7f; // keep below the group order
            secret[31] |= 1;
            using var key = FileDeviceKey.FromSecret(secret);
            var signature = new byte[65];
            key.SignDigest(digest, signature);
            ours.Add(Convert.ToHexStringLower(signature));
            input.Append(Convert.ToHexStringLower(secret)).Append(' ').Append(Convert.ToHexStringLower(digest)).Append('\n');
        }

        var theirs = await RunNodeAsync("noble-sign.mjs", [], input.ToString());
        Assert.Equal(ours, theirs);
    }

    [Fact]
    public async Task Verify_reports_a_flipped_byte_a_deleted_record_and_swapped_records_by_sequence_number()
    {
        using var key = FileDeviceKey.LoadOrCreate(Path.Combine(_dir, "device.key"));
        var export = Path.Combine(_dir, "export.jsonl");
        WriteExport(key, export, 6);
        var lines = File.ReadAllLines(export);

        var flipped = (string[])lines.Clone();
        flipped[2] = flipped[2].Replace("\"value\":\"-1003\"", "\"value\":\"-1002\"", StringComparison.Ordinal);
        Assert.NotEqual(lines[2], flipped[2]);
        await AssertVerifyFails(flipped, "seq 3: Altered");

        await AssertVerifyFails([.. lines[..3], .. lines[4..]], "seq 4: Gap");
        await AssertVerifyFails([lines[0], lines[2], lines[1], .. lines[3..]], "seq 2: Reorder");
    }

    [Fact]
    public async Task Ethers_verifies_a_gap_declaration_and_a_reading_from_the_meters_memory_and_verify_names_the_declared_range()
    {
        using var key = FileDeviceKey.LoadOrCreate(Path.Combine(_dir, "device.key"));
        var signer = new RecordSigner(key, Domain);
        var export = Path.Combine(_dir, "gap.jsonl");
        var chain = new List<SignedReading>();
        ReadingRecord Reading(ulong seq, RecordOrigin origin) => new()
        {
            Device = key.Address, Sequence = seq, MeterId = "DLMS-1", Obis = "1-0:1.8.0*255", Value = 5000 + (long)seq, Scaler = 0,
            Unit = "Wh", Source = EnergySource.GridImport, Clean = false, GatewayTimeMs = 1_767_225_600_000 + (long)seq * 1000,
            MeterTimeMs = origin == RecordOrigin.MeterMemory ? 1_767_220_000_000 : 0, TimeStatus = TimeStatus.Synchronised,
            Origin = origin, PrevHash = chain.Count == 0 ? new byte[32] : chain[^1].Digest,
        };
        chain.Add(signer.Sign(Reading(1, RecordOrigin.Live)));
        chain.Add(signer.Sign(Reading(2, RecordOrigin.MeterMemory)));
        chain.Add(signer.Sign(new GapRecord
        {
            Device = key.Address, Sequence = 5, FromSequence = 3, ToSequence = 4, Reason = GapReason.LedgerAhead,
            GatewayTimeMs = 1_767_225_610_000, TimeStatus = TimeStatus.Synchronised, PrevHash = chain[^1].Digest,
        }));
        chain.Add(signer.Sign(Reading(6, RecordOrigin.Live)));
        using (var stream = File.Create(export))
        {
            foreach (var signed in chain)
            {
                using (var writer = new Utf8JsonWriter(stream))
                    ReadingJson.WriteExport(writer, signed, Domain);
                stream.WriteByte((byte)'\n');
            }
        }

        var lines = await RunNodeAsync("verify-typed.mjs", [export]);
        Assert.Equal(["1", "2", "5", "6"], lines.Select(l => JsonDocument.Parse(l).RootElement.GetProperty("seq").GetString()));
        for (int i = 0; i < chain.Count; i++)
        {
            using var result = JsonDocument.Parse(lines[i]);
            Assert.Equal(key.Address, result.RootElement.GetProperty("recovered").GetString());
            Assert.Equal("0x" + Convert.ToHexStringLower(chain[i].Digest.Span), result.RootElement.GetProperty("digest").GetString());
        }

        var verify = await ProcessRunner.RunEdgemeterAsync("verify", export, "--signer", key.Address);
        Assert.True(verify.ExitCode == 0, verify.Stdout + verify.Stderr);
        Assert.Contains($"device {key.Address}: seqs 3..4 declared skipped at seq 5 (ledger-ahead)", verify.Stdout, StringComparison.Ordinal);
        Assert.Contains("OK: 4 records verified", verify.Stdout, StringComparison.Ordinal);

        // Without the declaration, 3..5 are missing.
        var withoutGap = File.ReadAllLines(export).Where((_, i) => i != 2).ToArray();
        await AssertVerifyFails(withoutGap, "seq 3: Gap");
    }

    private async Task AssertVerifyFails(string[] lines, string expected)
    {
        var path = Path.Combine(_dir, "tampered.jsonl");
        await File.WriteAllLinesAsync(path, lines);
        var (code, stdout, stderr) = await ProcessRunner.RunEdgemeterAsync("verify", path);
        Assert.True(code == 1, $"exit {code}: {stdout}{stderr}");
        Assert.Contains(expected, stdout, StringComparison.Ordinal);
        Assert.Contains("FAILED", stdout, StringComparison.Ordinal);
    }

    private static List<SignedReading> WriteExport(IDeviceKey key, string path, int count)
    {
        var signer = new RecordSigner(key, Domain);
        var chain = new List<SignedReading>();
        ReadOnlyMemory<byte> prev = new byte[32];
        using var stream = File.Create(path);
        for (ulong seq = 1; seq <= (ulong)count; seq++)
        {
            var record = new ReadingRecord
            {
                Device = key.Address,
                Sequence = seq,
                MeterId = seq % 2 == 0 ? "Zähler-7 ✓" : "EM-3PH-0042",
                Obis = "1-0:1.8.0*255",
                Value = seq == 1 ? long.MaxValue : -1000 - (long)seq,
                Scaler = (sbyte)(seq % 2 == 0 ? -3 : 2),
                Unit = "Wh",
                Source = (EnergySource)(seq % 8),
                Clean = seq % 2 == 0,
                GatewayTimeMs = 1_767_225_600_000 + (long)seq * 900_000,
                MeterTimeMs = seq == 3 ? 0 : 1_767_225_599_000 + (long)seq * 900_000,
                TimeStatus = (TimeStatus)(seq % 4),
                PrevHash = prev,
            };
            var signed = signer.Sign(record);
            using (var writer = new Utf8JsonWriter(stream))
                ReadingJson.WriteExport(writer, signed, Domain);
            stream.WriteByte((byte)'\n');
            chain.Add(signed);
            prev = signed.Digest;
        }
        return chain;
    }

    private static async Task<List<string>> RunNodeAsync(string script, string[] arguments, string? stdin = null)
    {
        string jsDir = Path.Combine(ProcessRunner.RepoRoot(), "tests", "interop-js");
        TestDependencies.Require(Peer.NodePackages);
        var (code, stdout, stderr) = await ProcessRunner.RunAsync("node", [Path.Combine(jsDir, script), .. arguments], stdin, jsDir);
        Assert.True(code == 0, $"node {script} exited {code}: {stderr}");
        return stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).ToList();
    }
}
