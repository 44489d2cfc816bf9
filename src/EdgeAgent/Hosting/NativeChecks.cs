using System.Runtime.InteropServices;

namespace EdgeMeter.Agent.Hosting;

/// <summary>
/// Native libraries the runtime loads lazily and then aborts without a useful message when missing: check at
/// start and say what to install.
/// </summary>
internal static class NativeChecks
{
    /// <summary>Null when OpenSSL can be loaded, else a one-line explanation.</summary>
    public static string? CheckOpenSsl()
    {
        foreach (var name in new[] { "libssl.so.3", "libssl.so.1.1", "libssl.so" })
        {
            if (NativeLibrary.TryLoad(name, out var handle))
            {
                NativeLibrary.Free(handle);
                return null;
            }
        }
        return "OpenSSL (libssl.so.3) not found; install it (Debian/Pi OS: apt-get install libssl3)";
    }
}
