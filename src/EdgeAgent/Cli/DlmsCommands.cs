using EdgeMeter.Crypto.Entropy;
using System.CommandLine;
using System.Globalization;
using System.Net.Sockets;
using System.Text.Json;
using EdgeMeter.Agent.Storage;
using EdgeMeter.Protocols.Dlms;

namespace EdgeMeter.Agent.Cli;

/// <summary><c>edgemeter read dlms</c>: registers, clock and a load profile from a DLMS/COSEM meter.</summary>
internal static class DlmsCommands
{
    private const string EndpointHelp = "tcp://HOST:PORT | serial:///dev/ttyUSB0?baud=9600";

    public static Command CreateRead()
    {
        var endpoint = new Option<string>("--endpoint") { Description = EndpointHelp };
        var transport = new Option<string>("--transport") { Description = "wrapper | hdlc (default: wrapper on tcp://, hdlc on serial://)." };
        var client = new Option<string>("--client") { Description = "Client address (default 16, the public client)." };
        var server = new Option<string>("--server") { Description = "Server address: logical device (default 1), or LOGICAL/PHYSICAL for HDLC." };
        var auth = new Option<string>("--auth") { Description = "none | low | hls-gmac (default none)." };
        var password = new Option<string>("--password") { Description = "LLS password (--auth low)." };
        var blockKey = new Option<string>("--block-key") { Description = "Block cipher key EK, 32 hex digits (--auth hls-gmac)." };
        var authKey = new Option<string>("--auth-key") { Description = "Authentication key AK, 32 hex digits (--auth hls-gmac)." };
        var systemTitle = new Option<string>("--system-title") { Description = "Our system title, 16 hex digits (--auth hls-gmac)." };
        var counterFile = new Option<string>("--counter-file") { Description = "Invocation counter file (--auth hls-gmac; default in the user's state directory)." };
        var obis = new Option<string[]>("--obis") { Description = "OBIS[:ATTR] to read, e.g. 1.0.1.8.0.255 (repeatable). Registers print scaled with their unit." };
        var profile = new Option<string>("--profile") { Description = "Load profile OBIS, e.g. 1.0.99.1.0.255, with --from/--to or --last." };
        var from = new Option<string>("--from") { Description = "Profile range start (ISO-8601, UTC unless an offset is given), inclusive." };
        var to = new Option<string>("--to") { Description = "Profile range end, inclusive." };
        var last = new Option<string>("--last") { Description = "The last N profile entries." };
        var timeout = new Option<string>("--timeout") { Description = "Response timeout in milliseconds (default 10000; some meters take 3 s)." };
        var json = CliOutput.JsonOption();
        var cmd = new Command("dlms", "Read registers, the clock and a load profile from a DLMS/COSEM meter.");
        foreach (var option in new Option[] { endpoint, transport, client, server, auth, password, blockKey, authKey, systemTitle, counterFile, obis, profile, from, to, last, timeout, json })
        {
            cmd.Options.Add(option);
        }

        cmd.SetAction(async (ParseResult pr, CancellationToken ct) =>
        {
            try
            {
                var request = new ReadRequest
                {
                    Endpoint = ParseEndpoint(pr.GetValue(endpoint)),
                    Framing = null,
                    Objects = [.. (pr.GetValue(obis) ?? []).Select(ParseObis)],
                    Timeout = ParseTimeout(pr.GetValue(timeout)),
                };
                request = request with
                {
                    Framing = pr.GetValue(transport) switch
                    {
                        null => request.Endpoint.IsSerial ? DlmsFraming.Hdlc : DlmsFraming.Wrapper,
                        "wrapper" => DlmsFraming.Wrapper,
                        "hdlc" => DlmsFraming.Hdlc,
                        var t => throw new CliException($"--transport '{t}' is not wrapper or hdlc", ExitCodes.BadInput),
                    },
                    Settings = ParseSettings(pr.GetValue(client), pr.GetValue(auth), pr.GetValue(password), pr.GetValue(blockKey), pr.GetValue(authKey), pr.GetValue(systemTitle)),
                    Server = ParseServer(pr.GetValue(server)),
                    Profile = ParseProfile(pr.GetValue(profile), pr.GetValue(from), pr.GetValue(to), pr.GetValue(last)),
                };
                if (request.Objects.Count == 0 && request.Profile is null)
                {
                    throw new CliException("give at least one --obis or a --profile", ExitCodes.BadInput);
                }

                DlmsCounterFile? counters = null;
                if (request.Settings.Authentication == DlmsAuthentication.HlsGmac)
                {
                    string path = pr.GetValue(counterFile) ?? DefaultCounterFile(request.Settings.ClientSystemTitle!, request.Endpoint, request.Server.Upper);
                    counters = OpenCounters(path);
                    request = request with { Settings = request.Settings with { InvocationCounters = counters, LastServerInvocationCounter = counters.LastServerCounter } };
                }

                var result = await ReadAsync(request, counters, ct).ConfigureAwait(false);
                if (pr.GetValue(json))
                {
                    WriteJson(result);
                }
                else
                {
                    WriteText(result);
                }

                return ExitCodes.Ok;
            }
            catch (CliException e)
            {
                return CliOutput.Fail(e.Message, e.ExitCode);
            }
        });
        return cmd;
    }

    public static Command CreateScan()
    {
        var endpoint = new Option<string>("--endpoint") { Description = EndpointHelp };
        var addresses = new Option<string>("--addresses") { Description = "Physical HDLC addresses to try, e.g. 1-100 or 16,17 (default 1-127)." };
        var client = new Option<string>("--client") { Description = "Client address (default 16)." };
        var timeout = new Option<string>("--timeout") { Description = "Per-address wait for UA in milliseconds (default 1000)." };
        var json = CliOutput.JsonOption();
        var cmd = new Command("dlms", "List the HDLC server addresses that answer on a DLMS bus.");
        foreach (var option in new Option[] { endpoint, addresses, client, timeout, json })
        {
            cmd.Options.Add(option);
        }

        cmd.SetAction(async (ParseResult pr, CancellationToken ct) =>
        {
            try
            {
                var ep = ParseEndpoint(pr.GetValue(endpoint));
                var settings = ParseSettings(pr.GetValue(client), null, null, null, null, null);
                var wait = pr.GetValue(timeout) is { } t ? ParseTimeout(t) : TimeSpan.FromSeconds(1);
                List<ushort> physical = [.. ParseAddresses(pr.GetValue(addresses) ?? "1-127")];
                IReadOnlyList<HdlcAddress> found;
                try
                {
                    await using var channel = await ep.OpenChannelAsync(TimeSpan.FromSeconds(10), ct).ConfigureAwait(false);
                    found = await DlmsScanner.ScanAsync(channel, (byte)settings.ClientAddress, 1, physical, wait, ct).ConfigureAwait(false);
                }
                catch (Exception e) when (e is TimeoutException or SocketException or IOException or UnauthorizedAccessException)
                {
                    throw new CliException($"{ep}: {e.Message}");
                }

                if (pr.GetValue(json))
                {
                    Console.Out.WriteLine("[" + string.Join(",", found.Select(a => string.Create(CultureInfo.InvariantCulture, $"{{\"logical\":{a.Upper},\"physical\":{a.Lower}}}"))) + "]");
                }
                else
                {
                    foreach (var a in found)
                    {
                        Console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"server {a.Upper}/{a.Lower}"));
                    }

                    if (found.Count == 0)
                    {
                        Console.Out.WriteLine("no server answered");
                    }
                }

                return ExitCodes.Ok;
            }
            catch (CliException e)
            {
                return CliOutput.Fail(e.Message, e.ExitCode);
            }
        });
        return cmd;
    }

    private static IEnumerable<ushort> ParseAddresses(string text)
    {
        var result = new SortedSet<ushort>();
        foreach (string part in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            string[] ends = part.Split('-');
            if (ends.Length is 1 or 2 && ushort.TryParse(ends[0], NumberStyles.None, CultureInfo.InvariantCulture, out ushort from) &&
                ushort.TryParse(ends[^1], NumberStyles.None, CultureInfo.InvariantCulture, out ushort to) && from <= to && to <= 0x3FFF)
            {
                for (int a = from; a <= to; a++)
                {
                    result.Add((ushort)a);
                }
            }
            else
            {
                throw new CliException($"--addresses '{text}': '{part}' is not an address or range within 0..16383", ExitCodes.BadInput);
            }
        }

        return result.Count > 0 ? result : throw new CliException("--addresses is empty", ExitCodes.BadInput);
    }

    private sealed record ReadRequest
    {
        public required DlmsEndpoint Endpoint { get; init; }
        public DlmsFraming? Framing { get; init; }
        public DlmsClientSettings Settings { get; init; } = new();
        public HdlcAddress Server { get; init; }
        public required IReadOnlyList<(ObisCode Obis, sbyte? Attribute)> Objects { get; init; }
        public ProfileRequest? Profile { get; init; }
        public TimeSpan Timeout { get; init; }
    }

    private sealed record ProfileRequest(ObisCode Obis, DateTimeOffset? From, DateTimeOffset? To, uint? Last);

    private sealed record ObjectResult(ObisCode Obis, sbyte Attribute, string Text, decimal? Number, string Unit);

    private sealed record ProfileResult(ObisCode Obis, IReadOnlyList<CaptureObject> Columns, IReadOnlyList<string> Units, IReadOnlyList<IReadOnlyList<(string Text, decimal? Number)>> Rows);

    private sealed record ReadResult(IReadOnlyList<ObjectResult> Objects, ProfileResult? Profile);

    private static async Task<ReadResult> ReadAsync(ReadRequest request, DlmsCounterFile? counters, CancellationToken ct)
    {
        var endpoint = request.Endpoint;
        DlmsClient? client = null;
        try
        {
            var channel = await endpoint.OpenChannelAsync(TimeSpan.FromSeconds(10), ct).ConfigureAwait(false);
            IDlmsTransport transport = request.Framing == DlmsFraming.Hdlc
                ? new HdlcTransport(channel, HdlcAddress.Client((byte)request.Settings.ClientAddress), request.Server, request.Timeout)
                : new DlmsWrapperTransport(channel, request.Settings.ClientAddress, request.Server.Upper, request.Timeout);
            client = new DlmsClient(transport, request.Settings);
            await client.ConnectAsync(ct).ConfigureAwait(false);

            var objects = new List<ObjectResult>();
            foreach (var (obis, attribute) in request.Objects)
            {
                objects.Add(await ReadObjectAsync(client, obis, attribute, ct).ConfigureAwait(false));
            }

            ProfileResult? profile = request.Profile is null ? null : await ReadProfileAsync(client, request.Profile, ct).ConfigureAwait(false);
            await client.ReleaseAsync(ct).ConfigureAwait(false);
            if (request.Framing == DlmsFraming.Hdlc)
            {
                await client.CloseAsync(ct).ConfigureAwait(false);
            }

            return new ReadResult(objects, profile);
        }
        catch (Exception e) when (e is DlmsException or TimeoutException or SocketException or IOException or UnauthorizedAccessException)
        {
            throw new CliException($"{endpoint}: {e.Message}");
        }
        finally
        {
            counters?.RecordServerCounter(client?.LastServerInvocationCounter);
            if (client is not null)
            {
                await client.DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    private static async Task<ObjectResult> ReadObjectAsync(DlmsClient client, ObisCode obis, sbyte? attribute, CancellationToken ct)
    {
        if (obis == ObisCode.Clock && attribute is null or 2)
        {
            var time = await client.ReadClockAsync(ct).ConfigureAwait(false);
            return new ObjectResult(obis, 2, time.ToString(), null, "");
        }

        // Registers are read as class 3 (value and scaler_unit); any other attribute is printed as it comes.
        if (attribute is null or 2)
        {
            var quantity = await client.ReadRegisterAsync(obis, ct).ConfigureAwait(false);
            return new ObjectResult(obis, 2, quantity.Value.ToString(CultureInfo.InvariantCulture), quantity.Value, DlmsUnits.Symbol(quantity.Unit));
        }

        var value = await client.GetAsync(new CosemAttribute(3, obis, attribute.Value), ct).ConfigureAwait(false);
        return new ObjectResult(obis, attribute.Value, value.ToString(), value.IsInteger ? value.ToDecimal() : null, "");
    }

    private static async Task<ProfileResult> ReadProfileAsync(DlmsClient client, ProfileRequest request, CancellationToken ct)
    {
        var columns = await client.ReadCaptureObjectsAsync(request.Obis, ct).ConfigureAwait(false);
        IReadOnlyList<ProfileRow> rows;
        if (request.Last is { } last)
        {
            uint entries = await client.ReadEntriesInUseAsync(request.Obis, ct).ConfigureAwait(false);
            rows = entries == 0 ? [] : await client.ReadProfileByEntryAsync(request.Obis, entries >= last ? entries - last + 1 : 1, entries, ct).ConfigureAwait(false);
        }
        else
        {
            var clock = columns.FirstOrDefault(c => c.ClassId == 8).LogicalName;
            rows = await client.ReadProfileByRangeAsync(request.Obis, CosemDateTime.FromUtc(request.From!.Value), CosemDateTime.FromUtc(request.To!.Value), ct,
                clock == default ? ObisCode.Clock : clock).ConfigureAwait(false);
        }

        // Register columns are scaled with their register's scaler_unit, read once per column.
        var scalers = new (sbyte Scaler, DlmsUnit Unit)?[columns.Count];
        for (int i = 0; i < columns.Count; i++)
        {
            if (columns[i].ClassId is 3 or 4 && columns[i].AttributeIndex == 2)
            {
                var scalerUnit = await client.GetAsync(new CosemAttribute(columns[i].ClassId, columns[i].LogicalName, 3), ct).ConfigureAwait(false);
                var q = DlmsClient.ToQuantity(DlmsValue.FromSigned(DlmsDataType.Long64, 0), scalerUnit);
                scalers[i] = (q.Scaler, q.Unit);
            }
        }

        var table = new List<IReadOnlyList<(string, decimal?)>>(rows.Count);
        foreach (var row in rows)
        {
            if (row.Values.Count != columns.Count)
            {
                throw new DlmsException($"profile row has {row.Values.Count} values for {columns.Count} capture objects");
            }

            var cells = new List<(string, decimal?)>(columns.Count);
            for (int i = 0; i < columns.Count; i++)
            {
                var v = row.Values[i];
                if (columns[i].ClassId == 8 && v.Type is DlmsDataType.OctetString or DlmsDataType.DateTime)
                {
                    cells.Add((CosemDateTime.From(v).ToString(), null));
                }
                else if (scalers[i] is { } s && v.Type != DlmsDataType.NullData)
                {
                    decimal scaled = new DlmsQuantity(v, s.Scaler, s.Unit).Value;
                    cells.Add((scaled.ToString(CultureInfo.InvariantCulture), scaled));
                }
                else
                {
                    cells.Add((v.ToString(), v.IsInteger ? v.ToDecimal() : null));
                }
            }

            table.Add(cells);
        }

        return new ProfileResult(request.Obis, columns, [.. scalers.Select(s => s is { } x ? DlmsUnits.Symbol(x.Unit) : "")], table);
    }

    private static void WriteText(ReadResult result)
    {
        foreach (var o in result.Objects)
        {
            string name = o.Attribute == 2 ? o.Obis.ToString() : $"{o.Obis}:{o.Attribute}";
            Console.Out.WriteLine(o.Unit.Length > 0 ? $"{name}  {o.Text} {o.Unit}" : $"{name}  {o.Text}");
        }

        if (result.Profile is { } p)
        {
            Console.Out.WriteLine($"{p.Obis}  {p.Rows.Count} rows");
            Console.Out.WriteLine("  " + string.Join("  ", p.Columns.Select((c, i) => p.Units[i].Length > 0 ? $"{c.LogicalName}:{c.AttributeIndex} [{p.Units[i]}]" : $"{c.LogicalName}:{c.AttributeIndex}")));
            foreach (var row in p.Rows)
            {
                Console.Out.WriteLine("  " + string.Join("  ", row.Select(c => c.Text)));
            }
        }
    }

    private static void WriteJson(ReadResult result)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            writer.WriteStartObject();
            foreach (var o in result.Objects)
            {
                writer.WriteStartObject(o.Attribute == 2 ? o.Obis.ToString() : $"{o.Obis}:{o.Attribute}");
                writer.WritePropertyName("value");
                WriteCell(writer, o.Text, o.Number);
                writer.WriteString("unit", o.Unit);
                writer.WriteEndObject();
            }

            if (result.Profile is { } p)
            {
                writer.WriteStartArray(p.Obis.ToString());
                foreach (var row in p.Rows)
                {
                    writer.WriteStartArray();
                    foreach (var (text, number) in row)
                    {
                        WriteCell(writer, text, number);
                    }

                    writer.WriteEndArray();
                }

                writer.WriteEndArray();
            }

            writer.WriteEndObject();
        }

        Console.Out.WriteLine(System.Text.Encoding.UTF8.GetString(buffer.WrittenSpan));
    }

    // Raw, so the number keeps exactly its decimal digits (3045.7, not 3045.6999…).
    private static void WriteCell(Utf8JsonWriter writer, string text, decimal? number)
    {
        if (number is { } n)
        {
            writer.WriteRawValue(n.ToString(CultureInfo.InvariantCulture));
        }
        else
        {
            writer.WriteStringValue(text);
        }
    }

    private static DlmsEndpoint ParseEndpoint(string? text)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            throw new CliException($"--endpoint is required ({EndpointHelp})", ExitCodes.BadInput);
        }

        try
        {
            return DlmsEndpoint.Parse(text);
        }
        catch (FormatException e)
        {
            throw new CliException($"--endpoint: {e.Message}", ExitCodes.BadInput);
        }
    }

    private static (ObisCode, sbyte?) ParseObis(string text)
    {
        int colon = text.LastIndexOf(':');
        string code = text;
        sbyte? attribute = null;

        // "1-0:1.8.0" has a colon of its own; an attribute suffix follows the six groups.
        if (colon > 0 && ObisCode.TryParse(text.AsSpan(0, colon), out _) && Separators(text.AsSpan(0, colon)) >= 4)
        {
            code = text[..colon];
            attribute = sbyte.TryParse(text[(colon + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out sbyte a) && a >= 1
                ? a
                : throw new CliException($"--obis '{text}': attribute '{text[(colon + 1)..]}' is not 1..127", ExitCodes.BadInput);
        }

        return ObisCode.TryParse(code, out var obis)
            ? (obis, attribute)
            : throw new CliException($"--obis '{text}' is not an OBIS code A.B.C.D.E.F[:ATTR]", ExitCodes.BadInput);
    }

    private static int Separators(ReadOnlySpan<char> text)
    {
        int count = 0;
        foreach (char c in text)
        {
            count += c is '.' or '-' or ':' or '*' ? 1 : 0;
        }

        return count;
    }

    private static DlmsClientSettings ParseSettings(string? client, string? auth, string? password, string? blockKey, string? authKey, string? systemTitle)
    {
        ushort clientAddress = 16;
        if (client is not null && (!ushort.TryParse(client, NumberStyles.None, CultureInfo.InvariantCulture, out clientAddress) || clientAddress is 0 or > 127))
        {
            throw new CliException($"--client '{client}' is not a client address 1..127", ExitCodes.BadInput);
        }

        var settings = new DlmsClientSettings { ClientAddress = clientAddress };
        switch (auth ?? "none")
        {
            case "none":
                return settings;
            case "low":
                return string.IsNullOrEmpty(password)
                    ? throw new CliException("--auth low needs --password", ExitCodes.BadInput)
                    : settings with { Authentication = DlmsAuthentication.Low, Password = System.Text.Encoding.ASCII.GetBytes(password) };
            case "hls-gmac":
                return settings with
                {
                    Authentication = DlmsAuthentication.HlsGmac,
                    BlockCipherKey = Hex("--block-key", blockKey, 16),
                    AuthenticationKey = Hex("--auth-key", authKey, 16),
                    ClientSystemTitle = Hex("--system-title", systemTitle, 8),
                    ChallengeFactory = () => KernelRandom.GetBytes(16),
                };
            default:
                throw new CliException($"--auth '{auth}' is not none, low or hls-gmac", ExitCodes.BadInput);
        }
    }

    private static byte[] Hex(string option, string? text, int bytes)
    {
        try
        {
            byte[] value = Convert.FromHexString(text ?? "");
            if (value.Length == bytes)
            {
                return value;
            }
        }
        catch (FormatException)
        {
            // Reported below without echoing the secret.
        }

        throw new CliException($"{option} must be {bytes * 2} hex digits (--auth hls-gmac)", ExitCodes.BadInput);
    }

    private static HdlcAddress ParseServer(string? text)
    {
        text ??= "1";
        string[] parts = text.Split('/');
        if (parts.Length is 1 or 2 && ushort.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out ushort upper) && upper is >= 1 and <= 0x3FFF)
        {
            if (parts.Length == 1)
            {
                return HdlcAddress.Server(upper);
            }

            if (ushort.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out ushort lower) && lower <= 0x3FFF)
            {
                return HdlcAddress.Server(upper, lower);
            }
        }

        throw new CliException($"--server '{text}' is not LOGICAL or LOGICAL/PHYSICAL (1..16383)", ExitCodes.BadInput);
    }

    private static ProfileRequest? ParseProfile(string? profile, string? from, string? to, string? last)
    {
        if (profile is null)
        {
            return from is null && to is null && last is null ? null : throw new CliException("--from, --to and --last need --profile", ExitCodes.BadInput);
        }

        if (!ObisCode.TryParse(profile, out var obis))
        {
            throw new CliException($"--profile '{profile}' is not an OBIS code", ExitCodes.BadInput);
        }

        if (last is not null)
        {
            return from is null && to is null && uint.TryParse(last, NumberStyles.None, CultureInfo.InvariantCulture, out uint n) && n is >= 1 and <= 100_000
                ? new ProfileRequest(obis, null, null, n)
                : throw new CliException($"--last '{last}' must be 1..100000 and not combined with --from/--to", ExitCodes.BadInput);
        }

        var start = Instant("--from", from);
        var end = Instant("--to", to);
        return start <= end ? new ProfileRequest(obis, start, end, null) : throw new CliException("--from is after --to", ExitCodes.BadInput);
    }

    private static DateTimeOffset Instant(string option, string? text) =>
        text is not null && DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var t)
            ? t
            : throw new CliException($"{option} '{text}' is not an ISO-8601 time (with --profile give --from and --to, or --last N)", ExitCodes.BadInput);

    private static TimeSpan ParseTimeout(string? text) =>
        text is null ? TimeSpan.FromSeconds(10)
        : int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int ms) && ms is >= 100 and <= 120_000 ? TimeSpan.FromMilliseconds(ms)
        : throw new CliException($"--timeout '{text}' is not a number of milliseconds 100..120000", ExitCodes.BadInput);

    private static string DefaultCounterFile(byte[] systemTitle, DlmsEndpoint endpoint, ushort server)
    {
        string state = Environment.GetEnvironmentVariable("XDG_STATE_HOME") is { Length: > 0 } s ? s
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".local", "state");
        string peer = string.Concat(endpoint.ToString().Select(c => char.IsAsciiLetterOrDigit(c) ? c : '_'));
        return Path.Combine(state, "edgemeter", $"dlms-ic-{Convert.ToHexString(systemTitle)}-{peer}-{server}");
    }

    private static DlmsCounterFile OpenCounters(string path)
    {
        try
        {
            return new DlmsCounterFile(path, block: 8);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidDataException)
        {
            throw new CliException($"--counter-file: {e.Message}", ExitCodes.BadInput);
        }
    }
}
