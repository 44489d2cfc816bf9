using System.Text.Json;
using EdgeMeter.Agent.Storage;
using EdgeMeter.Agent.Tests.Support;

namespace EdgeMeter.Agent.Tests.Cli;

/// <summary>export and keys show on the data directory of a running agent: readers, never writers.</summary>
[Collection(ConsoleCollection.Name)]
public sealed class LiveReaderTests
{
    [Fact]
    public async Task Export_reads_a_store_the_agent_holds_open_and_the_agent_keeps_committing()
    {
        using var dir = new TempDir();
        var signer = Records.Signer(dir.Path);
        using var agent = new RecordStore(dir.Path);
        agent.Append(Records.Drafts(5), signer);
        var dbBytes = File.ReadAllBytes(agent.Path);
        var file = dir.File("out.jsonl");

        var (code, _, err) = await CliRunner.RunAsync("export", "--data", dir.Path, "--out", file);

        Assert.True(code == 0, err);
        var seqs = File.ReadAllLines(file).Select(l => JsonDocument.Parse(l).RootElement.GetProperty("message").GetProperty("seq").GetString()).ToList();
        Assert.Equal(["1", "2", "3", "4", "5"], seqs);
        // The reader wrote nothing: no checkpoint moved the log into the data file behind the agent's back.
        Assert.Equal(dbBytes, File.ReadAllBytes(agent.Path));

        agent.Append(Records.Drafts(3, firstValue: 2000), signer);
        Assert.Equal(8UL, agent.Head.Sequence);
        agent.Dispose();
        using var reopened = new RecordStore(dir.Path);
        var all = reopened.ReadRange(1, ulong.MaxValue);
        Assert.Equal(Enumerable.Range(1, 8).Select(i => (ulong)i), all.Select(r => r.Record.Sequence));
        for (var i = 1; i < all.Count; i++)
            Assert.Equal(all[i - 1].Digest.ToArray(), all[i].Record.PrevHash.ToArray());
    }

    [Fact]
    public async Task Keys_show_without_a_key_is_one_error_naming_the_file_and_creates_nothing()
    {
        using var dir = new TempDir();

        var (code, output, err) = await CliRunner.RunAsync("keys", "show", "--data", dir.Path);

        Assert.Equal(2, code);
        Assert.Equal("", output);
        Assert.Equal($"edgemeter: no key file at {Path.Combine(dir.Path, "device.key")}\n", err);
        Assert.Empty(Directory.GetFileSystemEntries(dir.Path));
    }
}
