using EdgeMeter.Agent.Storage;
using EdgeMeter.Crypto.Files;
using EdgeMeter.Crypto.Keys;
using EdgeMeter.Crypto.Records;
using EdgeMeter.Crypto.Signing;

namespace EdgeMeter.Interop.Tests.Storage;

/// <summary>
/// Names are durable only through an fsync of their directory (strict POSIX; ext4 without it can lose them too). On
/// cutfs, which forgets every name whose directory was not synced: what the gateway creates must survive a cut.
/// </summary>
public sealed class DurableNamesTests
{
    [Fact]
    public async Task A_data_directory_the_gateway_creates_survives_a_cut_with_its_key_and_its_records()
    {
        await using var fs = await CutFs.MountAsync(Directory.CreateTempSubdirectory("edgemeter-durable-").FullName);
        var data = Path.Combine(fs.Mount, "var", "lib", "edgemeter");
        string address;
        using (var key = FileDeviceKey.LoadOrCreate(Path.Combine(data, "device.key")))
        using (var store = new RecordStore(data))
        {
            address = key.Address;
            store.Append(Drafts(3), new RecordSigner(key, Eip712Domain.ForReadings(31337)));
        }

        await fs.CutAsync();

        Assert.Equal(AtomicFile.OwnerOnlyDirectory, File.GetUnixFileMode(data));
        using (var key = FileDeviceKey.LoadOrCreate(Path.Combine(data, "device.key")))
            Assert.Equal(address, key.Address);
        using var reopened = new RecordStore(data);
        Assert.Equal(3UL, reopened.Head.Sequence);
        Assert.Equal([1000L, 1001, 1002], reopened.ReadRange(1, 3).Select(r => r.Reading!.Value));
    }

    [Fact]
    public async Task A_store_opened_in_an_existing_directory_has_durable_file_names_before_its_first_commit_counts()
    {
        await using var fs = await CutFs.MountAsync(Directory.CreateTempSubdirectory("edgemeter-durable-").FullName);
        var data = Path.Combine(fs.Mount, "data");
        Directory.CreateDirectory(data);
        AtomicFile.SyncDirectory(fs.Mount);
        var keyDir = Directory.CreateTempSubdirectory("edgemeter-durable-key-").FullName; // the key elsewhere: nothing else syncs "data"
        using var key = FileDeviceKey.LoadOrCreate(Path.Combine(keyDir, "device.key"));
        using (var store = new RecordStore(data))
            store.Append(Drafts(2), new RecordSigner(key, Eip712Domain.ForReadings(31337)));

        await fs.CutAsync();

        Assert.Equal([RecordStore.LogFileName, RecordStore.FileName], Directory.GetFiles(data).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        using var reopened = new RecordStore(data);
        Assert.Equal(2UL, reopened.Head.Sequence);
    }

    [Fact]
    public async Task A_directory_created_durably_survives_a_cut_with_its_parents()
    {
        await using var fs = await CutFs.MountAsync(Directory.CreateTempSubdirectory("edgemeter-durable-").FullName);

        AtomicFile.CreateDirectory(Path.Combine(fs.Mount, "a", "b", "c"));
        Directory.CreateDirectory(Path.Combine(fs.Mount, "plain"));
        await fs.CutAsync();

        Assert.True(Directory.Exists(Path.Combine(fs.Mount, "a", "b", "c")));
        Assert.False(Directory.Exists(Path.Combine(fs.Mount, "plain")));
    }

    private static List<ReadingRecord> Drafts(int count) => Enumerable.Range(0, count).Select(i => new ReadingRecord
    {
        Device = "",
        Sequence = 0,
        PrevHash = ReadOnlyMemory<byte>.Empty,
        MeterId = "grid",
        Obis = "1-0:1.8.0*255",
        Value = 1000 + i,
        Scaler = -1,
        Unit = "Wh",
        Source = EnergySource.GridImport,
        Clean = false,
        GatewayTimeMs = 1_780_000_000_000 + (i * 1000L),
        TimeStatus = TimeStatus.Synchronised,
    }).ToList();
}
