using System.Text.Json;
using EdgeMeter.Interop.Tests.Support;

namespace EdgeMeter.Interop.Tests.Agent;

[Collection(AotCollection.Name)]
public sealed class AotSmokeTests(AotBinaryFixture aot)
{
    [Fact]
    public void Publish_prints_no_trim_or_aot_warning_from_our_assemblies()
    {
        var ours = aot.PublishLog.Split('\n')
            .Where(l => l.Contains("warning IL", StringComparison.Ordinal))
            .Where(l => l.Contains("EdgeMeter", StringComparison.Ordinal) || l.Contains("/src/", StringComparison.Ordinal))
            .ToList();
        Assert.Empty(ours);
    }

    [Fact]
    public async Task Binary_prints_its_version()
    {
        var r = await Processes.RunAsync(aot.Binary, ["--version"], TimeSpan.FromSeconds(30));
        Assert.Equal(0, r.ExitCode);
        Assert.Matches(@"^\d+\.\d+\.\d+", r.Out.Trim());
    }

    [Fact]
    public async Task Binary_runs_with_its_baked_in_gc_settings_and_no_environment()
    {
        // No GC variable in the environment: what the binary reports is what it carries (EdgeAgent.csproj), as a gateway runs it.
        var gcVariables = Environment.GetEnvironmentVariables().Keys.Cast<string>()
            .Where(k => k.StartsWith("DOTNET_GC", StringComparison.OrdinalIgnoreCase) || k.StartsWith("DOTNET_gcServer", StringComparison.OrdinalIgnoreCase))
            .ToList();
        Assert.Empty(gcVariables);
        var r = await Processes.RunAsync(aot.Binary, ["runtime", "--json"], TimeSpan.FromSeconds(30));

        Assert.True(r.ExitCode == 0, r.Err);
        using var json = JsonDocument.Parse(r.Out.Trim());
        var gc = json.RootElement.GetProperty("gc");
        Assert.False(gc.GetProperty("ConcurrentGC").GetBoolean());
        Assert.False(gc.GetProperty("ServerGC").GetBoolean());
        Assert.Equal(0, gc.GetProperty("GCHeapHardLimit").GetInt64());
        Assert.Equal(1 << 20, gc.GetProperty("GCRegionSize").GetInt64());
        // A 1 MiB gen0 budget collects 16 MiB of short-lived garbage about 16 times; the budget a server CPU's cache
        // gives (tens to hundreds of MiB) collects it once or not at all.
        Assert.InRange(json.RootElement.GetProperty("gen0CollectionsPer16MiB").GetInt32(), 8, 40);
    }

    [Fact]
    public async Task The_gen0_setting_is_the_binary_s_own_an_environment_variable_still_overrides_it()
    {
        var r = await Processes.RunAsync(aot.Binary, ["runtime", "--json"], TimeSpan.FromSeconds(30),
            env: new Dictionary<string, string> { ["DOTNET_GCgen0size"] = "8000000" }); // 128 MiB, hex

        Assert.True(r.ExitCode == 0, r.Err);
        using var json = JsonDocument.Parse(r.Out.Trim());
        Assert.InRange(json.RootElement.GetProperty("gen0CollectionsPer16MiB").GetInt32(), 0, 2);
    }

    [Fact]
    public async Task Bench_json_prints_the_five_figures_as_positive_numbers()
    {
        var r = await Processes.RunAsync(aot.Binary, ["bench", "--json", "--quick"], TimeSpan.FromMinutes(3));

        Assert.True(r.ExitCode == 0, r.Err);
        using var json = JsonDocument.Parse(r.Out.Trim());
        var root = json.RootElement;
        string[] keys = ["signPerSecond", "recoverPerSecond", "modbusReadsPerSecond", "bytesPerRecord", "drainPerSecond"];
        Assert.Equal(keys.Order(), root.EnumerateObject().Select(p => p.Name).Order());
        foreach (var key in keys)
        {
            Assert.Equal(JsonValueKind.Number, root.GetProperty(key).ValueKind);
            Assert.True(root.GetProperty(key).GetDouble() > 0, $"{key}: {r.Out}");
        }
        // A stored record is a signed reading of a few hundred bytes at least; a commit of 90 writes under 1 KB each.
        Assert.InRange(root.GetProperty("bytesPerRecord").GetDouble(), 100, 4096);
    }

    [Fact]
    public async Task Run_with_a_negative_poll_interval_exits_2_naming_the_key()
    {
        var dir = Directory.CreateTempSubdirectory("edgemeter-aot-config-").FullName;
        var config = Path.Combine(dir, "edgemeter.json");
        await File.WriteAllTextAsync(config, $$"""
            { "dataDirectory": "{{dir}}/data", "pollIntervalSeconds": -1,
              "meters": [ { "id": "grid", "endpoint": "tcp://127.0.0.1:1502", "unit": 1, "map": "eastron-sdm630" } ] }
            """);

        var r = await Processes.RunAsync(aot.Binary, ["run", "--config", config], TimeSpan.FromSeconds(30));

        Assert.Equal(2, r.ExitCode);
        Assert.Equal($"edgemeter: {config}: pollIntervalSeconds: must be greater than 0 and at most 3600 (got -1)", r.Err.Trim());
    }

    [Fact]
    public async Task Demo_runs_the_whole_path_and_ends_with_the_counters_line()
    {
        var data = Directory.CreateTempSubdirectory("edgemeter-aot-demo-").FullName;
        var r = await Processes.RunAsync(aot.Binary, ["demo", "--exit-after", "15", "--data", data, "--http", "http://127.0.0.1:0"], TimeSpan.FromSeconds(90));

        Assert.True(r.ExitCode == 0, r.Err);
        var last = r.Out.Trim().Split('\n')[^1];
        using var json = JsonDocument.Parse(last);
        var root = json.RootElement;
        var readings = root.GetProperty("readings").GetInt64();
        var signed = root.GetProperty("signed").GetInt64();
        var stored = root.GetProperty("stored").GetInt64();
        var published = root.GetProperty("published").GetInt64();
        var confirmed = root.GetProperty("confirmed").GetInt64();
        Assert.True(readings >= signed && signed > 0, last);
        Assert.Equal(signed, stored);
        Assert.True(published >= confirmed, last);
        Assert.True(confirmed >= 10, last);
        Assert.Equal(JsonValueKind.Number, root.GetProperty("balance").ValueKind);
    }

    [Fact]
    public async Task Demo_never_maps_openssl_its_hashes_and_dlms_cipher_are_its_own()
    {
        // libssl and libcrypto never unload once mapped and cost about 3.7 MB resident: a gateway without TLS must not
        // map them, the DLMS meter's HLS-GMAC association and ciphered reads included (AES-NI on this machine).
        var data = Directory.CreateTempSubdirectory("edgemeter-aot-nossl-").FullName;
        await using var demo = new Background(aot.Binary, ["demo", "--exit-after", "10", "--data", data, "--http", "http://127.0.0.1:0"]);
        var mapped = new HashSet<string>();
        int samples = 0;
        while (!demo.HasExited)
        {
            try
            {
                foreach (var line in await File.ReadAllLinesAsync($"/proc/{demo.Id}/maps"))
                {
                    if (line.Contains("libssl", StringComparison.Ordinal) || line.Contains("libcrypto", StringComparison.Ordinal))
                        mapped.Add(line[(line.LastIndexOf(' ') + 1)..]);
                }
                samples++;
            }
            catch (IOException) when (demo.HasExited)
            {
            }
            await Task.Delay(250);
        }

        Assert.Equal(0, await demo.WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.True(samples >= 10, $"only {samples} samples of the maps:\n{demo.Output}");
        Assert.Empty(mapped);
        var last = demo.Output.Trim().Split('\n')[^1];
        using var json = JsonDocument.Parse(last);
        Assert.True(json.RootElement.GetProperty("confirmed").GetInt64() >= 5, last);
        Assert.Contains(Directory.EnumerateFiles(data, "*", SearchOption.AllDirectories), f => Path.GetFileName(f).StartsWith("dlms-", StringComparison.Ordinal) && f.EndsWith(".ic", StringComparison.Ordinal)); // the HLS invocation counter: it ciphered
    }

    [Fact]
    public async Task Demo_runs_its_code_from_the_front_of_the_binary()
    {
        // publish-profiles/order lists the functions the demo executes; ILC places them first. The kernel maps file
        // pages 64 KB around a fault, so one executed method among cold ones keeps 64 KB resident: the test reads which
        // pages of the managed code the running demo has mapped (/proc/PID/pagemap) behind the listed functions.
        var order = File.ReadAllLines(Path.Combine(Repo.Root, "publish-profiles", "order", "edgemeter.order")).ToHashSet(StringComparer.Ordinal);
        var dbg = aot.Binary + ".dbg";
        var sections = await Processes.RunAsync("readelf", ["-SW", dbg], TimeSpan.FromSeconds(30));
        var code = System.Text.RegularExpressions.Regex.Match(sections.Out, @"\]\s+__managedcode\s+\S+\s+([0-9a-f]+)\s+[0-9a-f]+\s+([0-9a-f]+)");
        Assert.True(code.Success, sections.Out + sections.Err);
        long codeStart = Convert.ToInt64(code.Groups[1].Value, 16), codeEnd = codeStart + Convert.ToInt64(code.Groups[2].Value, 16);
        var nm = await Processes.RunAsync("nm", ["-n", "-S", "--defined-only", dbg], TimeSpan.FromSeconds(60));
        Assert.Equal(0, nm.ExitCode);
        var symbols = new List<(long Address, string Name)>();
        long hotEnd = codeStart;
        foreach (var line in nm.Out.Split('\n'))
        {
            var parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length != 4 || parts[2] is not ("t" or "T"))
                continue;
            long address = Convert.ToInt64(parts[0], 16);
            symbols.Add((address, parts[3]));
            // The listed functions form one dense run from the start of the code. A listed name can also be a folded
            // body's alias placed with the cold code, so the run ends at the first gap of 64 KB.
            if (address >= hotEnd && address - hotEnd < 0x10000 && address < codeEnd && order.Contains(parts[3]))
                hotEnd = address + Convert.ToInt64(parts[1], 16);
        }
        Assert.InRange(hotEnd, codeStart + 0x40000, codeEnd - 0x100000); // the list places some code first, not all of it

        var data = Directory.CreateTempSubdirectory("edgemeter-aot-layout-").FullName;
        await using var demo = new Background(aot.Binary, ["demo", "--exit-after", "14", "--data", data, "--http", "http://127.0.0.1:0"]);
        // Cold code starts at the next 64 KB boundary; the last 128 KB border the unboxing stubs, which the demo runs.
        long from = (hotEnd + 0xFFFF) & ~0xFFFFL, to = codeEnd - 0x20000;
        var touched = new SortedSet<long>();
        while (!demo.HasExited)
        {
            await Task.Delay(1000);
            try
            {
                var maps = await File.ReadAllLinesAsync($"/proc/{demo.Id}/maps");
                var first = maps.First(l => l.EndsWith("/edgemeter", StringComparison.Ordinal));
                long start = Convert.ToInt64(first[..first.IndexOf('-')], 16), offset = Convert.ToInt64(first.Split(' ')[2], 16);
                long loadBase = start - offset;
                await using var pagemap = new FileStream($"/proc/{demo.Id}/pagemap", FileMode.Open, FileAccess.Read);
                var entries = new byte[(to - from) / 4096 * 8];
                pagemap.Position = (loadBase + from) / 4096 * 8;
                await pagemap.ReadExactlyAsync(entries);
                for (int i = 0; i < entries.Length / 8; i++)
                {
                    if ((BitConverter.ToUInt64(entries, i * 8) >> 63) != 0)
                        touched.Add((from + i * 4096L) & ~0xFFFFL);
                }
            }
            catch (Exception e) when (demo.HasExited && e is IOException or InvalidOperationException)
            {
            }
        }

        Assert.Equal(0, await demo.WaitAsync(TimeSpan.FromSeconds(30)));
        var cold = touched.Select(chunk => $"0x{chunk:x} {symbols.FirstOrDefault(s => s.Address >= chunk).Name}").ToList();
        Assert.True(cold.Count <= 4,
            $"the demo ran code from {cold.Count} cold 64 KB chunks (refresh the list: publish-profiles/order/refresh.sh):\n" + string.Join('\n', cold));
    }

    [Fact]
    public async Task Arm64_binary_is_an_aarch64_elf_without_trim_warnings_and_runs_under_qemu()
    {
        TestDependencies.Require(Peer.Arm64Toolchain);
        var (binary, log) = await aot.Arm64Async();

        Assert.DoesNotContain("warning IL", log, StringComparison.Ordinal);
        var header = new byte[20];
        await using (var f = File.OpenRead(binary))
            await f.ReadExactlyAsync(header);
        Assert.Equal([0x7F, (byte)'E', (byte)'L', (byte)'F', 2 /* 64-bit */, 1 /* little-endian */], header[..6]);
        Assert.Equal(183, BitConverter.ToUInt16(header, 18)); // e_machine EM_AARCH64
        Assert.True(File.Exists(Path.Combine(Path.GetDirectoryName(binary)!, "libSystem.IO.Ports.Native.so")));

        var r = await Processes.RunAsync("qemu-aarch64", [binary, "--version"], TimeSpan.FromSeconds(60));
        Assert.True(r.ExitCode == 0, r.Err);
        Assert.Matches(@"^\d+\.\d+\.\d+", r.Out.Trim());
    }

    [Fact]
    public async Task Run_reads_a_meter_under_the_host_and_an_orderly_stop_commits_what_it_buffered()
    {
        await using var meter = RunConfig.StartSdm630(7);
        var dir = Directory.CreateTempSubdirectory("edgemeter-aot-run-").FullName;
        var config = await RunConfig.WriteAsync(dir, meter, 7);

        await using (var agent = new Background(aot.Binary, ["run", "--config", config]))
        {
            await Task.Delay(TimeSpan.FromSeconds(4));
            Assert.False(agent.HasExited, agent.Output);
            // SIGTERM, as systemd stops it: the readings buffered for the 15 s group commit are signed and stored.
            Assert.Equal(0, await agent.StopAsync(TimeSpan.FromSeconds(20)));
            Assert.Contains("starting: 1 meters", agent.Output, StringComparison.Ordinal);
        }

        var export = await Processes.RunAsync(aot.Binary, ["export", "--data", Path.Combine(dir, "data")], TimeSpan.FromSeconds(30));
        Assert.True(export.ExitCode == 0, export.Err);
        var messages = export.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => JsonDocument.Parse(l).RootElement.GetProperty("message")).ToList();
        Assert.True(messages.Count >= 4, $"{messages.Count} records");
        var energy = messages.First(m => m.GetProperty("obis").GetString() == "1-0:1.8.0*255");
        Assert.Equal(("main", "2500000", 0, "Wh"), (energy.GetProperty("meterId").GetString(), energy.GetProperty("value").GetString(),
            energy.GetProperty("scaler").GetInt32(), energy.GetProperty("unit").GetString()));
        Assert.Contains(messages, m => m.GetProperty("obis").GetString() == "1-0:16.7.0*255" && m.GetProperty("value").GetString() == "12345");
    }
}
