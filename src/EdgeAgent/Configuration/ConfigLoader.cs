namespace EdgeMeter.Agent.Configuration;

/// <summary>A configuration that cannot be used; the message is one line naming the key.</summary>
internal sealed class ConfigException(string message) : Exception(message);

/// <summary>Reads the JSON file and the <c>EDGEMETER_</c> environment, binds and validates.</summary>
internal static class ConfigLoader
{
    public const string DefaultPath = "/etc/edgemeter/edgemeter.json";
    public const string EnvironmentPrefix = "EDGEMETER_";

    /// <summary>The values of the file (which must exist), then the environment, then <paramref name="overrides"/> (tests).</summary>
    public static ConfigValues Build(string? path, IDictionary<string, string?>? overrides = null)
    {
        var file = path ?? DefaultPath;
        if (!File.Exists(file))
        {
            throw new ConfigException($"{file}: configuration file not found");
        }

        var values = new ConfigValues();
        try
        {
            values.AddJson(File.ReadAllBytes(file));
        }
        catch (ConfigException e)
        {
            throw new ConfigException($"{file}: {e.Message}");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ConfigException($"{file}: cannot be read: {OneLine(e.Message)}");
        }

        values.AddEnvironment(EnvironmentPrefix);
        if (overrides is not null)
        {
            foreach (var (key, value) in overrides)
                values.Set(key, value);
        }
        return values;
    }

    /// <summary>Like <see cref="Build"/> for a configuration about to be written by setup: these bytes, then the environment.</summary>
    public static ConfigValues BuildFromJson(byte[] json)
    {
        var values = new ConfigValues();
        try
        {
            values.AddJson(json);
        }
        catch (ConfigException e)
        {
            throw new ConfigException($"configuration: {e.Message}");
        }

        values.AddEnvironment(EnvironmentPrefix);
        return values;
    }

    /// <summary>Binds and validates; throws <see cref="ConfigException"/> with the first problem.</summary>
    public static AgentOptions Load(
        ConfigValues configuration,
        string sourceName,
        bool requireMeters,
        Func<string, string?>? checkEndpoint = null,
        Func<string, string?>? checkMap = null)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        AgentOptions options;
        try
        {
            options = ConfigBinder.Bind(configuration.Root());
        }
        catch (ConfigBinder.BindException e)
        {
            throw new ConfigException($"{sourceName}: {e.Message}");
        }

        var errors = AgentOptionsValidator.Validate(options, requireMeters, checkEndpoint, checkMap);
        if (errors.Count > 0)
            throw new ConfigException($"{sourceName}: {errors[0]}");
        return options;
    }

    private static string OneLine(string s) => s.ReplaceLineEndings(" ").Trim();
}
