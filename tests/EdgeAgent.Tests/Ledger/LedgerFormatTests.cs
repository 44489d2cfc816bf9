using EdgeMeter.Agent.Ledger;
using EdgeMeter.Agent.Tests.Support;

namespace EdgeMeter.Agent.Tests.Ledger;

[Collection(ConsoleCollection.Name)]
public sealed class LedgerFormatTests
{
    [Fact]
    public async Task A_ledger_file_of_the_format_before_spans_stops_with_one_line_naming_it_and_is_left_as_it_was()
    {
        using var dir = new TempDir();
        var data = dir.File("ledger");
        Directory.CreateDirectory(data);
        var file = Path.Combine(data, LedgerStore.FileName);
        using (var db = new LiteDB.LiteDatabase(file))
            db.GetCollection("records").Insert(new LiteDB.BsonDocument { ["_id"] = new byte[] { 1 }, ["seq"] = 1L });
        var before = await File.ReadAllBytesAsync(file);

        var (code, stdout, stderr) = await CliRunner.RunAsync("ledger", "--dump", "--data", data);

        Assert.Equal(2, code);
        Assert.Empty(stdout);
        var line = Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("edgemeter: --data: " + file + " keeps one record per document", line);
        Assert.Equal(before, await File.ReadAllBytesAsync(file));
        // The store let go of the file: it can be moved away and a new ledger started in its place.
        Directory.Move(data, data + ".old");
        using var fresh = new LedgerStore(data);
        Assert.Equal(0, fresh.Height);
    }
}
