using System.Diagnostics;
using System.Security.Cryptography;
using System.Text.Json;
using EdgeMeter.Interop.Tests.Support;
using Xunit.Abstractions;

namespace EdgeMeter.Interop.Tests.Packaging;

/// <summary>
/// Installs the amd64 package into a Debian 12 root made by debootstrap (minbase plus the package's dependencies,
/// from the Debian mirror), with dpkg, adduser and debconf running the maintainer scripts in a chroot as on a
/// gateway; then upgrades, removes and purges it.
/// </summary>
[Collection(AotCollection.Name)]
public sealed class DebianInstallTests(AotBinaryFixture aot, ITestOutputHelper output)
{
    private static readonly Dictionary<string, string> Noninteractive = new() { ["DEBIAN_FRONTEND"] = "noninteractive", ["LC_ALL"] = "C" };

    [Fact]
    public async Task Upgrade_keeps_the_key_byte_for_byte_and_the_edited_configuration_and_purge_asks_before_deleting_data()
    {
        var v1 = await DebianPackages.Amd64Async(aot);
        var v2 = await DebianPackages.Amd64Async(aot, DebianPackages.NextVersion);
        var root = await BootstrapAsync();
        try
        {
            File.Copy(v1, Path.Combine(root, "tmp", "v1.deb"));
            File.Copy(v2, Path.Combine(root, "tmp", "v2.deb"));

            await ChrootAsync(root, "dpkg", "-i", "/tmp/v1.deb");
            var passwd = (await ChrootAsync(root, "getent", "passwd", "edgemeter")).Trim().Split(':');
            Assert.Equal("/var/lib/edgemeter", passwd[5]);
            Assert.Equal("/usr/sbin/nologin", passwd[6]);
            var groups = (await ChrootAsync(root, "id", "-nG", "edgemeter")).Split(' ', StringSplitOptions.TrimEntries);
            Assert.Equal(["dialout", "edgemeter", "gpio", "i2c"], groups.Order(StringComparer.Ordinal));
            var (uid, gid) = (passwd[2], passwd[3]);
            Assert.Equal($"{uid}:{gid} 700", await StatAsync(root, "var/lib/edgemeter"));
            Assert.Equal($"0:{gid} 770", await StatAsync(root, "etc/edgemeter"));
            Assert.Equal($"0:{gid} 640", await StatAsync(root, "etc/edgemeter/edgemeter.json"));

            // The service's first start as the service user with the shipped configuration, the page switched off (in a
            // chroot without /proc, HttpListener refuses with "The request is not supported"): it passes validation, creates the key,
            // puts the pairing code on the display (mirrored to the console without an LCD) and stops in order.
            await using (var agent = new Background("chroot", [$"--userspec={uid}:{gid}", root,
                "/usr/bin/env", "EDGEMETER_Http__Url=", "/usr/bin/edgemeter", "run"]))
            {
                var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
                while (!agent.Output.Contains("Pair code ", StringComparison.Ordinal) && !agent.HasExited && DateTime.UtcNow < deadline)
                    await Task.Delay(200);
                Assert.False(agent.HasExited, agent.Output);
                Assert.Contains("starting: 1 meters", agent.Output, StringComparison.Ordinal);
                Assert.Matches(@"Pair code \d{6}", agent.Output);
                Assert.Equal(0, await agent.StopAsync(TimeSpan.FromSeconds(30)));
            }
            var address = await KeyAddressAsync(root, uid, gid);
            var keyPath = Path.Combine(root, "var/lib/edgemeter/device.key");
            var key = await File.ReadAllBytesAsync(keyPath);
            var keyStat = await StatAsync(root, "var/lib/edgemeter/device.key");
            Assert.Equal($"{uid}:{gid} 600", keyStat);

            // The administrator edits the configuration; the new version ships the same default.
            var config = Path.Combine(root, "etc/edgemeter/edgemeter.json");
            var shipped = await File.ReadAllBytesAsync(config);
            var edited = (await File.ReadAllTextAsync(config)).Replace("\"pollIntervalSeconds\": 1", "\"pollIntervalSeconds\": 5", StringComparison.Ordinal);
            Assert.NotEqual(edited, System.Text.Encoding.UTF8.GetString(shipped));
            await File.WriteAllTextAsync(config, edited);

            // Standard input is closed: a conffile prompt would fail the upgrade instead of hanging.
            await ChrootAsync(root, "dpkg", "-i", "/tmp/v2.deb");
            Assert.Equal($"{DebianPackages.NextVersion} install ok installed",
                await ChrootAsync(root, "dpkg-query", "-W", "-f=${Version} ${Status}", "edgemeter"));
            Assert.Equal(key, await File.ReadAllBytesAsync(keyPath));
            Assert.Equal(keyStat, await StatAsync(root, "var/lib/edgemeter/device.key"));
            Assert.Equal(address, await KeyAddressAsync(root, uid, gid));
            Assert.Equal(edited, await File.ReadAllTextAsync(config));
            // dpkg still tracks it as a conffile, with the hash of the file the package shipped.
            Assert.Equal($" /etc/edgemeter/edgemeter.json {Convert.ToHexStringLower(MD5.HashData(shipped))}",
                (await ChrootAsync(root, "dpkg-query", "-W", "-f=${Conffiles}", "edgemeter")).TrimEnd('\n'));

            // Purge with the default answer (unattended: no prompt shown) keeps the key.
            await ChrootAsync(root, "dpkg", "--purge", "edgemeter");
            Assert.Equal(key, await File.ReadAllBytesAsync(keyPath));
            Assert.False(File.Exists(config));

            // Reinstalled, it is the same device; the documented debconf answer lets purge delete the data.
            await ChrootAsync(root, "dpkg", "-i", "/tmp/v2.deb");
            Assert.Equal(address, await KeyAddressAsync(root, uid, gid));
            await ChrootAsync(root, "sh", "-c", "echo 'edgemeter edgemeter/purge_data boolean true' | debconf-set-selections");
            await ChrootAsync(root, "dpkg", "--purge", "edgemeter");
            Assert.False(Directory.Exists(Path.Combine(root, "var/lib/edgemeter")));
            Assert.False(Directory.Exists(Path.Combine(root, "etc/edgemeter")));
        }
        finally
        {
            await Processes.RunAsync("rm", ["-rf", "--one-file-system", root], TimeSpan.FromMinutes(2));
        }
    }

    private async Task<string> BootstrapAsync()
    {
        var root = Directory.CreateTempSubdirectory("edgemeter-debootstrap-").FullName;
        var mirror = Environment.GetEnvironmentVariable("EDGEMETER_DEBIAN_MIRROR") is { Length: > 0 } m ? m : "http://deb.debian.org/debian";
        var clock = Stopwatch.StartNew();
        await DebianPackages.RunOkAsync("debootstrap",
            ["--variant=minbase", "--include=adduser,libssl3,libgpiod2", "bookworm", root, mirror], TimeSpan.FromMinutes(10));
        output.WriteLine($"debootstrap bookworm minbase from {mirror}: {clock.Elapsed.TotalSeconds:F0} s");
        return root;
    }

    private static Task<string> ChrootAsync(string root, params string[] command) =>
        DebianPackages.RunOkAsync("chroot", [root, .. command], TimeSpan.FromMinutes(2), Noninteractive);

    private static async Task<string> KeyAddressAsync(string root, string uid, string gid)
    {
        var json = await DebianPackages.RunOkAsync("chroot", [$"--userspec={uid}:{gid}", root, "/usr/bin/edgemeter", "keys", "show", "--json"]);
        using var doc = JsonDocument.Parse(json);
        var address = doc.RootElement.GetProperty("address").GetString()!;
        Assert.Matches("^0x[0-9a-fA-F]{40}$", address);
        return address;
    }

    /// <summary>"uid:gid mode" of a path in the root, as the host sees it (numeric: the names live in the root).</summary>
    private static async Task<string> StatAsync(string root, string path) =>
        (await DebianPackages.RunOkAsync("stat", ["-c", "%u:%g %a", Path.Combine(root, path)])).Trim();
}
