using System.Globalization;
using System.Text.Json;
using EdgeMeter.Agent.Display;
using EdgeMeter.Interop.Tests.Support;

namespace EdgeMeter.Interop.Tests.Agent;

/// <summary>
/// The AOT binary and the gateway's hardware: the LCD's I2C byte stream decoded by an independent decoder
/// (tests/Interop.Tests/peers/hd44780_trace.py, Python, from the HD44780 and PCF8574 datasheets), and a machine without
/// display, GPIO or RTC.
/// </summary>
[Collection(AotCollection.Name)]
public sealed class AotHardwareTests(AotBinaryFixture aot)
{
    private static readonly string Decoder = Path.Combine(Repo.Root, "tests", "Interop.Tests", "peers", "hd44780_trace.py");

    [Fact]
    public async Task Demo_lcd_trace_decoded_independently_shows_the_confirmed_balance_with_glyphs_defined_before_use()
    {
        var data = Directory.CreateTempSubdirectory("edgemeter-aot-lcd-").FullName;
        var trace = Path.Combine(data, "lcd.trace");

        var demo = await Processes.RunAsync(aot.Binary, ["demo", "--exit-after", "20", "--data", data, "--http", "http://127.0.0.1:0", "--lcd", $"trace:{trace}"],
            TimeSpan.FromSeconds(120));
        Assert.True(demo.ExitCode == 0, demo.Err);
        using var result = JsonDocument.Parse(demo.Out.Trim().Split('\n')[^1]);
        // The ledger confirms closed months only (the running month is provisional), so a 20-second demo's confirmed
        // balance is 0; it must still have arrived, signed by the ledger: an unconfirmed one shows as "--", not "0".
        var balance = result.RootElement.GetProperty("balance").GetDecimal();
        Assert.True(result.RootElement.GetProperty("confirmed").GetInt64() > 0 && balance >= 0, demo.Out);

        TestDependencies.Require(Peer.Python);
        var decoded = await Processes.RunAsync("python3", [Decoder, trace, "--columns", "16", "--rows", "2"], TimeSpan.FromSeconds(60));
        using var lcd = JsonDocument.Parse(decoded.Out);
        var root = lcd.RootElement;

        // Exit 0 and no errors: every character written was printable or a glyph whose eight rows were defined before.
        Assert.True(decoded.ExitCode == 0, decoded.Out + decoded.Err);
        Assert.Empty(root.GetProperty("errors").EnumerateArray());
        Assert.True(root.GetProperty("displayOn").GetBoolean());

        // The four glyphs, as the decoder rebuilt them from the CGRAM writes.
        var glyphs = root.GetProperty("glyphs");
        for (int slot = 0; slot < LcdCharset.GlyphCount; slot++)
        {
            var rows = glyphs.GetProperty(slot.ToString(CultureInfo.InvariantCulture)).EnumerateArray().Select(r => (byte)r.GetInt32()).ToArray();
            Assert.Equal(LcdCharset.Glyphs.Slice(slot * 8, 8).ToArray(), rows);
        }

        // The last screen, which stays on the glass after the agent stopped: the final confirmed balance after the coin glyph.
        var shown = $"\uE000{balance.ToString("0.##", CultureInfo.InvariantCulture)} ";
        var final = root.GetProperty("final").EnumerateArray().Select(l => l.GetString()!).ToArray();
        Assert.Equal("Agent stopped   ", final[0]);
        Assert.StartsWith(shown, final[1], StringComparison.Ordinal);

        // And while it ran, the balance page came round with the month's provisional tokens under it.
        var screens = root.GetProperty("screens").EnumerateArray().Select(s => s.EnumerateArray().Select(l => l.GetString()!).ToArray()).ToList();
        Assert.Contains(screens, s => s[0].StartsWith('\uE000') && s[0].Contains(" conf", StringComparison.Ordinal) && s[1].StartsWith("Month +", StringComparison.Ordinal));
        Assert.Contains(screens, s => s[1].StartsWith("clean share ", StringComparison.Ordinal) && s[0].StartsWith('\uE002'));
    }

    [Fact]
    public async Task Without_display_gpio_and_rtc_the_agent_logs_each_once_and_runs()
    {
        Assert.False(File.Exists("/dev/i2c-1"), "this test needs a machine without I2C bus 1");
        await using var meter = RunConfig.StartSdm630(3);
        var dir = Directory.CreateTempSubdirectory("edgemeter-aot-nohw-").FullName;
        var config = await RunConfig.WriteAsync(dir, meter, 3);

        string output;
        await using (var agent = new Background(aot.Binary, ["run", "--config", config]))
        {
            await Task.Delay(TimeSpan.FromSeconds(6));
            Assert.False(agent.HasExited, agent.Output);
            Assert.Equal(0, await agent.StopAsync(TimeSpan.FromSeconds(20)));
            output = agent.Output;
        }

        var lines = output.Split('\n');
        Assert.Single(lines, l => l.Contains("No LCD: no I2C bus at /dev/i2c-1; mirroring the display on the console", StringComparison.Ordinal));
        Assert.Single(lines, l => l.Contains("No button: GPIO line 17 cannot be opened", StringComparison.Ordinal));
        Assert.Single(lines, l => l.Contains("No RTC: no I2C bus at /dev/i2c-1; keeping the system clock", StringComparison.Ordinal));
        // (The pairing code's own line, "No LCD answers: pairing code: …", is the page issue's, not a hardware notice.)
        Assert.Equal(3, lines.Count(l => l.Contains("No LCD:", StringComparison.Ordinal) || l.Contains("No button:", StringComparison.Ordinal) || l.Contains("No RTC:", StringComparison.Ordinal)));

        // And it ran: polled the meter, mirrored the pages on the console, and said goodbye on the last screen.
        Assert.Contains("starting: 1 meters", output, StringComparison.Ordinal);
        Assert.Contains(lines, l => l.StartsWith("LCD pairing | Pair code ", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("LCD stopped | Agent stopped", StringComparison.Ordinal));
    }

    [Fact]
    public void Publish_prints_no_trim_or_aot_warning_at_all()
    {
        // Our assemblies and the bindings (Iot.Device.Bindings, System.Device.Gpio) alike; LiteDB's summary warnings are
        // suppressed in EdgeAgent.csproj for the reason given there.
        Assert.DoesNotContain("warning IL", aot.PublishLog, StringComparison.Ordinal);
        Assert.Contains("Iot.Device.Bindings", File.ReadAllText(Path.Combine(Repo.Root, "src", "EdgeAgent", "EdgeAgent.csproj")), StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(Repo.Root, "src", "EdgeAgent", "Display", "Hd44780Lcd.cs")));
    }
}
