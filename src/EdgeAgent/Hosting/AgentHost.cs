using EdgeMeter.Agent.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Hosting.Systemd;
using Microsoft.Extensions.Logging;

namespace EdgeMeter.Agent.Hosting;

/// <summary>
/// <c>edgemeter run</c>: the agent under the generic host with systemd integration (Type=notify readiness,
/// stop on SIGTERM, journald-formatted logs when started by systemd).
/// </summary>
internal static class AgentHost
{
    /// <summary>Runs until SIGTERM (exit code 0) or until a background loop fails (exit code 1).</summary>
    /// <param name="options">Validated options.</param>
    /// <param name="ct">Stops the host.</param>
    /// <param name="configure">Applied to the runtime before it runs (tests).</param>
    /// <param name="configPath">The file the options came from; the local page's setup writes to it.</param>
    public static async Task<int> RunAsync(AgentOptions options, CancellationToken ct, Action<AgentRuntime>? configure = null, string? configPath = null)
    {
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Services.AddSystemd();
        builder.Logging.SetMinimumLevel(LogLevel.Information);
        builder.Logging.AddFilter("MQTTnet", LogLevel.Warning);
        builder.Logging.AddSimpleConsole(o => o.SingleLine = true);
        builder.Services.AddSingleton(options);
        var outcome = new AgentOutcome(configure);
        builder.Services.AddSingleton(outcome);
        builder.Services.AddSingleton(new ConfigFile(configPath));
        builder.Services.AddHostedService<AgentService>();
        using var host = builder.Build();
        await host.RunAsync(ct).ConfigureAwait(false);
        return outcome.ExitCode;
    }
}

/// <summary>How the agent ended, for the process exit code.</summary>
internal sealed class AgentOutcome(Action<AgentRuntime>? configure)
{
    public Action<AgentRuntime>? Configure { get; } = configure;

    public int ExitCode { get; set; }
}

/// <summary>
/// Runs <see cref="AgentRuntime"/> for the host's lifetime. A failed loop, or an agent that cannot start (a key it
/// cannot read, a page it cannot bind), stops the host with exit code 1, so that systemd restarts it and says so.
/// </summary>
internal sealed partial class AgentService(
    AgentOptions options, ConfigFile config, ILoggerFactory loggers, AgentOutcome outcome, IHostApplicationLifetime lifetime,
    IServiceProvider services) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await RunAgentAsync(stoppingToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException && e is not LoopFailedException)
        {
            LogFailed(loggers.CreateLogger<AgentService>(), e.GetType().Name, e.Message);
            outcome.ExitCode = 1;
            lifetime.StopApplication();
        }
    }

    private async Task RunAgentAsync(CancellationToken stoppingToken)
    {
        await using var runtime = new AgentRuntime(options, loggers, configPath: config.Path);
        // Registered by AddSystemd only when systemd started us.
        if (services.GetService<ISystemdNotifier>() is { IsEnabled: true } notifier)
            runtime.WatchdogPing = () => notifier.Notify(new ServiceState("WATCHDOG=1"));
        outcome.Configure?.Invoke(runtime);
        try
        {
            await runtime.RunAsync(stoppingToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        catch (LoopFailedException)
        {
            // Already logged, once, by the runtime. Not rethrown: the host would log it again with a stack trace.
            outcome.ExitCode = 1;
            lifetime.StopApplication();
        }
    }

    [LoggerMessage(Level = LogLevel.Critical, Message = "Agent stopped: {Error}: {Reason}")]
    private static partial void LogFailed(ILogger logger, string error, string reason);
}

/// <summary>The configuration file the agent was started with (null: none), for the local page's setup.</summary>
internal sealed record ConfigFile(string? Path);
