using EdgeMeter.Crypto.Files;
using EdgeMeter.Crypto.Keys;

namespace EdgeMeter.Crypto.Tests.Files;

[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class AtomicFileTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("edgemeter-atomic-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void Replaces_the_content_with_the_given_mode_and_leaves_no_temporary_file()
    {
        var path = Path.Combine(_dir, "boot.count");
        Assert.True(AtomicFile.Write(path, "1"u8));
        Assert.True(AtomicFile.Write(path, "22"u8, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead));

        Assert.Equal("22"u8.ToArray(), File.ReadAllBytes(path));
        Assert.Equal(["boot.count"], Directory.GetFileSystemEntries(_dir).Select(Path.GetFileName));
    }

    [Fact]
    public void Without_overwrite_an_existing_file_stands_and_the_result_is_false()
    {
        var path = Path.Combine(_dir, "device.key");
        File.WriteAllBytes(path, [1, 2, 3]);

        Assert.False(AtomicFile.Write(path, [9, 9, 9], overwrite: false));

        Assert.Equal([1, 2, 3], File.ReadAllBytes(path));
        Assert.Single(Directory.GetFileSystemEntries(_dir));
    }

    [Fact]
    public void A_new_file_gets_exactly_the_requested_mode()
    {
        var path = Path.Combine(_dir, "pairing.json");
        AtomicFile.Write(path, "{}"u8);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
    }

    [Fact]
    public void Syncing_a_directory_that_is_not_there_is_an_IO_error_naming_it()
    {
        var missing = Path.Combine(_dir, "gone");
        var e = Assert.Throws<IOException>(() => AtomicFile.SyncDirectory(missing));
        Assert.Contains(missing, e.Message, StringComparison.Ordinal);
        Assert.Contains("errno 2)", e.Message, StringComparison.Ordinal); // ENOENT
    }

    [Fact]
    public void Keys_load_never_creates_a_key_and_names_the_missing_file()
    {
        var path = Path.Combine(_dir, "device.key");
        var e = Assert.Throws<KeyFileException>(() => FileDeviceKey.Load(path));
        Assert.Equal(KeyFileError.Missing, e.Error);
        Assert.Contains(path, e.Message, StringComparison.Ordinal);
        Assert.False(File.Exists(path));

        using var created = FileDeviceKey.LoadOrCreate(path);
        using var loaded = FileDeviceKey.Load(path);
        Assert.Equal(created.Address, loaded.Address);
    }
}
