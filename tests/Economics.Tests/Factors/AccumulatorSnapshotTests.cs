using System.Text.Json;
using EdgeMeter.Economics;
using EdgeMeter.Crypto.Records;

namespace EdgeMeter.Economics.Tests.Factors;

public sealed class AccumulatorSnapshotTests
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 2, 0, 0, 0, TimeSpan.Zero);

    private static void Feed(IntervalAccumulator a, int fromMinute, int toMinute, ulong firstSeq)
    {
        var seq = firstSeq;
        for (var m = fromMinute; m <= toMinute; m += 5)
        {
            a.Add("grid", EnergySource.GridImport, false, "1-0:1.8.0*255", 1_000_000m + m * 10m, T0.AddMinutes(m), seq++);
            a.Add("pv", EnergySource.Pv, true, "1-0:1.8.0*255", 50_000m + m * 4m, T0.AddMinutes(m), seq++);
        }
    }

    private static JsonDocument Snapshot(IntervalAccumulator a)
    {
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream))
            a.WriteSnapshot(w);
        return JsonDocument.Parse(stream.ToArray());
    }

    [Fact]
    public void A_restored_accumulator_continues_exactly_where_the_saved_one_stood()
    {
        var original = new IntervalAccumulator(15);
        Feed(original, 0, 60, firstSeq: 1);
        using var saved = Snapshot(original);

        var restored = new IntervalAccumulator(15);
        Assert.True(restored.TryLoadSnapshot(saved.RootElement));
        Assert.Equal(original.CompleteIntervals(), restored.CompleteIntervals());
        Assert.Equal(original.ThroughSequence, restored.ThroughSequence);
        Assert.Equal(26UL, restored.ThroughSequence);

        // Both go on with the same readings and stay identical, including the reading ranges a claim lists.
        Feed(original, 65, 120, firstSeq: 27);
        Feed(restored, 65, 120, firstSeq: 27);
        Assert.Equal(original.CompleteIntervals(), restored.CompleteIntervals());
        Assert.Equal(8, restored.CompleteIntervals().Count);
        // grid +10 Wh/min and pv +4 Wh/min: every 15-minute interval holds 150 + 60 Wh, of which 60 Wh clean.
        Assert.All(restored.CompleteIntervals(), i => Assert.Equal((0.21m, 0.06m), (i.ElecKwh, i.CleanElecKwh)));
        var span = (T0.UtcTicks, T0.AddHours(3).UtcTicks);
        Assert.Equal(original.ReadingRanges(span.Item1, span.Item2), restored.ReadingRanges(span.Item1, span.Item2));
    }

    [Fact]
    public void A_snapshot_of_another_interval_length_is_refused_and_changes_nothing()
    {
        var original = new IntervalAccumulator(15);
        Feed(original, 0, 60, firstSeq: 1);
        using var saved = Snapshot(original);

        var other = new IntervalAccumulator(5);
        Assert.False(other.TryLoadSnapshot(saved.RootElement));
        Assert.Empty(other.CompleteIntervals());
        Assert.Null(other.LatestReadingTime);
    }
}
