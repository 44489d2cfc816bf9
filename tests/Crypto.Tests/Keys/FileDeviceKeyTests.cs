using EdgeMeter.Crypto.Keys;

namespace EdgeMeter.Crypto.Tests.Keys;

[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class FileDeviceKeyTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "edgemeter-key-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_dir))
            Directory.Delete(_dir, recursive: true);
    }

    [Fact]
    public void Creates_a_32_byte_key_with_mode_0600_and_loads_the_same_identity()
    {
        var path = Path.Combine(_dir, "data", "device.key");
        string address;
        using (var created = FileDeviceKey.LoadOrCreate(path))
            address = created.Address;

        Assert.Equal(32, new FileInfo(path).Length);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
        Assert.Empty(Directory.GetFiles(Path.GetDirectoryName(path)!, "*.tmp-*"));
        Assert.Matches("^0x[0-9a-f]{40}$", address);

        using var loaded = FileDeviceKey.LoadOrCreate(path);
        Assert.Equal(address, loaded.Address);
        Assert.Equal(address, EthereumAddress.FromPublicKey(loaded.PublicKey.Span));
    }

    [Fact]
    public void Refuses_a_key_file_readable_by_others()
    {
        var path = Path.Combine(_dir, "device.key");
        using (FileDeviceKey.LoadOrCreate(path)) { }
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.OtherRead);

        var e = Assert.Throws<KeyFileException>(() => FileDeviceKey.LoadOrCreate(path));
        Assert.Equal(KeyFileError.InsecurePermissions, e.Error);
        Assert.Contains("chmod 600", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Reads_a_hex_key_file()
    {
        var path = Path.Combine(_dir, "device.key");
        Directory.CreateDirectory(_dir);
        File.WriteAllText(path, "0x0000000000000000000000000000000000000000000000000000000000000001\n");
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);

        using var key = FileDeviceKey.LoadOrCreate(path);
        Assert.Equal("0x7e5f4552091a69125d5dfcb7b8c2659029395bdf", key.Address);
    }

    [Theory]
    [InlineData("0x00")]
    [InlineData("0000000000000000000000000000000000000000000000000000000000000000")]
    [InlineData("fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141")]
    public void Refuses_malformed_or_out_of_range_keys_without_echoing_them(string content)
    {
        var path = Path.Combine(_dir, "device.key");
        Directory.CreateDirectory(_dir);
        File.WriteAllText(path, content);
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);

        var e = Assert.Throws<KeyFileException>(() => FileDeviceKey.LoadOrCreate(path));
        Assert.Equal(KeyFileError.Malformed, e.Error);
        Assert.DoesNotContain(content, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ToString_shows_only_the_address()
    {
        using var key = FileDeviceKey.FromSecret(TestRecords.Secret(0x01));
        Assert.Equal(key.Address, key.ToString());
    }
}
