using System.Runtime.InteropServices;

namespace EdgeMeter.Agent.Hosting;

/// <summary>
/// Native libraries the runtime loads lazily and then aborts without a useful message when missing: check at
/// start and say what to install.
/// </summary>
internal static class NativeChecks
{
    private static readonly string[] OpenSslNames = ["libssl.so.3", "libssl.so.1.1", "libssl.so"];

    /// <summary>
    /// Null when OpenSSL can be loaded, else a one-line explanation. OpenSSL is looked for as a file in the loader's
    /// directories first and not loaded: libssl and libcrypto are marked never to unload, and mapping them costs a
    /// gateway about 3.7 MB of resident memory that it needs only for TLS (the hashes, signatures and, on a CPU with
    /// AES instructions, the DLMS cipher are ours). Only when no file is found does it try the loader itself, which
    /// also searches places the list below does not know.
    /// </summary>
    public static string? CheckOpenSsl() => CheckOpenSsl(LibraryDirectories(), TryLoad);

    /// <summary>The check over the given directories, with <paramref name="tryLoad"/> as the loader's last word.</summary>
    internal static string? CheckOpenSsl(IEnumerable<string> directories, Func<string, bool> tryLoad)
    {
        foreach (var directory in directories)
        {
            foreach (var name in OpenSslNames)
            {
                if (File.Exists(Path.Combine(directory, name)))
                    return null;
            }
        }
        foreach (var name in OpenSslNames)
        {
            if (tryLoad(name))
                return null;
        }
        return "OpenSSL (libssl.so.3) not found; install it (Debian/Pi OS: apt-get install libssl3)";
    }

    /// <summary>
    /// Where the loader looks on Debian and Raspberry Pi OS: LD_LIBRARY_PATH, then the multiarch and plain library
    /// directories of this process's architecture.
    /// </summary>
    internal static IEnumerable<string> LibraryDirectories()
    {
        foreach (var entry in (Environment.GetEnvironmentVariable("LD_LIBRARY_PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries))
            yield return entry;
        var triplet = RuntimeInformation.ProcessArchitecture switch
        {
            Architecture.X64 => "x86_64-linux-gnu",
            Architecture.Arm64 => "aarch64-linux-gnu",
            Architecture.Arm => "arm-linux-gnueabihf",
            _ => null,
        };
        if (triplet is not null)
        {
            yield return "/usr/lib/" + triplet;
            yield return "/lib/" + triplet;
        }
        yield return "/usr/local/lib";
        yield return "/usr/lib";
        yield return "/lib";
    }

    private static bool TryLoad(string name)
    {
        if (!NativeLibrary.TryLoad(name, out var handle))
            return false;
        NativeLibrary.Free(handle);
        return true;
    }
}
