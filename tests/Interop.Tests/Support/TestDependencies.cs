using System.Diagnostics;
using System.Runtime.CompilerServices;

namespace EdgeMeter.Interop.Tests.Support;

/// <summary>
/// The interop tests talk to real peers (mosquitto, libmodbus, socat, Chromium, node packages, qemu and the arm64
/// cross toolchain). So that the README's `dotnet test` works on a fresh Debian machine with only the .NET SDK,
/// the first load of this assembly installs whatever is missing with .ci/install-test-deps (apt-get as root or
/// through sudo; a no-op when everything is there, as in CI, which runs the same script first).
/// </summary>
internal static class TestDependencies
{
    [ModuleInitializer]
    internal static void EnsureInstalled()
    {
        if (Missing() is not { } what)
            return;
        var script = Path.Combine(Repo.Root, ".ci", "install-test-deps");
        Console.Error.WriteLine($"interop tests: {what} missing, running {script} (apt-get, npm ci)");
        using var p = Process.Start(new ProcessStartInfo("bash", [script]) { UseShellExecute = false });
        p?.WaitForExit((int)TimeSpan.FromMinutes(20).TotalMilliseconds);
        if (p is null || !p.HasExited || p.ExitCode != 0)
            Console.Error.WriteLine($"interop tests: {script} failed; the tests that need {what} will say so");
    }

    private static string? Missing()
    {
        string[] files =
        [
            "/usr/sbin/mosquitto", "/usr/bin/mosquitto_sub", "/usr/include/modbus/modbus.h", "/usr/bin/socat", "/usr/bin/chromium", "/usr/bin/python3",
            "/usr/bin/qemu-aarch64", "/usr/bin/clang", "/usr/aarch64-linux-gnu/lib/libc.so.6", "/usr/lib/aarch64-linux-gnu/libssl.so.3",
            Path.Combine(Repo.Root, "tests", "interop-js", "node_modules", "ethers", "package.json"),
        ];
        return files.FirstOrDefault(f => !File.Exists(f));
    }
}
