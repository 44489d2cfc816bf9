using EdgeMeter.Agent.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace EdgeMeter.Agent.Hosting;

/// <summary>
/// <c>edgemeter run</c>: the agent under the generic host with systemd integration (Type=notify readiness,
/// stop on SIGTERM, journald-formatted logs when started by systemd).
/// </summary>
internal static class AgentHost
{
    /// <param name="options">The validated options.</param>
    /// <param name="ct">Stops the host.</param>
    /// <param name="configPath">The file the options came from; the local page's setup writes to it.</param>
    public static async Task<int> RunAsync(AgentOptions options, CancellationToken ct, string? configPath = null)
    {
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Services.AddSystemd();
        builder.Logging.SetMinimumLevel(LogLevel.Information);
        builder.Logging.AddFilter("MQTTnet", LogLevel.Warning);
        builder.Logging.AddSimpleConsole(o => o.SingleLine = true);
        builder.Services.AddSingleton(options);
        builder.Services.AddSingleton(new ConfigFile(configPath));
        builder.Services.AddHostedService<AgentService>();
        using var host = builder.Build();
        await host.RunAsync(ct).ConfigureAwait(false);
        return 0;
    }
}

/// <summary>Runs <see cref="AgentRuntime"/> for the host's lifetime.</summary>
internal sealed class AgentService(AgentOptions options, ConfigFile config, ILoggerFactory loggers) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await using var runtime = new AgentRuntime(options, loggers, configPath: config.Path);
        try
        {
            await runtime.RunAsync(stoppingToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }
}

/// <summary>The configuration file the agent was started with (null: none), for the local page's setup.</summary>
internal sealed record ConfigFile(string? Path);
