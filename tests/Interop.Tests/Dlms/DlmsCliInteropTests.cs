using System.Globalization;
using System.Text.Json;
using EdgeMeter.Interop.Tests.Support;

namespace EdgeMeter.Interop.Tests.Dlms;

/// <summary>
/// The Native AOT <c>edgemeter read dlms</c> against a server we did not write: the replay peer serves the APDUs a
/// Gurux DLMS server sent in the recorded sessions, over the TCP wrapper and over HDLC. Expected values come from the
/// recordings' <c>expected</c> blocks.
/// </summary>
[Collection(AotCollection.Name)]
public sealed class DlmsCliInteropTests(AotBinaryFixture aot)
{
    private static readonly string[] Registers = ["1.0.1.8.0.255", "1.0.1.7.0.255", "1.0.32.7.0.255"];

    private static JsonElement Expected(string prefix)
    {
        string file = Directory.GetFiles(DlmsReplayPeer.VectorDirectory, prefix + "-*.json").Single();
        using var doc = JsonDocument.Parse(File.ReadAllBytes(file));
        return doc.RootElement.GetProperty("expected").Clone();
    }

    private Task<ProcessResult> ReadAsync(DlmsReplayPeer peer, string framing, params string[] args) =>
        Processes.RunAsync(aot.Binary, ["read", "dlms", "--endpoint", $"tcp://127.0.0.1:{peer.Port}", "--transport", framing, "--server", "1", .. args],
            TimeSpan.FromSeconds(60));

    [Theory]
    [InlineData("wrapper", "02")]
    [InlineData("hdlc", "01")]
    public async Task Reads_registers_with_units_the_clock_and_a_7_row_profile_range(string framing, string registerVector)
    {
        await using var peer = await DlmsReplayPeer.StartAsync(framing);
        var range = Expected("06").GetProperty("1.0.99.1.0.255").GetProperty("buffer_by_range");
        var selection = range.GetProperty("access_selection");
        string from = Iso(selection.GetProperty("from_value").GetString()!);
        string to = Iso(selection.GetProperty("to_value").GetString()!);

        var r = await ReadAsync(peer, framing, ["--client", "16", "--obis", "0.0.1.0.0.255", .. Registers.SelectMany(o => new[] { "--obis", o }),
            "--profile", "1.0.99.1.0.255", "--from", from, "--to", to, "--json"]);

        Assert.True(r.ExitCode == 0, r.Err + await peer.StopAsync());
        using var doc = JsonDocument.Parse(r.Out);
        var root = doc.RootElement;
        var expected = Expected(registerVector);
        foreach (string obis in Registers)
        {
            var want = expected.GetProperty(obis);
            var got = root.GetProperty(obis);
            Assert.Equal(want.GetProperty("physical").GetRawText(), got.GetProperty("value").GetRawText());
            Assert.Equal(want.GetProperty("unit").GetString()!.Split(' ')[0], got.GetProperty("unit").GetString());
        }

        // The replay serves the clock of whichever recording came first; it must be one of the recorded clocks.
        string clock = root.GetProperty("0.0.1.0.0.255").GetProperty("value").GetString()!;
        Assert.Matches(@"^2026-11-24T08:53:\d\dZ$", clock);

        var rows = root.GetProperty("1.0.99.1.0.255").EnumerateArray().ToArray();
        var wantRows = range.GetProperty("rows").EnumerateArray().ToArray();
        Assert.Equal(7, rows.Length);
        Assert.Equal(range.GetProperty("row_count").GetInt32(), rows.Length);
        int scaler = expected.GetProperty("1.0.1.8.0.255").GetProperty("scaler").GetInt32();
        for (int i = 0; i < rows.Length; i++)
        {
            Assert.Equal(wantRows[i][0].GetString()![..19], rows[i][0].GetString());
            decimal energy = wantRows[i][1].GetInt64() * (decimal)Math.Pow(10, scaler);
            Assert.Equal(energy.ToString(CultureInfo.InvariantCulture), rows[i][1].GetRawText());
        }
    }

    [Theory]
    [InlineData("wrapper")]
    [InlineData("hdlc")]
    public async Task Text_output_prints_each_register_scaled_with_its_unit(string framing)
    {
        await using var peer = await DlmsReplayPeer.StartAsync(framing);

        var r = await ReadAsync(peer, framing, ["--client", "17", "--auth", "low", "--password", "Gurux", .. Registers.SelectMany(o => new[] { "--obis", o })]);

        Assert.True(r.ExitCode == 0, r.Err + await peer.StopAsync());
        Assert.Equal(["1.0.1.8.0.255  12345670 Wh", "1.0.1.7.0.255  3045.7 W", "1.0.32.7.0.255  230.1 V"], r.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    [Fact]
    public async Task Wrong_password_is_one_line_naming_the_refusal_and_no_value()
    {
        await using var peer = await DlmsReplayPeer.StartAsync("wrapper");

        var r = await ReadAsync(peer, "wrapper", "--client", "17", "--auth", "low", "--password", "Wrong", "--obis", "1.0.1.8.0.255");

        Assert.Equal(1, r.ExitCode);
        Assert.Equal("", r.Out);
        Assert.Equal($"edgemeter: tcp://127.0.0.1:{peer.Port}: association refused: rejected-permanent, acse-service-user authentication-failure", r.Err.Trim());
    }

    [Theory]
    [InlineData("1.0.99.99.0.255", "GET 1.0.99.99.0.255:2: data-access-result object-undefined (4)")]
    [InlineData("1.0.1.8.0.255:9", "GET 1.0.1.8.0.255:9: data-access-result hardware-fault (1)")]
    public async Task Refused_attribute_is_one_line_naming_the_data_access_result(string obis, string message)
    {
        await using var peer = await DlmsReplayPeer.StartAsync("wrapper");

        var r = await ReadAsync(peer, "wrapper", "--client", "16", "--obis", obis);

        Assert.Equal(1, r.ExitCode);
        Assert.Equal("", r.Out);
        Assert.Equal($"edgemeter: tcp://127.0.0.1:{peer.Port}: {message}", r.Err.Trim());
    }

    [Fact]
    public async Task Last_entries_are_read_by_entry_descriptor_over_hdlc()
    {
        await using var peer = await DlmsReplayPeer.StartAsync("hdlc");
        var want = Expected("07").GetProperty("1.0.99.1.0.255").GetProperty("buffer_by_entry").GetProperty("rows").EnumerateArray().ToArray();

        var r = await ReadAsync(peer, "hdlc", "--client", "16", "--profile", "1.0.99.1.0.255", "--last", "3", "--json");

        Assert.True(r.ExitCode == 0, r.Err + await peer.StopAsync());
        using var doc = JsonDocument.Parse(r.Out);
        var rows = doc.RootElement.GetProperty("1.0.99.1.0.255").EnumerateArray().ToArray();
        Assert.Equal(want.Length, rows.Length);
        for (int i = 0; i < rows.Length; i++)
        {
            Assert.Equal(want[i][0].GetString()![..19], rows[i][0].GetString());
            Assert.Equal((want[i][1].GetInt64() * 10).ToString(CultureInfo.InvariantCulture), rows[i][1].GetRawText());
        }
    }

    private static string Iso(string recorded) => recorded[..19] + "Z";
}
