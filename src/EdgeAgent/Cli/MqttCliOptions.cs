using System.CommandLine;
using EdgeMeter.Agent.Configuration;

namespace EdgeMeter.Agent.Cli;

/// <summary>The broker options shared by <c>demo</c> and <c>ledger</c>.</summary>
internal sealed class MqttCliOptions
{
    public Option<string?> Broker { get; } = new("--broker") { Description = "MQTT broker URL: mqtt://host:1883 or mqtts://host:8883." };
    public Option<string?> Username { get; } = new("--username") { Description = "Broker user name." };
    public Option<string?> Password { get; } = new("--password") { Description = "Broker password." };
    public Option<string?> Ca { get; } = new("--ca") { Description = "CA certificate (PEM) the broker's certificate must chain to." };
    public Option<string?> Cert { get; } = new("--cert") { Description = "Client certificate (PEM) for mutual TLS." };
    public Option<string?> Key { get; } = new("--key") { Description = "Client private key (PEM) for mutual TLS." };

    public void AddTo(Command command)
    {
        command.Options.Add(Broker);
        command.Options.Add(Username);
        command.Options.Add(Password);
        command.Options.Add(Ca);
        command.Options.Add(Cert);
        command.Options.Add(Key);
    }

    /// <summary>The options, validated like a config file's <c>mqtt</c> section; null when no broker was given.</summary>
    public MqttOptions? Read(ParseResult result)
    {
        var broker = result.GetValue(Broker);
        if (string.IsNullOrEmpty(broker))
            return null;
        var options = new MqttOptions
        {
            Broker = broker,
            Username = result.GetValue(Username),
            Password = result.GetValue(Password),
            CaFile = result.GetValue(Ca),
            CertFile = result.GetValue(Cert),
            KeyFile = result.GetValue(Key),
        };
        var errors = AgentOptionsValidator.Validate(new AgentOptions { Mqtt = options }, requireMeters: false);
        if (errors.Count > 0)
        {
            var e = errors[0];
            var flag = e.Key switch
            {
                "mqtt.broker" => "--broker",
                "mqtt.caFile" => "--ca",
                "mqtt.certFile" => "--cert",
                "mqtt.keyFile" => "--key",
                _ => e.Key,
            };
            throw new CliException($"{flag}: {e.Reason}", ExitCodes.BadInput);
        }
        return options;
    }
}
