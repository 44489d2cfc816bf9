using System.Text.Json;
using EdgeMeter.Interop.Tests.Support;

namespace EdgeMeter.Interop.Tests.Packaging;

/// <summary>
/// The <c>linux-arm</c> fallback profile: framework-dependent IL for a 32-bit OS. Published from a copy of the
/// sources, so that its restore (another runtime, no AOT) never rewrites the obj folders the AOT publishes use.
/// </summary>
public sealed class Arm32FallbackProfileTests
{
    [Fact]
    public async Task Linux_arm_profile_publishes_framework_dependent_il_with_the_armhf_serial_library()
    {
        var copy = Directory.CreateTempSubdirectory("edgemeter-arm32-").FullName;
        try
        {
            foreach (var file in new[] { "Directory.Build.props", "Directory.Packages.props", "global.json", ".editorconfig" })
                File.Copy(Path.Combine(Repo.Root, file), Path.Combine(copy, file));
            foreach (var dir in new[] { "src", "publish-profiles", "hardware" })
                CopySources(Path.Combine(Repo.Root, dir), Path.Combine(copy, dir));

            var r = await Processes.RunAsync("dotnet", ["publish", Path.Combine(copy, "src", "EdgeAgent"), "-p:PublishProfile=linux-arm", "-nologo"],
                TimeSpan.FromMinutes(10), copy);
            Assert.True(r.ExitCode == 0, r.Out + r.Err);

            var output = Path.Combine(copy, "artifacts", "publish", "linux-arm");
            Assert.True(File.Exists(Path.Combine(output, "edgemeter.dll")));
            Assert.False(File.Exists(Path.Combine(output, "edgemeter")), "no native apphost: started as dotnet edgemeter.dll");
            using (var config = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(output, "edgemeter.runtimeconfig.json"))))
            {
                var framework = config.RootElement.GetProperty("runtimeOptions").GetProperty("framework");
                Assert.Equal("Microsoft.NETCore.App", framework.GetProperty("name").GetString());
                Assert.StartsWith("10.0.", framework.GetProperty("version").GetString(), StringComparison.Ordinal);
            }

            var header = new byte[20];
            await using (var f = File.OpenRead(Path.Combine(output, "libSystem.IO.Ports.Native.so")))
                await f.ReadExactlyAsync(header);
            Assert.Equal(1, header[4]);                        // ELFCLASS32
            Assert.Equal(40, header[18] | header[19] << 8);    // EM_ARM
        }
        finally
        {
            Directory.Delete(copy, recursive: true);
        }
    }

    private static void CopySources(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (var file in Directory.EnumerateFiles(from))
            File.Copy(file, Path.Combine(to, Path.GetFileName(file)));
        foreach (var dir in Directory.EnumerateDirectories(from).Where(d => Path.GetFileName(d) is not ("bin" or "obj")))
            CopySources(dir, Path.Combine(to, Path.GetFileName(dir)));
    }
}
