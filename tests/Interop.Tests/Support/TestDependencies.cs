namespace EdgeMeter.Interop.Tests.Support;

/// <summary>A real peer some interop tests talk to, installed by <c>.ci/install-test-deps</c>.</summary>
public enum Peer
{
    Mosquitto,
    Libmodbus,
    Socat,
    Chromium,
    NodePackages,
    Arm64Toolchain,
    Packaging,
    Python,
    Fuse,
}

/// <summary>
/// The one check every test that needs a real peer calls first. Nothing is installed from here (a module
/// initializer would also run on IDE discovery): a missing peer fails the test with one line naming the command
/// that installs all of them, the same for every peer.
/// </summary>
public static class TestDependencies
{
    public const string InstallCommand = "bash .ci/install-test-deps";

    /// <summary>Fails the calling test with one line when a file <paramref name="peer"/> needs is missing.</summary>
    public static void Require(Peer peer)
    {
        if (MissingFile(peer) is { } missing)
            throw new Xunit.Sdk.XunitException($"{peer} is not installed ({missing} missing): run `{InstallCommand}`");
    }

    /// <summary>The first file <paramref name="peer"/> needs that is not there, or null.</summary>
    public static string? MissingFile(Peer peer) => Files(peer).FirstOrDefault(f => !File.Exists(f));

    private static string[] Files(Peer peer) => peer switch
    {
        Peer.Mosquitto => [Mosquitto.Binary ?? "/usr/sbin/mosquitto", "/usr/bin/mosquitto_passwd"],
        Peer.Libmodbus => ["/usr/bin/gcc", "/usr/include/modbus/modbus.h"],
        Peer.Socat => ["/usr/bin/socat"],
        Peer.Chromium => ["/usr/bin/chromium"],
        Peer.NodePackages => ["/usr/bin/node", Path.Combine(Repo.Root, "tests", "interop-js", "node_modules", "ethers", "package.json"),
            Path.Combine(Repo.Root, "tests", "interop-js", "node_modules", "playwright-core", "package.json")],
        Peer.Arm64Toolchain =>
        [
            "/usr/bin/clang", "/usr/bin/qemu-aarch64", "/usr/aarch64-linux-gnu/lib/libc.so.6", "/usr/lib/aarch64-linux-gnu/libssl.so.3",
        ],
        Peer.Packaging => ["/usr/sbin/debootstrap", "/usr/bin/lintian", "/usr/bin/systemd-analyze", "/usr/bin/dpkg-deb", "/usr/include/seccomp.h"],
        Peer.Python => ["/usr/bin/python3"],
        Peer.Fuse => ["/usr/bin/gcc", "/usr/bin/pkg-config", "/usr/include/fuse3/fuse.h", "/usr/bin/fusermount3", "/dev/fuse"],
        _ => throw new ArgumentOutOfRangeException(nameof(peer)),
    };
}
