using System.CommandLine;
using System.Text.Json;
using EdgeMeter.Crypto.Keys;

namespace EdgeMeter.Agent.Cli;

/// <summary><c>edgemeter keys show [--json] [--data DIR]</c>.</summary>
internal static class KeysCommand
{
    /// <summary>The key file's name inside the data directory.</summary>
    public const string KeyFileName = "device.key";

    public static Command Create()
    {
        var keys = new Command("keys", "Show the device identity (address and public key).");
        var show = new Command("show", "Print the device address and public key of the key in the data directory (never creates one). Never prints the private key.");
        var json = CliOutput.JsonOption();
        var data = DataOption();
        show.Options.Add(json);
        show.Options.Add(data);
        show.SetAction((ParseResult pr, CancellationToken ct) =>
        {
            string path = Path.Combine(ResolveDataDirectory(pr.GetValue(data)), KeyFileName);
            FileDeviceKey key;
            try
            {
                // Never LoadOrCreate: a reader that made a key would give the gateway a second identity.
                key = FileDeviceKey.Load(path);
            }
            catch (KeyFileException e)
            {
                // Returned, not thrown: System.CommandLine's default handler would print a stack trace.
                return Task.FromResult(CliOutput.Fail(e.Message, e.Error == KeyFileError.Io ? ExitCodes.Failure : ExitCodes.BadInput));
            }
            using (key)
                Write(key, pr.GetValue(json));
            return Task.FromResult(ExitCodes.Ok);
        });
        keys.Subcommands.Add(show);
        return keys;
    }

    /// <summary>The <c>--data DIR</c> option shared by commands that touch the data directory.</summary>
    public static Option<string?> DataOption() =>
        new("--data") { Description = "Data directory (default: $EDGEMETER_DATA or /var/lib/edgemeter)." };

    /// <summary>The data directory: the option, else EDGEMETER_DATA, else /var/lib/edgemeter.</summary>
    public static string ResolveDataDirectory(string? option) =>
        !string.IsNullOrEmpty(option) ? option
        : Environment.GetEnvironmentVariable("EDGEMETER_DATA") is { Length: > 0 } env ? env
        : "/var/lib/edgemeter";

    private static void Write(IDeviceKey key, bool json)
    {
        string publicKey = "0x" + Convert.ToHexStringLower(key.PublicKey.Span);
        if (json)
        {
            using var stdout = Console.OpenStandardOutput();
            using (var writer = new Utf8JsonWriter(stdout, new JsonWriterOptions { Indented = true }))
            {
                writer.WriteStartObject();
                writer.WriteString("address", key.Address);
                writer.WriteString("publicKey", publicKey);
                writer.WriteString("curve", "secp256k1");
                writer.WriteEndObject();
            }
            stdout.Write("\n"u8);
            return;
        }
        Console.Out.WriteLine($"address:    {key.Address}");
        Console.Out.WriteLine($"public key: {publicKey}");
    }
}
