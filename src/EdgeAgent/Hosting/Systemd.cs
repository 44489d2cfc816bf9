using System.Globalization;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text;

namespace EdgeMeter.Agent.Hosting;

/// <summary>
/// The service manager's side of <c>Type=notify</c>: whether systemd started this process, and the datagrams
/// (<c>READY=1</c>, <c>WATCHDOG=1</c>, <c>STOPPING=1</c>) sent to the socket it names in <c>$NOTIFY_SOCKET</c>.
/// </summary>
internal sealed partial class SystemdNotifier
{
    private readonly string? _socketPath;

    /// <param name="socketPath">
    /// <c>$NOTIFY_SOCKET</c>: a socket file's path, or <c>@name</c> for one in the abstract namespace; null or empty:
    /// nothing to tell.
    /// </param>
    public SystemdNotifier(string? socketPath)
    {
        if (!string.IsNullOrEmpty(socketPath))
            _socketPath = socketPath[0] == '@' ? "\0" + socketPath[1..] : socketPath;
    }

    /// <summary>Whether there is a socket to send to.</summary>
    public bool IsEnabled => _socketPath is not null;

    /// <summary>
    /// Whether systemd started this process: its parent is <c>systemd</c> or, as PID 1 of a container, it was
    /// given <c>NOTIFY_SOCKET</c> or <c>LISTEN_PID</c>. Only then are journald's log format and the notifications used.
    /// </summary>
    public static bool IsSystemdService(Func<string, string?>? environment = null, int? processId = null, int? parentId = null)
    {
        environment ??= Environment.GetEnvironmentVariable;
        if (!OperatingSystem.IsLinux())
            return false;
        if ((processId ?? Environment.ProcessId) == 1)
            return !string.IsNullOrEmpty(environment("NOTIFY_SOCKET")) || !string.IsNullOrEmpty(environment("LISTEN_PID"));
        try
        {
            var comm = File.ReadAllBytes($"/proc/{(parentId ?? GetParentProcessId()).ToString(CultureInfo.InvariantCulture)}/comm");
            return comm.AsSpan().SequenceEqual("systemd\n"u8);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    /// <summary>Sends one state (<c>READY=1</c>), one datagram.</summary>
    /// <exception cref="SocketException">The socket is gone or refuses it.</exception>
    public void Notify(string state)
    {
        if (_socketPath is null)
            return;
        using var socket = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
        socket.Connect(new UnixDomainSocketEndPoint(_socketPath));
        socket.Send(Encoding.UTF8.GetBytes(state));
    }

    [LibraryImport("libc", EntryPoint = "getppid")]
    private static partial int GetParentProcessId();
}
