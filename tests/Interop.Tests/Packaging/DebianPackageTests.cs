using System.Globalization;
using System.Text;
using System.Text.Json;
using EdgeMeter.Interop.Tests.Modbus;
using EdgeMeter.Interop.Tests.Support;

namespace EdgeMeter.Interop.Tests.Packaging;

/// <summary>
/// The .deb packages from <c>publish-profiles/package.sh</c>: what they contain, the binaries in them run on their
/// architecture (arm64 under qemu-user) against a libmodbus meter, and the unit passes <c>systemd-analyze verify</c>.
/// </summary>
[Collection(AotCollection.Name)]
public sealed class DebianPackageTests(AotBinaryFixture aot)
{
    [Theory]
    [InlineData("amd64", 62)]  // ELF e_machine EM_X86_64
    [InlineData("arm64", 183)] // EM_AARCH64
    public async Task Package_lists_the_binary_the_serial_library_the_unit_the_conffile_and_the_data_folder(string arch, int machine)
    {
        var deb = arch == "amd64" ? await DebianPackages.Amd64Async(aot) : await DebianPackages.Arm64Async(aot);

        // "-rwxr-xr-x root/root  14000000 2026-12-01 00:00 ./usr/lib/edgemeter/edgemeter"
        var entries = (await DebianPackages.RunOkAsync("dpkg-deb", ["--contents", deb]))
            .Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => l.Split(' ', 6, StringSplitOptions.RemoveEmptyEntries))
            .ToDictionary(f => f[5].Split(" -> ")[0], f => (Mode: f[0], Owner: f[1], Target: f[5].Contains(" -> ") ? f[5].Split(" -> ")[1] : null));
        Assert.Equal(("-rwxr-xr-x", "root/root", null), entries["./usr/lib/edgemeter/edgemeter"]);
        Assert.Equal(("-rw-r--r--", "root/root", null), entries["./usr/lib/edgemeter/libSystem.IO.Ports.Native.so"]);
        Assert.Equal(("lrwxrwxrwx", "root/root", "../lib/edgemeter/edgemeter"), entries["./usr/bin/edgemeter"]);
        Assert.Equal(("-rw-r--r--", "root/root", null), entries["./lib/systemd/system/edgemeter.service"]);
        Assert.Equal(("-rw-r--r--", "root/root", null), entries["./etc/edgemeter/edgemeter.json"]);
        // 0755 in the archive (lintian: non-standard-dir-perm); 0700 edgemeter:edgemeter through dpkg-statoverride once installed.
        Assert.Equal(("drwxr-xr-x", "root/root", null), entries["./var/lib/edgemeter/"]);
        Assert.Contains("./usr/share/doc/edgemeter/copyright", entries.Keys);
        Assert.Contains("./lib/udev/rules.d/99-edgemeter.rules", entries.Keys);
        // Nothing below the data folder: keys and readings are never package files, so dpkg never replaces them.
        Assert.DoesNotContain(entries.Keys, k => k.StartsWith("./var/lib/edgemeter/", StringComparison.Ordinal) && k != "./var/lib/edgemeter/");

        var fields = await DebianPackages.RunOkAsync("dpkg-deb", ["--field", deb, "Package", "Version", "Architecture", "Depends"]);
        Assert.Equal(
            $"Package: edgemeter\nVersion: {DebianPackages.Version}\nArchitecture: {arch}\n" +
            "Depends: libc6 (>= 2.34), libssl3, libgpiod2, adduser, debconf (>= 0.5) | debconf-2.0\n", fields);
        Assert.Equal("/etc/edgemeter/edgemeter.json\n", await DebianPackages.RunOkAsync("dpkg-deb", ["--info", deb, "conffiles"]));

        var root = await DebianPackages.ExtractAsync(deb);
        try
        {
            var header = new byte[20];
            await using (var f = File.OpenRead(Path.Combine(root, "usr/lib/edgemeter/edgemeter")))
                await f.ReadExactlyAsync(header);
            Assert.Equal(machine, header[18] | header[19] << 8);
            await using (var f = File.OpenRead(Path.Combine(root, "usr/lib/edgemeter/libSystem.IO.Ports.Native.so")))
                await f.ReadExactlyAsync(header);
            Assert.Equal(machine, header[18] | header[19] << 8);
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    [Fact]
    public async Task Arm64_binary_from_the_package_reads_a_libmodbus_meter_under_qemu()
    {
        var root = await DebianPackages.ExtractAsync(await DebianPackages.Arm64Async(aot));
        try
        {
            // Through /usr/bin/edgemeter, the symlink the package installs.
            var binary = Path.Combine(root, "usr/bin/edgemeter");
            // "0.1.0+<commit>": the informational version.
            var version = (await DebianPackages.RunOkAsync("qemu-aarch64", [binary, "--version"])).Trim();
            Assert.StartsWith(DebianPackages.Version + "+", version, StringComparison.Ordinal);

            await using var meter = await LibmodbusServer.StartTcpAsync(Sdm630Layout);
            var json = await DebianPackages.RunOkAsync("qemu-aarch64",
                [binary, "read", "modbus", "--endpoint", $"tcp://127.0.0.1:{meter.Port}", "--unit", "3", "--map", "eastron-sdm630", "--json"]);
            AssertSdm630Values(json);
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    [Fact]
    public async Task Amd64_binary_from_the_package_finds_its_serial_library_beside_it_and_fails_without_it()
    {
        var root = await DebianPackages.ExtractAsync(await DebianPackages.Amd64Async(aot));
        var alone = Directory.CreateTempSubdirectory("edgemeter-alone-").FullName;
        try
        {
            await using var pty = await SocatPtyPair.StartAsync();
            await using var meter = await LibmodbusServer.StartRtuAsync(Sdm630Layout, pty.SlaveEnd, 9600);
            string[] read = ["read", "modbus", "--endpoint", $"serial://{pty.MasterEnd}?baud=9600&parity=N&stop=1", "--unit", "3", "--map", "eastron-sdm630", "--json"];

            // As installed: /usr/bin/edgemeter -> ../lib/edgemeter/edgemeter, the library in /usr/lib/edgemeter.
            AssertSdm630Values(await DebianPackages.RunOkAsync(Path.Combine(root, "usr/bin/edgemeter"), read));

            // The same binary without the library beside it cannot open a serial port: the lookup above was real.
            var copy = Path.Combine(alone, "edgemeter");
            File.Copy(Path.Combine(root, "usr/lib/edgemeter/edgemeter"), copy);
            File.SetUnixFileMode(copy, UnixFileMode.UserRead | UnixFileMode.UserExecute);
            var r = await Processes.RunAsync(copy, read, TimeSpan.FromSeconds(60));
            Assert.NotEqual(0, r.ExitCode);
            Assert.Contains("libSystem.IO.Ports.Native", r.Out + r.Err, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(root, recursive: true);
            Directory.Delete(alone, recursive: true);
        }
    }

    [Fact]
    public async Task Unit_from_the_package_passes_systemd_analyze_verify_and_carries_the_hardening()
    {
        var root = await DebianPackages.ExtractAsync(await DebianPackages.Amd64Async(aot));
        try
        {
            // verify resolves ExecStart= and the targets the unit names inside --root: the package's files plus the
            // host's own units (sysinit.target, network-online.target, ...).
            await DebianPackages.RunOkAsync("cp", ["-an", "/lib/systemd/system/.", Path.Combine(root, "lib/systemd/system/")]);
            var r = await Processes.RunAsync("systemd-analyze", ["verify", "--root=" + root, "/lib/systemd/system/edgemeter.service"], TimeSpan.FromMinutes(1));
            // verify exits 0 on unknown keys and bad values too, with a warning: so no output at all is the pass.
            Assert.True(r.ExitCode == 0 && r.Out.Trim().Length == 0 && r.Err.Trim().Length == 0, $"exit {r.ExitCode}:\n{r.Out}{r.Err}");

            var unit = ParseUnit(await File.ReadAllTextAsync(Path.Combine(root, "lib/systemd/system/edgemeter.service")));
            string One(string key) => Assert.Single(unit[key]);
            Assert.Equal("notify", One("Type"));
            Assert.Equal("60s", One("WatchdogSec"));
            Assert.Equal("edgemeter", One("User"));
            Assert.Equal("dialout i2c gpio", One("SupplementaryGroups"));
            Assert.Equal("/usr/bin/edgemeter run --config /etc/edgemeter/edgemeter.json", One("ExecStart"));
            Assert.Equal("/var/lib/edgemeter /etc/edgemeter", One("ReadWritePaths"));
            foreach (var key in new[]
            {
                "NoNewPrivileges", "ProtectHome", "PrivateTmp", "ProtectKernelTunables", "ProtectKernelModules", "ProtectKernelLogs",
                "ProtectControlGroups", "ProtectHostname", "RestrictNamespaces", "RestrictRealtime", "RestrictSUIDSGID",
                "LockPersonality", "MemoryDenyWriteExecute",
            })
                Assert.True(One(key) == "yes", key);
            Assert.Equal("strict", One("ProtectSystem"));
            Assert.Equal("", One("CapabilityBoundingSet"));
            Assert.Equal("AF_UNIX AF_INET AF_INET6 AF_NETLINK", One("RestrictAddressFamilies"));
            Assert.Equal(["@system-service", "~@privileged", "adjtimex"], unit["SystemCallFilter"]);
            Assert.Equal("closed", One("DevicePolicy"));
            Assert.Equal(["char-ttyUSB rw", "char-ttyACM rw", "char-ttyAMA rw", "char-ttyS rw", "char-i2c rw", "char-gpiochip rw"], unit["DeviceAllow"]);
            // The GC settings are baked into the binary (AotSmokeTests pins them): the unit sets no environment.
            Assert.False(unit.ContainsKey("Environment"));

            // systemd's own score of the sandbox (0 = locked down, 10 = none): 2.2 when written.
            var security = await DebianPackages.RunOkAsync("systemd-analyze",
                ["security", "--offline=yes", "--root=" + root, "--threshold=25", "--no-pager", "/lib/systemd/system/edgemeter.service"]);
            Assert.Contains("Overall exposure level for edgemeter.service: 2.", security, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    // Informational tags that remain, each explained in publish-profiles/README.md (Lintian); no error, no warning.
    private static readonly string[] ExplainedTags =
    [
        "binary-has-unneeded-section", "hardening-no-fortify-functions", "package-supports-alternative-init-but-no-init.d-script",
        "spelling-error-in-binary",
    ];

    [Theory]
    [InlineData("amd64")]
    [InlineData("arm64")]
    public async Task Lintian_finds_no_error_or_warning_and_only_the_informational_tags_the_readme_explains(string arch)
    {
        var deb = arch == "amd64" ? await DebianPackages.Amd64Async(aot) : await DebianPackages.Arm64Async(aot);

        var r = await Processes.RunAsync("lintian", ["--info", "--pedantic", "--no-tag-display-limit", deb], TimeSpan.FromMinutes(5));

        Assert.True(r.ExitCode == 0, r.Out + r.Err);
        // "I: edgemeter: binary-has-unneeded-section .comment [usr/lib/edgemeter/edgemeter]"
        var tags = r.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => l.Split(' '))
            .Where(f => f.Length >= 3 && f[0].Length == 2 && f[0][1] == ':' && f[1] == "edgemeter:")
            .Select(f => (Severity: f[0][0], Tag: f[2]))
            .ToList();
        Assert.DoesNotContain(tags, t => t.Severity is 'E' or 'W');
        Assert.Empty(tags.Select(t => t.Tag).Except(ExplainedTags));
        var readme = await File.ReadAllTextAsync(Path.Combine(Repo.Root, "publish-profiles", "README.md"));
        Assert.All(ExplainedTags, t => Assert.Contains($"`{t}`", readme, StringComparison.Ordinal));
    }

    /// <summary>Every assignment in the unit, by key, in order (comments and sections dropped).</summary>
    internal static Dictionary<string, List<string>> ParseUnit(string text)
    {
        var unit = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        foreach (var line in text.Split('\n').Select(l => l.Trim()).Where(l => l.Length > 0 && l[0] is not ('#' or ';' or '[')))
        {
            var eq = line.IndexOf('=', StringComparison.Ordinal);
            var key = line[..eq];
            if (!unit.TryGetValue(key, out var values))
                unit[key] = values = [];
            values.Add(line[(eq + 1)..]);
        }
        return unit;
    }

    // An SDM630 at unit 3: input registers, float32 high word first (hardware/register-maps/eastron-sdm630.json).
    private static string Sdm630Layout { get; } = BuildSdm630Layout();

    private static string BuildSdm630Layout()
    {
        var sb = new StringBuilder("unit 3\n");
        void Float(int address, float value)
        {
            var bits = BitConverter.SingleToUInt32Bits(value);
            sb.AppendLine(CultureInfo.InvariantCulture, $"i {address} {bits >> 16}");
            sb.AppendLine(CultureInfo.InvariantCulture, $"i {address + 1} {bits & 0xFFFF}");
        }
        Float(0, 230.1f);    // voltage_l1, V
        Float(52, 4321.5f);  // active_power, W
        Float(72, 1234.5f);  // import_active_energy, kWh on the wire, Wh in the map
        for (var a = 80; a < 82; a++)
            sb.AppendLine(CultureInfo.InvariantCulture, $"i {a} 0");
        Float(342, 1300.25f); // total_active_energy (30343), far from the rest: a second request
        return sb.ToString();
    }

    private static void AssertSdm630Values(string json)
    {
        using var doc = JsonDocument.Parse(json);
        var root = doc.RootElement;
        Assert.Equal("230.1", root.GetProperty("voltage_l1").GetProperty("value").GetRawText());
        Assert.Equal("4321.5", root.GetProperty("active_power").GetProperty("value").GetRawText());
        Assert.Equal("1234500", root.GetProperty("import_active_energy").GetProperty("value").GetRawText());
        Assert.Equal("Wh", root.GetProperty("import_active_energy").GetProperty("unit").GetString());
        Assert.Equal("1300250", root.GetProperty("total_active_energy").GetProperty("value").GetRawText());
    }
}
