using System.Net.Sockets;
using System.Text;
using EdgeMeter.Agent.Hosting;
using Microsoft.Extensions.Logging;

namespace EdgeMeter.Agent.Tests.Hosting;

/// <summary>
/// The log lines and the systemd notifications of our own host, in the shapes Microsoft.Extensions.Hosting's console
/// logger and systemd integration wrote them.
/// </summary>
public sealed partial class ConsoleLinesTests
{
    [LoggerMessage(Level = LogLevel.Warning, Message = "Meter {Id}: read failed")]
    private static partial void LogReadFailed(ILogger logger, string id);

    [LoggerMessage(EventId = 7, Level = LogLevel.Error, Message = "Store failed:\nline two")]
    private static partial void LogStoreFailed(ILogger logger, Exception e);

    [LoggerMessage(EventId = 1, Level = LogLevel.Information, Message = "Polled")]
    private static partial void LogPolled(ILogger logger);

    private static Exception Thrown()
    {
        try
        {
            throw new IOException("disk gone");
        }
        catch (IOException e)
        {
            return e;
        }
    }

    [Fact]
    public void Console_lines_are_level_category_event_id_and_message_on_one_line()
    {
        var output = new StringWriter();
        using var loggers = new ConsoleLines(output, LogLevel.Information, timestampFormat: null, systemd: false);
        var log = loggers.CreateLogger<ConsoleLinesTests>();
        var error = Thrown();

        LogReadFailed(log, "grid");
        LogStoreFailed(log, error);
        log.LogDebug("not written");
        LogReadFailed(loggers.CreateLogger("MQTTnet.Client"), "x");
        LogPolled(loggers.CreateLogger("MQTTnet.Client"));

        var lines = output.ToString().Split('\n');
        Assert.Equal(4, lines.Length);
        Assert.Matches(@"^warn: EdgeMeter\.Agent\.Tests\.Hosting\.ConsoleLinesTests\[-?\d+\] Meter grid: read failed$", lines[0]);
        Assert.Equal("fail: EdgeMeter.Agent.Tests.Hosting.ConsoleLinesTests[7] Store failed: line two " + error.ToString().ReplaceLineEndings(" "), lines[1]);
        Assert.Matches(@"^warn: MQTTnet\.Client\[-?\d+\] Meter x: read failed$", lines[2]);
        Assert.Equal("", lines[3]);
    }

    [Fact]
    public void Under_systemd_the_level_is_a_syslog_priority_and_commands_get_a_time_of_day()
    {
        var journal = new StringWriter();
        using (var loggers = new ConsoleLines(journal, LogLevel.Information, timestampFormat: null, systemd: true))
        {
            LogPolled(loggers.CreateLogger("A"));
            LogReadFailed(loggers.CreateLogger("B"), "m");
            LogStoreFailed(loggers.CreateLogger("C"), Thrown());
        }
        var lines = journal.ToString().Split('\n');
        Assert.Equal("<6>A[1] Polled", lines[0]);
        Assert.StartsWith("<4>B[", lines[1], StringComparison.Ordinal);
        Assert.StartsWith("<3>C[7] Store failed: line two System.IO.IOException: disk gone ", lines[2], StringComparison.Ordinal);

        var stderr = new StringWriter();
        using (var loggers = new ConsoleLines(stderr, LogLevel.Information, timestampFormat: "HH:mm:ss ", systemd: false))
            LogPolled(loggers.CreateLogger("A"));
        Assert.Matches(@"^\d\d:\d\d:\d\d info: A\[1\] Polled\n$", stderr.ToString());
    }

    [Fact]
    public void Notifications_are_datagrams_to_the_socket_named_in_NOTIFY_SOCKET_also_in_the_abstract_namespace()
    {
        var name = $"edgemeter-test-{Environment.ProcessId}-{Guid.NewGuid():N}";
        using var listener = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
        listener.Bind(new UnixDomainSocketEndPoint("\0" + name));
        listener.ReceiveTimeout = 10_000;

        var notifier = new SystemdNotifier("@" + name);
        Assert.True(notifier.IsEnabled);
        notifier.Notify("READY=1");
        notifier.Notify("WATCHDOG=1");

        var buffer = new byte[64];
        Assert.Equal("READY=1", Encoding.UTF8.GetString(buffer, 0, listener.Receive(buffer)));
        Assert.Equal("WATCHDOG=1", Encoding.UTF8.GetString(buffer, 0, listener.Receive(buffer)));

        var none = new SystemdNotifier(null);
        Assert.False(none.IsEnabled);
        none.Notify("READY=1");
    }

    [Fact]
    public void Systemd_started_us_when_our_parent_is_systemd_or_as_a_containers_pid_1_given_its_variables()
    {
        Assert.True(SystemdNotifier.IsSystemdService(n => n == "NOTIFY_SOCKET" ? "/run/systemd/notify" : null, processId: 1));
        Assert.True(SystemdNotifier.IsSystemdService(n => n == "LISTEN_PID" ? "1" : null, processId: 1));
        Assert.False(SystemdNotifier.IsSystemdService(_ => null, processId: 1));
        // The test runner's parent is not systemd; /proc/1 is systemd only on a booted systemd machine.
        var initIsSystemd = File.Exists("/proc/1/comm") && File.ReadAllText("/proc/1/comm") == "systemd\n";
        Assert.Equal(initIsSystemd, SystemdNotifier.IsSystemdService(_ => null, processId: 42, parentId: 1));
        Assert.False(SystemdNotifier.IsSystemdService(_ => null, processId: 42, parentId: Environment.ProcessId));
    }
}
