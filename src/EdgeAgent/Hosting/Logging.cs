using System.Globalization;
using System.Text;
using Microsoft.Extensions.Logging;

namespace EdgeMeter.Agent.Hosting;

/// <summary>Logger set-up for the commands: one line per message on the console.</summary>
internal static class AgentLogging
{
    /// <summary>Single-line console logs on stderr with a time of day, so that stdout carries only a command's result (demo, ledger).</summary>
    public static ILoggerFactory CreateStderr(LogLevel minimum = LogLevel.Information) =>
        new ConsoleLines(Console.Error, minimum, timestampFormat: "HH:mm:ss ", systemd: false);
}

/// <summary>
/// One line per message, in the shape of the console logger's single-line format
/// (<c>info: Category[EventId] message</c>, the level coloured on a terminal) or, under systemd, journald's
/// (<c>&lt;6&gt;Category[EventId] message</c>, the level as a syslog priority). Written synchronously, whole lines
/// under a lock: no queue and no writer thread. Messages of categories below <c>MQTTnet</c> count from Warning up.
/// </summary>
internal sealed class ConsoleLines : ILoggerFactory
{
    private readonly TextWriter _out;
    private readonly LogLevel _minimum;
    private readonly string? _timestampFormat;
    private readonly bool _systemd;
    private readonly bool _colours;
    private readonly Lock _gate = new();

    /// <param name="output">Where the lines go (stdout for the service, stderr for the commands).</param>
    /// <param name="minimum">The lowest level written.</param>
    /// <param name="timestampFormat">Local time of day before each line, or null.</param>
    /// <param name="systemd">journald's format instead of the console's.</param>
    public ConsoleLines(TextWriter output, LogLevel minimum, string? timestampFormat, bool systemd)
    {
        _out = output;
        _minimum = minimum;
        _timestampFormat = timestampFormat;
        _systemd = systemd;
        _colours = !systemd && ColoursWanted();
    }

    public ILogger CreateLogger(string categoryName) => new Line(this, categoryName,
        categoryName.StartsWith("MQTTnet", StringComparison.OrdinalIgnoreCase) && _minimum < LogLevel.Warning ? LogLevel.Warning : _minimum);

    public void AddProvider(ILoggerProvider provider) => throw new NotSupportedException("one console sink only");

    public void Dispose()
    {
    }

    // As the console logger decides: ANSI colours when stdout is a terminal, or when redirection is allowed them.
    private static bool ColoursWanted()
    {
        var allow = Environment.GetEnvironmentVariable("DOTNET_SYSTEM_CONSOLE_ALLOW_ANSI_COLOR_REDIRECTION");
        if (allow is not null)
            return allow == "1" || allow.Equals("true", StringComparison.OrdinalIgnoreCase);
        return !Console.IsOutputRedirected;
    }

    private void Write(string category, LogLevel level, EventId eventId, string? message, Exception? exception)
    {
        if (exception is null && string.IsNullOrEmpty(message))
            return;
        var line = new StringBuilder(category.Length + (message?.Length ?? 0) + 32);
        if (_systemd)
            line.Append(level switch
            {
                LogLevel.Trace or LogLevel.Debug => "<7>",
                LogLevel.Information => "<6>",
                LogLevel.Warning => "<4>",
                LogLevel.Error => "<3>",
                _ => "<2>",
            });
        if (_timestampFormat is not null)
            line.Append(DateTimeOffset.Now.ToString(_timestampFormat, CultureInfo.InvariantCulture));
        if (!_systemd)
        {
            var (name, background, foreground) = level switch
            {
                LogLevel.Trace => ("trce", "\e[40m", "\e[37m"),
                LogLevel.Debug => ("dbug", "\e[40m", "\e[37m"),
                LogLevel.Information => ("info", "\e[40m", "\e[32m"),
                LogLevel.Warning => ("warn", "\e[40m", "\e[1m\e[33m"),
                LogLevel.Error => ("fail", "\e[41m", "\e[30m"),
                _ => ("crit", "\e[41m", "\e[1m\e[37m"),
            };
            if (_colours)
                line.Append(background).Append(foreground).Append(name).Append("\e[39m\e[22m").Append("\e[49m");
            else
                line.Append(name);
            line.Append(": ");
        }
        line.Append(category).Append('[').Append(eventId.Id.ToString(CultureInfo.InvariantCulture)).Append(']');
        if (!string.IsNullOrEmpty(message))
            line.Append(' ').Append(message.ReplaceLineEndings(" "));
        if (exception is not null)
            line.Append(' ').Append(exception.ToString().ReplaceLineEndings(" "));
        line.Append('\n');
        var text = line.ToString();
        lock (_gate)
        {
            _out.Write(text);
            _out.Flush();
        }
    }

    private sealed class Line(ConsoleLines sink, string category, LogLevel minimum) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= minimum && logLevel != LogLevel.None;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (!IsEnabled(logLevel))
                return;
            ArgumentNullException.ThrowIfNull(formatter);
            sink.Write(category, logLevel, eventId, formatter(state, exception), exception);
        }
    }
}
