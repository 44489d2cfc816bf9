using EdgeMeter.Economics;
using Xunit;

namespace EdgeMeter.Economics.Tests.Factors;

/// <summary>Baseline and event rules that the scenario files do not isolate.</summary>
public sealed class FactorCalculatorTests
{
    private static readonly FactorMonth March = new(2026, 3);
    private static readonly DateTimeOffset Day = new(2026, 3, 12, 0, 0, 0, TimeSpan.Zero);

    private static ConsumptionInterval Iv(DateTimeOffset start, decimal elec) => new(start, 15, elec, 0, 0, 0);

    private static FactorEvent Dr(string id, DateTimeOffset start, DateTimeOffset end) => new(id, FactorEventKind.DemandResponse, start, end);

    [Fact]
    public void Interval_in_two_events_of_a_kind_counts_once_with_the_earliest_events_window()
    {
        var h = Day.AddHours(10);
        ConsumptionInterval[] intervals =
        [
            Iv(h.AddMinutes(-60), 2), Iv(h.AddMinutes(-45), 2), Iv(h.AddMinutes(-30), 2), Iv(h.AddMinutes(-15), 2),
            Iv(h, 10), Iv(h.AddMinutes(15), 10), Iv(h.AddMinutes(30), 1),
        ];
        // Listed latest first: the calculator must still pick e1 (starts 10:00) for 10:30, not e2 (starts 10:30).
        FactorEvent[] events = [Dr("e2", h.AddMinutes(30), h.AddMinutes(60)), Dr("e1", h, h.AddMinutes(60))];

        var r = FactorCalculator.Compute(March, FactorPropertyTests.Params(), intervals, events);

        // No history days → window of e1 [09:00, 10:00) = 2, 2, 2, 2 → baseline 2.
        //   10:00 and 10:15 actual 10 → reduction 0; 10:30 actual 1 → reduction 1 (e2's window [09:30, 10:30) would give 6 → 5).
        //   E_dr = 1, once.
        Assert.Equal(1m, r.EDrKwh);
        Assert.Equal(3, r.Baselines.Count);
        Assert.All(r.Baselines, b => Assert.Equal(("e1", BaselineMethod.Window, 2m), (b.EventId, b.Method, b.BaselineKwh)));
    }

    [Fact]
    public void History_days_inside_any_event_are_skipped()
    {
        var noon = Day.AddHours(12);
        ConsumptionInterval[] intervals =
        [
            Iv(noon.AddDays(-1), 4), Iv(noon.AddDays(-2), 40), Iv(noon.AddDays(-3), 4), Iv(noon.AddDays(-4), 4),
            Iv(noon, 1),
        ];
        // The 2-days-ago interval lies in a congestion event: it is skipped, leaving days 1, 3, 4 (3 days) → baseline 4.
        FactorEvent[] events =
        [
            Dr("dr", noon, noon.AddMinutes(15)),
            new("old", FactorEventKind.Congestion, noon.AddDays(-2), noon.AddDays(-2).AddMinutes(15)),
        ];

        var r = FactorCalculator.Compute(March, FactorPropertyTests.Params(), intervals, events);

        var row = r.Baselines.Single(b => b.EventId == "dr");
        Assert.Equal((BaselineMethod.History, 3, 4m, 3m, 12m), (row.Method, row.SampleCount, row.BaselineKwh, row.ReductionKwh, row.DeltaPKw));
        Assert.Equal(3m, r.EDrKwh);
    }

    [Fact]
    public void Only_ten_days_back_count_and_two_days_are_too_few()
    {
        var noon = Day.AddHours(12);
        // Days 11 and 12 back are outside the 10-day look-back; days 1 and 2 are only two → window [11:00, 12:00): empty → own.
        ConsumptionInterval[] intervals =
        [
            Iv(noon.AddDays(-1), 4), Iv(noon.AddDays(-2), 4), Iv(noon.AddDays(-11), 4), Iv(noon.AddDays(-12), 4),
            Iv(noon, 1),
        ];
        var r = FactorCalculator.Compute(March, FactorPropertyTests.Params(), intervals, [Dr("dr", noon, noon.AddMinutes(15))]);

        var row = Assert.Single(r.Baselines);
        Assert.Equal((BaselineMethod.Own, 0, 1m, 0m), (row.Method, row.SampleCount, row.BaselineKwh, row.ReductionKwh));
    }

    [Fact]
    public void Event_intervals_outside_the_month_add_nothing()
    {
        var feb = new DateTimeOffset(2026, 2, 27, 12, 0, 0, TimeSpan.Zero);
        ConsumptionInterval[] intervals = [Iv(feb.AddMinutes(-15), 9), Iv(feb, 1)];
        var r = FactorCalculator.Compute(March, FactorPropertyTests.Params(), intervals, [Dr("dr", feb, feb.AddMinutes(15))]);
        Assert.Equal((0m, 0, 0), (r.EDrKwh, r.Baselines.Count, r.IntervalCount));
    }

    [Fact]
    public void Duplicate_starts_are_rejected_even_with_different_offsets()
    {
        var t = new DateTimeOffset(2026, 3, 2, 10, 0, 0, TimeSpan.Zero);
        ConsumptionInterval[] intervals = [Iv(t, 1), Iv(t.ToOffset(TimeSpan.FromHours(1)), 2)];
        Assert.Throws<ArgumentException>(() => FactorCalculator.Compute(March, FactorPropertyTests.Params(), intervals, []));
    }

    [Fact]
    public void Month_start_follows_the_zone()
    {
        var berlin = TimeZoneInfo.FindSystemTimeZoneById("Europe/Berlin");
        Assert.Equal(new DateTimeOffset(2026, 2, 28, 23, 0, 0, TimeSpan.Zero), March.StartIn(berlin));
        Assert.Equal(new DateTimeOffset(2026, 3, 31, 22, 0, 0, TimeSpan.Zero), March.Next().StartIn(berlin));
        Assert.Equal(new FactorMonth(2027, 1), new FactorMonth(2026, 12).Next());
    }
}
