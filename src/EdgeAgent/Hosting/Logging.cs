using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;

namespace EdgeMeter.Agent.Hosting;

/// <summary>Logger set-up for the commands that run without the generic host (demo, ledger).</summary>
internal static class AgentLogging
{
    /// <summary>Single-line console logs on stderr, so that stdout carries only a command's result.</summary>
    public static ILoggerFactory CreateStderr(LogLevel minimum = LogLevel.Information) => LoggerFactory.Create(b =>
    {
        b.SetMinimumLevel(minimum);
        b.AddFilter("MQTTnet", LogLevel.Warning);
        b.AddSimpleConsole(o =>
        {
            o.SingleLine = true;
            o.TimestampFormat = "HH:mm:ss ";
        });
        b.Services.Configure<ConsoleLoggerOptions>(o => o.LogToStandardErrorThreshold = LogLevel.Trace);
    });
}
