using System.Net;
using System.Text.Json;
using EdgeMeter.Agent.Configuration;
using EdgeMeter.Agent.Setup;
using EdgeMeter.Crypto.Records;

namespace EdgeMeter.Agent.Web;

/// <summary>The owner's setup API under <c>/api/setup/</c>: every route needs a session, every POST its CSRF token.</summary>
internal sealed partial class WebServer
{
    /// <summary>The setup routes and their methods, for tests that walk every one of them.</summary>
    internal static readonly IReadOnlyList<(string Method, string Path)> SetupRoutes =
    [
        ("GET", "/api/setup/config"),
        ("GET", "/api/setup/serial-ports"),
        ("POST", "/api/setup/meters/test"),
        ("POST", "/api/setup/meters"),
        ("POST", "/api/setup/meters/remove"),
        ("POST", "/api/setup/uplink"),
        ("POST", "/api/setup/uplink/test"),
        ("POST", "/api/setup/uplink/file"),
        ("POST", "/api/setup/time-zone"),
        ("POST", "/api/setup/public-summary"),
    ];

    private async Task SetupAsync(HttpListenerContext context, string path, OwnerSession? session, CancellationToken token)
    {
        var response = context.Response;
        if (await RequireOwnerAsync(context, session, token).ConfigureAwait(false) is null)
        {
            return;
        }

        var method = context.Request.HttpMethod;
        if (!SetupRoutes.Contains((method, path)))
        {
            bool known = SetupRoutes.Any(r => r.Path == path);
            await WriteErrorAsync(response, known ? HttpStatusCode.MethodNotAllowed : HttpStatusCode.NotFound,
                known ? "method_not_allowed" : "not_found", known ? "Method not allowed." : "Not found.", token).ConfigureAwait(false);
            return;
        }

        if (_options.Setup is not { } setup)
        {
            await WriteErrorAsync(response, HttpStatusCode.ServiceUnavailable, "no_setup", "This agent has no configuration file to change.", token).ConfigureAwait(false);
            return;
        }

        if (method == "GET")
        {
            await WriteJsonAsync(response, HttpStatusCode.OK, w =>
            {
                if (path == "/api/setup/config")
                {
                    WriteSetupView(w, setup.Current);
                }
                else
                {
                    w.WriteStartObject();
                    WriteStrings(w, "ports", setup.SerialPorts());
                    WriteStrings(w, "maps", setup.RegisterMaps());
                    w.WriteEndObject();
                }
            }, token).ConfigureAwait(false);
            return;
        }

        var body = await ReadJsonBodyAsync(context, token, path == "/api/setup/uplink/file" ? MaxUploadBytes : MaxBodyBytes).ConfigureAwait(false);
        if (body is null)
        {
            return;
        }

        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(body, new JsonDocumentOptions { MaxDepth = 6 });
            if (doc.RootElement.ValueKind != JsonValueKind.Object)
            {
                doc.Dispose();
                throw new JsonException("not an object");
            }
        }
        catch (JsonException)
        {
            await WriteErrorAsync(response, HttpStatusCode.BadRequest, "bad_json", "Send a JSON object.", token).ConfigureAwait(false);
            return;
        }

        using (doc)
        {
            var root = doc.RootElement;
            switch (path)
            {
                case "/api/setup/meters/test":
                    if (ParseMeter(root) is not { } probe)
                    {
                        await WriteErrorAsync(response, HttpStatusCode.BadRequest, "bad_meter", "A meter needs id, protocol, endpoint, unit, map and source.", token).ConfigureAwait(false);
                        return;
                    }

                    await WriteTestAsync(response, await setup.TestReadAsync(probe, token).ConfigureAwait(false), token).ConfigureAwait(false);
                    return;
                case "/api/setup/meters":
                    if (ParseMeter(root) is not { } meter)
                    {
                        await WriteErrorAsync(response, HttpStatusCode.BadRequest, "bad_meter", "A meter needs id, protocol, endpoint, unit, map and source.", token).ConfigureAwait(false);
                        return;
                    }

                    await WriteOutcomeAsync(response, setup.SaveMeter(meter), token).ConfigureAwait(false);
                    return;
                case "/api/setup/meters/remove":
                    await WriteOutcomeAsync(response, setup.RemoveMeter(StringProperty(root, "id") ?? ""), token).ConfigureAwait(false);
                    return;
                case "/api/setup/uplink":
                    await WriteOutcomeAsync(response, setup.SaveUplink(ParseUplink(root)), token).ConfigureAwait(false);
                    return;
                case "/api/setup/uplink/test":
                    await WriteTestAsync(response, await setup.TestUplinkAsync(ParseUplink(root), token).ConfigureAwait(false), token).ConfigureAwait(false);
                    return;
                case "/api/setup/uplink/file":
                    UplinkFileKind? kind = StringProperty(root, "kind") switch
                    {
                        "ca" => UplinkFileKind.Ca,
                        "cert" => UplinkFileKind.Certificate,
                        "key" => UplinkFileKind.Key,
                        _ => null,
                    };
                    var outcome = kind is { } k
                        ? setup.SaveUplinkFile(k, StringProperty(root, "pem") ?? "")
                        : SetupOutcome.Fail("kind", "must be ca, cert or key");
                    await WriteOutcomeAsync(response, outcome, token).ConfigureAwait(false);
                    return;
                case "/api/setup/time-zone":
                    await WriteOutcomeAsync(response, setup.SaveTimeZone(StringProperty(root, "timeZone")), token).ConfigureAwait(false);
                    return;
                default:
                    var enabled = root.TryGetProperty("enabled", out var e) && e.ValueKind == JsonValueKind.True;
                    await WriteOutcomeAsync(response, setup.SavePublicSummary(enabled), token).ConfigureAwait(false);
                    return;
            }
        }
    }

    private static MeterSetup? ParseMeter(JsonElement root)
    {
        var id = StringProperty(root, "id");
        if (id is null
            || !root.TryGetProperty("unit", out var unit) || !unit.TryGetInt32(out var unitId)
            || !Enum.TryParse<EnergySource>(StringProperty(root, "source"), ignoreCase: true, out var source)
            || !Enum.IsDefined(source))
        {
            return null;
        }

        int timeoutMs = root.TryGetProperty("timeoutMs", out var t) && t.TryGetInt32(out var ms) ? ms : 1000;
        DlmsSetup? dlms = null;
        if (root.TryGetProperty("dlms", out var d) && d.ValueKind == JsonValueKind.Object)
        {
            var obis = new List<string>();
            if (d.TryGetProperty("obis", out var list) && list.ValueKind == JsonValueKind.Array)
            {
                foreach (var item in list.EnumerateArray())
                {
                    if (item.ValueKind == JsonValueKind.String)
                    {
                        obis.Add(item.GetString()!);
                    }
                }
            }

            dlms = new DlmsSetup
            {
                Transport = StringProperty(d, "transport") ?? "wrapper",
                Client = d.TryGetProperty("client", out var c) && c.TryGetInt32(out var client) ? client : 16,
                Server = d.TryGetProperty("server", out var sv) && sv.TryGetInt32(out var server) ? server : 1,
                Auth = StringProperty(d, "auth") ?? "none",
                Password = StringProperty(d, "password"),
                BlockKey = StringProperty(d, "blockKey"),
                AuthKey = StringProperty(d, "authKey"),
                SystemTitle = StringProperty(d, "systemTitle"),
                Obis = obis,
            };
        }

        return new MeterSetup
        {
            Id = id,
            Protocol = StringProperty(root, "protocol") ?? "modbus",
            Endpoint = StringProperty(root, "endpoint") ?? "",
            Unit = unitId,
            Map = StringProperty(root, "map") ?? "",
            Source = source,
            TimeoutMs = timeoutMs,
            Dlms = dlms,
        };
    }

    private static UplinkSetup ParseUplink(JsonElement root) =>
        new(StringProperty(root, "broker") ?? "", StringProperty(root, "username"), StringProperty(root, "password"), StringProperty(root, "protocol") ?? "5");

    private static Task WriteOutcomeAsync(HttpListenerResponse response, SetupOutcome outcome, CancellationToken token) =>
        WriteJsonAsync(response, outcome.Ok ? HttpStatusCode.OK : HttpStatusCode.UnprocessableEntity, w =>
        {
            w.WriteStartObject();
            w.WriteString("result", outcome.Ok ? "saved" : "invalid");
            if (!outcome.Ok)
            {
                w.WriteString("error", outcome.Errors[0].ToString());
                w.WriteStartArray("errors");
                foreach (var e in outcome.Errors)
                {
                    var (code, args) = ConfigErrorCodes.Classify(e);
                    w.WriteStartObject();
                    w.WriteString("key", e.Key);
                    w.WriteString("reason", e.Reason);
                    w.WriteString("code", code);
                    WriteArgs(w, args);
                    w.WriteEndObject();
                }

                w.WriteEndArray();
            }

            w.WriteEndObject();
        }, token);

    private static Task WriteTestAsync(HttpListenerResponse response, TestReadResult result, CancellationToken token) =>
        WriteJsonAsync(response, result.Ok ? HttpStatusCode.OK : HttpStatusCode.UnprocessableEntity, w =>
        {
            w.WriteStartObject();
            w.WriteString("result", result.Ok ? "ok" : "failed");
            if (result.Error is { } error)
            {
                w.WriteString("error", error);
                w.WriteString("code", result.Code ?? "failed");
                WriteArgs(w, result.Args);
            }

            if (result.Detail is { } detail)
            {
                w.WriteString("detail", detail);
            }

            w.WriteStartArray("values");
            foreach (var v in result.Values)
            {
                w.WriteStartObject();
                w.WriteString("quantity", v.Quantity);
                w.WriteNumber("value", v.Value);
                w.WriteString("unit", v.Unit);
                w.WriteEndObject();
            }

            w.WriteEndArray();
            w.WriteEndObject();
        }, token);

    /// <summary>The configuration as the setup page shows it: no password, only whether one is set.</summary>
    private static void WriteSetupView(Utf8JsonWriter w, AgentOptions o)
    {
        w.WriteStartObject();
        w.WriteStartArray("meters");
        foreach (var m in o.Meters)
        {
            w.WriteStartObject();
            w.WriteString("id", m.Id);
            w.WriteString("endpoint", m.Endpoint);
            w.WriteString("source", m.Source.ToString());
            w.WriteNumber("timeoutMs", m.TimeoutMs);
            if (DlmsMeterOptions.IsDlms(m))
            {
                // The association without its secrets: only whether they are set.
                var d = m.Dlms;
                w.WriteString("protocol", "dlms");
                w.WriteStartObject("dlms");
                w.WriteString("transport", d.Transport ?? "");
                w.WriteNumber("client", d.Client);
                w.WriteNumber("server", d.Server);
                w.WriteString("auth", d.Authentication);
                w.WriteBoolean("hasPassword", !string.IsNullOrEmpty(d.Password));
                w.WriteBoolean("hasKeys", !string.IsNullOrEmpty(d.BlockCipherKey) && !string.IsNullOrEmpty(d.AuthenticationKey));
                w.WriteString("systemTitle", d.SystemTitle ?? "");
                WriteStrings(w, "obis", (m.Record.Count > 0 ? m.Record : Metering.MeterChannel.DefaultRecorded)
                    .Where(DlmsQuantities.Obis.ContainsKey).Select(q => DlmsQuantities.ObisOf(m, q)));
                w.WriteEndObject();
            }
            else
            {
                w.WriteString("protocol", "modbus");
                w.WriteNumber("unit", m.Unit);
                w.WriteString("map", m.Map);
            }

            w.WriteEndObject();
        }

        w.WriteEndArray();
        w.WriteStartObject("uplink");
        w.WriteString("broker", o.Mqtt.Broker);
        w.WriteString("username", o.Mqtt.Username ?? "");
        w.WriteBoolean("hasPassword", !string.IsNullOrEmpty(o.Mqtt.Password));
        w.WriteString("protocol", o.Mqtt.Protocol);
        w.WriteBoolean("hasCa", !string.IsNullOrEmpty(o.Mqtt.CaFile));
        w.WriteBoolean("hasClientCertificate", !string.IsNullOrEmpty(o.Mqtt.CertFile));
        w.WriteEndObject();
        w.WriteString("timeZone", o.TimeZone ?? "");
        w.WriteBoolean("publicSummary", o.Http.PublicSummary);
        w.WriteEndObject();
    }

    private static void WriteArgs(Utf8JsonWriter w, IEnumerable<KeyValuePair<string, string>> args)
    {
        w.WriteStartObject("args");
        foreach (var (name, value) in args)
        {
            w.WriteString(name, value);
        }

        w.WriteEndObject();
    }

    private static void WriteStrings(Utf8JsonWriter w, string name, IEnumerable<string> values)
    {
        w.WriteStartArray(name);
        foreach (var v in values)
        {
            w.WriteStringValue(v);
        }

        w.WriteEndArray();
    }
}
