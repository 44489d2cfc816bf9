using Microsoft.Extensions.Configuration;

namespace EdgeMeter.Agent.Configuration;

/// <summary>A configuration that cannot be used; the message is one line naming the key.</summary>
internal sealed class ConfigException(string message) : Exception(message);

/// <summary>Reads the JSON file and the <c>EDGEMETER_</c> environment, binds and validates.</summary>
internal static class ConfigLoader
{
    public const string DefaultPath = "/etc/edgemeter/edgemeter.json";
    public const string EnvironmentPrefix = "EDGEMETER_";

    /// <summary>Builds the configuration: the file (required when <paramref name="path"/> was given or exists) then the environment.</summary>
    public static IConfigurationRoot Build(string? path, IDictionary<string, string?>? overrides = null)
    {
        var file = path ?? DefaultPath;
        if (!File.Exists(file))
        {
            throw new ConfigException($"{file}: configuration file not found");
        }

        var builder = new ConfigurationBuilder()
            .AddJsonFile(Path.GetFullPath(file), optional: false, reloadOnChange: false)
            .AddEnvironmentVariables(EnvironmentPrefix);
        if (overrides is not null)
            builder.AddInMemoryCollection(overrides);
        try
        {
            return builder.Build();
        }
        catch (InvalidDataException e)
        {
            // The JSON provider names the file and the broken line.
            throw new ConfigException($"{file}: {OneLine(e.InnerException?.Message ?? e.Message)}");
        }
    }

    /// <summary>Like <see cref="Build"/> for a configuration about to be written by setup: these bytes, then the environment.</summary>
    public static IConfigurationRoot BuildFromJson(byte[] json)
    {
        try
        {
            return new ConfigurationBuilder()
                .AddJsonStream(new MemoryStream(json, writable: false))
                .AddEnvironmentVariables(EnvironmentPrefix)
                .Build();
        }
        catch (InvalidDataException e)
        {
            throw new ConfigException($"configuration: {OneLine(e.InnerException?.Message ?? e.Message)}");
        }
    }

    /// <summary>Binds and validates; throws <see cref="ConfigException"/> with the first problem.</summary>
    public static AgentOptions Load(
        IConfiguration configuration,
        string sourceName,
        bool requireMeters,
        Func<string, string?>? checkEndpoint = null,
        Func<string, string?>? checkMap = null)
    {
        var options = new AgentOptions();
        try
        {
            configuration.Bind(options, b => b.ErrorOnUnknownConfiguration = true);
        }
        catch (InvalidOperationException e)
        {
            throw new ConfigException($"{sourceName}: {DescribeBindError(e)}");
        }

        var errors = AgentOptionsValidator.Validate(options, requireMeters, checkEndpoint, checkMap);
        if (errors.Count > 0)
            throw new ConfigException($"{sourceName}: {errors[0]}");
        return options;
    }

    // The binder says "Failed to convert configuration value '-x' at 'Meters:0:Unit' to type 'System.Int32'." or
    // "'Foo' was not found on type ..."; turn the key path into the JSON form the user wrote.
    private static string DescribeBindError(InvalidOperationException e)
    {
        var message = OneLine(e.Message);
        const string unknownMarker = "were not found on the instance of ";
        var unknown = message.IndexOf(unknownMarker, StringComparison.Ordinal);
        if (unknown >= 0)
        {
            // "... not found on the instance of EdgeMeter.Agent.Configuration.MqttOptions: 'brokr'"
            var rest = message[(unknown + unknownMarker.Length)..];
            var colon = rest.IndexOf(':', StringComparison.Ordinal);
            var typeName = colon > 0 ? rest[..colon] : rest;
            var keys = colon > 0 ? rest[(colon + 1)..].Trim().Trim('\'') : "?";
            var section = typeName[(typeName.LastIndexOf('.') + 1)..] switch
            {
                nameof(MqttOptions) => "mqtt.",
                nameof(MeterOptions) => "meters[].",
                nameof(HttpOptions) => "http.",
                nameof(DisplayOptions) => "display.",
                nameof(BackpackPinOptions) => "display.pins.",
                nameof(ButtonOptions) => "button.",
                nameof(RtcOptions) => "rtc.",
                nameof(StorageOptions) => "storage.",
                _ => "",
            };
            return $"{section}{keys}: unknown key (misspelt?)";
        }
        var at = message.IndexOf(" at '", StringComparison.Ordinal);
        if (at >= 0)
        {
            var end = message.IndexOf('\'', at + 5);
            if (end > at)
            {
                var key = ToJsonKey(message[(at + 5)..end]);
                var valueStart = message.IndexOf("value '", StringComparison.Ordinal);
                var value = valueStart >= 0 ? message[(valueStart + 7)..message.IndexOf('\'', valueStart + 7)] : "";
                var type = message.Contains("System.Int", StringComparison.Ordinal) || message.Contains("System.UInt", StringComparison.Ordinal) ? "a whole number"
                    : message.Contains("System.Double", StringComparison.Ordinal) ? "a number"
                    : message.Contains("System.Boolean", StringComparison.Ordinal) ? "true or false"
                    : message.Contains("EnergySource", StringComparison.Ordinal) ? "one of GridImport, GridExport, Pv, Battery, Wind, Chp, Heat, Other"
                    : "a valid value";
                return $"{key}: must be {type} (got '{value}')";
            }
        }
        return message;
    }

    private static string ToJsonKey(string configKey)
    {
        var parts = configKey.Split(':');
        var result = new System.Text.StringBuilder();
        foreach (var p in parts)
        {
            if (p.Length > 0 && char.IsAsciiDigit(p[0]))
            {
                result.Append('[').Append(p).Append(']');
                continue;
            }
            if (result.Length > 0)
                result.Append('.');
            result.Append(char.ToLowerInvariant(p[0])).Append(p.AsSpan(1));
        }
        return result.ToString();
    }

    private static string OneLine(string s) => s.ReplaceLineEndings(" ").Trim();
}
