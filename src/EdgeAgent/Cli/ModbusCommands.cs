using System.CommandLine;
using System.Globalization;
using System.Net.Sockets;
using System.Text.Json;
using EdgeMeter.Protocols.Modbus;

namespace EdgeMeter.Agent.Cli;

/// <summary><c>edgemeter read modbus</c> and <c>edgemeter scan modbus</c>.</summary>
internal static class ModbusCommands
{
    private const string EndpointHelp = "tcp://HOST:PORT | rtu+tcp://HOST:PORT | serial:///dev/ttyUSB0?baud=9600&parity=N&stop=1";

    public static Command CreateRead()
    {
        var read = new Command("read", "Read a meter and print every quantity of its register map.");
        read.Subcommands.Add(CreateReadModbus());
        read.Subcommands.Add(DlmsCommands.CreateRead());
        return read;
    }

    public static Command CreateScan()
    {
        var scan = new Command("scan", "Scan a bus for units that answer and the map that fits.");
        scan.Subcommands.Add(CreateScanModbus());
        return scan;
    }

    private static Command CreateReadModbus()
    {
        var endpoint = new Option<string>("--endpoint") { Description = EndpointHelp };
        var unit = new Option<string>("--unit") { Description = "Unit (slave) id, 0..247." };
        var map = new Option<string>("--map") { Description = $"Register map: a built-in name ({string.Join(", ", RegisterMapCatalog.BuiltinNames)}) or a JSON file." };
        var timeout = new Option<string>("--timeout") { Description = "Response timeout in milliseconds (default 1000)." };
        var json = CliOutput.JsonOption();
        var cmd = new Command("modbus", "Read every quantity of a Modbus meter's register map.");
        cmd.Options.Add(endpoint);
        cmd.Options.Add(unit);
        cmd.Options.Add(map);
        cmd.Options.Add(timeout);
        cmd.Options.Add(json);
        cmd.SetAction(Guarded(async (ParseResult pr, CancellationToken ct) =>
        {
            var ep = ParseEndpoint(pr.GetValue(endpoint));
            byte unitId = ParseUnit(pr.GetValue(unit));
            var registerMap = LoadMap(pr.GetValue(map));
            var options = new ModbusClientOptions { Timeout = ParseTimeout(pr.GetValue(timeout), 1000), MaxRetries = 1 };
            IReadOnlyList<QuantityReading> readings = await RunModbusAsync(ep, options, async client =>
                await new MeterReader(client, unitId, registerMap).ReadAsync(ct).ConfigureAwait(false), ct).ConfigureAwait(false);
            if (pr.GetValue(json))
            {
                WriteJson(readings);
            }
            else
            {
                int width = readings.Max(r => r.Quantity.Length);
                foreach (var r in readings)
                {
                    Console.Out.WriteLine($"{r.Quantity.PadRight(width)}  {r.FormatValue()}{(r.Unit.Length > 0 ? " " + r.Unit : "")}");
                }
            }

            return ExitCodes.Ok;
        }));
        return cmd;
    }

    private static Command CreateScanModbus()
    {
        var endpoint = new Option<string>("--endpoint") { Description = EndpointHelp };
        var units = new Option<string>("--units") { Description = "Unit ids to try, e.g. 1-247 or 1,2,10-20 (default 1-247)." };
        var timeout = new Option<string>("--timeout") { Description = "Per-request timeout in milliseconds (default 200)." };
        var mapsDir = new Option<string>("--maps-dir") { Description = "Directory of extra register maps (*.json) to try besides the built-in ones." };
        var json = CliOutput.JsonOption();
        var cmd = new Command("modbus", "List the units on a Modbus bus that answer and the register map that fits each.");
        cmd.Options.Add(endpoint);
        cmd.Options.Add(units);
        cmd.Options.Add(timeout);
        cmd.Options.Add(mapsDir);
        cmd.Options.Add(json);
        cmd.SetAction(Guarded(async (ParseResult pr, CancellationToken ct) =>
        {
            var ep = ParseEndpoint(pr.GetValue(endpoint));
            var unitIds = ParseUnits(pr.GetValue(units) ?? "1-247");
            var perRequest = ParseTimeout(pr.GetValue(timeout), 200);
            var candidates = new List<RegisterMap>();
            try
            {
                candidates.AddRange(RegisterMapCatalog.BuiltinNames.Select(RegisterMapCatalog.LoadBuiltin));
                if (pr.GetValue(mapsDir) is { } dir)
                {
                    candidates.AddRange(RegisterMapCatalog.LoadDirectory(dir).Values);
                }
            }
            catch (Exception e) when (e is RegisterMapException or IOException or UnauthorizedAccessException)
            {
                throw new CliException(e.Message, ExitCodes.BadInput);
            }

            var found = await RunModbusAsync(ep, new ModbusClientOptions { Timeout = perRequest, MaxRetries = 0 }, async client =>
            {
                var list = new List<ModbusScanResult>();
                foreach (byte u in unitIds)
                {
                    if (await ModbusScanner.ScanUnitAsync(client, u, candidates, perRequest, ct).ConfigureAwait(false) is { } result)
                    {
                        list.Add(result);
                        if (!pr.GetValue(json))
                        {
                            Console.Out.WriteLine(FormatScan(result));
                        }
                    }
                }

                return list;
            }, ct).ConfigureAwait(false);

            if (pr.GetValue(json))
            {
                WriteScanJson(found);
            }
            else if (found.Count == 0)
            {
                Console.Out.WriteLine("no unit answered");
            }

            return ExitCodes.Ok;
        }));
        return cmd;
    }

    // System.CommandLine's invocation catches handler exceptions and prints a stack trace; keep the one-line convention here.
    private static Func<ParseResult, CancellationToken, Task<int>> Guarded(Func<ParseResult, CancellationToken, Task<int>> action) =>
        async (pr, ct) =>
        {
            try
            {
                return await action(pr, ct).ConfigureAwait(false);
            }
            catch (CliException e)
            {
                return CliOutput.Fail(e.Message, e.ExitCode);
            }
        };

    private static string FormatScan(ModbusScanResult r)
    {
        string id = r.Identification is { } i ? $"  [{i.VendorName} {i.ProductCode} {i.Revision}]".TrimEnd() : "";
        string map = r.Map?.Name ?? "(no shipped map fits)";
        return string.Create(CultureInfo.InvariantCulture, $"unit {r.Unit,3}  {map}{id}");
    }

    // Every Modbus failure becomes one line on stderr with a non-zero exit.
    private static async Task<T> RunModbusAsync<T>(ModbusEndpoint endpoint, ModbusClientOptions options, Func<ModbusClient, Task<T>> work, CancellationToken ct)
    {
        try
        {
            await using var client = await ModbusClient.ConnectAsync(endpoint, options, ct).ConfigureAwait(false);
            return await work(client).ConfigureAwait(false);
        }
        catch (TimeoutException e)
        {
            throw new CliException($"{endpoint}: {e.Message}");
        }
        catch (ModbusException e)
        {
            throw new CliException($"{endpoint}: {e.Message}");
        }
        catch (ModbusFrameException e)
        {
            throw new CliException($"{endpoint}: bad response: {e.Message}");
        }
        catch (RegisterValueException e)
        {
            throw new CliException($"{endpoint}: {e.Message}");
        }
        catch (SocketException e)
        {
            throw new CliException($"{endpoint}: {e.Message}");
        }
        catch (IOException e)
        {
            throw new CliException($"{endpoint}: {e.Message}");
        }
        catch (UnauthorizedAccessException e)
        {
            throw new CliException($"{endpoint}: {e.Message}");
        }
    }

    private static ModbusEndpoint ParseEndpoint(string? text)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            throw new CliException($"--endpoint is required ({EndpointHelp})", ExitCodes.BadInput);
        }

        try
        {
            return ModbusEndpoint.Parse(text);
        }
        catch (FormatException e)
        {
            throw new CliException(e.Message, ExitCodes.BadInput);
        }
    }

    private static byte ParseUnit(string? text)
    {
        if (text is null)
        {
            throw new CliException("--unit is required (0..247)", ExitCodes.BadInput);
        }

        return byte.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out byte unit) && unit <= 247
            ? unit
            : throw new CliException($"--unit '{text}' is not a unit id 0..247", ExitCodes.BadInput);
    }

    internal static List<byte> ParseUnits(string text)
    {
        var units = new List<byte>();
        foreach (string part in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            int dash = part.IndexOf('-', StringComparison.Ordinal);
            string a = dash < 0 ? part : part[..dash];
            string b = dash < 0 ? part : part[(dash + 1)..];
            if (!byte.TryParse(a, NumberStyles.None, CultureInfo.InvariantCulture, out byte from) || !byte.TryParse(b, NumberStyles.None, CultureInfo.InvariantCulture, out byte to)
                || from < 1 || to > 247 || from > to)
            {
                throw new CliException($"--units '{text}': '{part}' is not a unit or range within 1..247", ExitCodes.BadInput);
            }

            for (int u = from; u <= to; u++)
            {
                if (!units.Contains((byte)u))
                {
                    units.Add((byte)u);
                }
            }
        }

        return units.Count > 0 ? units : throw new CliException("--units is empty", ExitCodes.BadInput);
    }

    private static TimeSpan ParseTimeout(string? text, int defaultMs)
    {
        if (text is null)
        {
            return TimeSpan.FromMilliseconds(defaultMs);
        }

        return int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int ms) && ms is >= 1 and <= 60_000
            ? TimeSpan.FromMilliseconds(ms)
            : throw new CliException($"--timeout '{text}' is not a number of milliseconds 1..60000", ExitCodes.BadInput);
    }

    private static RegisterMap LoadMap(string? nameOrPath)
    {
        if (string.IsNullOrWhiteSpace(nameOrPath))
        {
            throw new CliException($"--map is required ({string.Join(", ", RegisterMapCatalog.BuiltinNames)}, or a JSON file)", ExitCodes.BadInput);
        }

        try
        {
            return RegisterMapCatalog.Resolve(nameOrPath);
        }
        catch (RegisterMapException e)
        {
            throw new CliException(e.Message, ExitCodes.BadInput);
        }
        catch (KeyNotFoundException e)
        {
            throw new CliException(e.Message, ExitCodes.BadInput);
        }
    }

    private static void WriteJson(IReadOnlyList<QuantityReading> readings)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            writer.WriteStartObject();
            foreach (var r in readings)
            {
                writer.WriteStartObject(r.Quantity);
                // Raw so the number keeps exactly the recorded decimal places (230.0 stays 230.0).
                writer.WritePropertyName("value");
                writer.WriteRawValue(r.FormatValue());
                writer.WriteString("unit", r.Unit);
                writer.WriteEndObject();
            }

            writer.WriteEndObject();
        }

        // Through Console.Out, not the raw stdout stream, so redirection and in-process callers see it.
        Console.Out.WriteLine(System.Text.Encoding.UTF8.GetString(buffer.WrittenSpan));
    }

    private static void WriteScanJson(IReadOnlyList<ModbusScanResult> found)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            writer.WriteStartArray();
            foreach (var r in found)
            {
                writer.WriteStartObject();
                writer.WriteNumber("unit", r.Unit);
                if (r.Map is null)
                {
                    writer.WriteNull("map");
                }
                else
                {
                    writer.WriteString("map", r.Map.Name);
                }

                writer.WriteStartArray("fits");
                foreach (var m in r.FittingMaps)
                {
                    writer.WriteStringValue(m.Name);
                }

                writer.WriteEndArray();
                if (r.Identification is { } id)
                {
                    writer.WriteStartObject("identification");
                    writer.WriteString("vendor", id.VendorName);
                    writer.WriteString("product", id.ProductCode);
                    writer.WriteString("revision", id.Revision);
                    writer.WriteEndObject();
                }

                writer.WriteEndObject();
            }

            writer.WriteEndArray();
        }

        // Through Console.Out, not the raw stdout stream, so redirection and in-process callers see it.
        Console.Out.WriteLine(System.Text.Encoding.UTF8.GetString(buffer.WrittenSpan));
    }
}
