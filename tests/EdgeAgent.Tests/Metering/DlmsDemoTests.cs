using EdgeMeter.Agent.Demo;
using EdgeMeter.Agent.Storage;
using EdgeMeter.Agent.Tests.Support;
using Microsoft.Extensions.Logging.Abstractions;

namespace EdgeMeter.Agent.Tests.Metering;

public sealed class DlmsDemoTests
{
    [Fact]
    public async Task Demo_signs_and_confirms_the_dlms_meters_readings_beside_the_modbus_ones()
    {
        using var dir = new TempDir();
        var settings = new DemoSettings { DataDirectory = dir.Path, HttpUrl = "http://127.0.0.1:0", ExitAfter = TimeSpan.FromSeconds(6) };

        var result = await new DemoRunner(settings, NullLoggerFactory.Instance).RunAsync(CancellationToken.None);

        Assert.Equal(result.Signed, result.Confirmed);
        // The demo keeps the layout of `run`: the store sits in the data directory itself.
        using var store = new RecordStore(dir.Path);
        var confirmed = store.ReadRange(1, store.Head.ConfirmedThrough);
        var byMeter = confirmed.GroupBy(r => r.Reading!.MeterId).ToDictionary(g => g.Key, g => g.ToList());
        Assert.Equal(["grid-dlms", "grid-sdm630", "pv-sdm120"], byMeter.Keys.Order(StringComparer.Ordinal));
        var dlms = byMeter["grid-dlms"];
        Assert.Equal(["1-0:1.7.0*255", "1-0:1.8.0*255", "1-0:2.8.0*255"], dlms.Select(r => r.Reading!.Obis).Distinct().Order(StringComparer.Ordinal));
        var energy = dlms.Where(r => r.Reading!.Obis == "1-0:1.8.0*255").ToList();
        Assert.True(energy.Count >= 2, $"{energy.Count} energy readings");
        Assert.All(energy, r => Assert.Equal("Wh", r.Reading!.Unit));
        Assert.Equal(65, dlms.First(r => r.Reading!.Obis == "1-0:1.7.0*255").Signature.Length);
    }
}
