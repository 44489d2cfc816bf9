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
    public static async Task<int> RunAsync(AgentOptions options, CancellationToken ct)
    {
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Services.AddSystemd();
        builder.Logging.SetMinimumLevel(LogLevel.Information);
        builder.Logging.AddFilter("MQTTnet", LogLevel.Warning);
        builder.Logging.AddSimpleConsole(o => o.SingleLine = true);
        builder.Services.AddSingleton(options);
        builder.Services.AddHostedService<AgentService>();
        using var host = builder.Build();
        await host.RunAsync(ct).ConfigureAwait(false);
        return 0;
    }
}

/// <summary>Runs <see cref="AgentRuntime"/> for the host's lifetime.</summary>
internal sealed class AgentService(AgentOptions options, ILoggerFactory loggers) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await using var runtime = new AgentRuntime(options, loggers);
        try
        {
            await runtime.RunAsync(stoppingToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }
}
