using EdgeMeter.Agent.Hosting;

namespace EdgeMeter.Agent.Tests.Hosting;

public class NativeChecksTests
{
    [Fact]
    public void A_libssl_file_in_a_library_directory_passes_without_loading_anything()
    {
        var dir = Directory.CreateTempSubdirectory("edgemeter-libdir-").FullName;
        File.WriteAllBytes(Path.Combine(dir, "libssl.so.3"), []);
        var loads = new List<string>();

        Assert.Null(NativeChecks.CheckOpenSsl(["/nonexistent", dir], name => { loads.Add(name); return false; }));
        Assert.Empty(loads);
    }

    [Fact]
    public void Without_a_file_the_loader_decides_and_a_miss_names_the_package()
    {
        var empty = Directory.CreateTempSubdirectory("edgemeter-libdir-").FullName;
        var loads = new List<string>();

        Assert.Null(NativeChecks.CheckOpenSsl([empty], name => { loads.Add(name); return name == "libssl.so.1.1"; }));
        Assert.Equal(["libssl.so.3", "libssl.so.1.1"], loads);
        Assert.Equal("OpenSSL (libssl.so.3) not found; install it (Debian/Pi OS: apt-get install libssl3)",
            NativeChecks.CheckOpenSsl([empty], _ => false));
    }

    [Fact]
    public void This_machine_s_openssl_is_found_among_the_loader_s_directories()
    {
        // Debian 12 x64 ships libssl.so.3 in /usr/lib/x86_64-linux-gnu: the check must find it there, not by loading it.
        Assert.Null(NativeChecks.CheckOpenSsl(NativeChecks.LibraryDirectories(), _ => false));
    }
}
