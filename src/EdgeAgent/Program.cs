using EdgeMeter.Agent.Cli;

return await CliApp.RunAsync(args).ConfigureAwait(false);
