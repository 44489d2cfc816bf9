using EdgeMeter.Agent.Status;
using EdgeMeter.Crypto.Records;

namespace EdgeMeter.Agent.Display;

/// <summary>Today's energy by source.</summary>
/// <param name="GridKwh">Energy imported from the grid; null before a grid meter reported twice.</param>
/// <param name="CleanKwh">Energy from clean sources (PV, wind); null when there is no clean meter reading.</param>
/// <param name="Since">Local time counting started: midnight, or when the agent started on this day.</param>
/// <param name="FromMidnight">Whether <paramref name="Since"/> is midnight, so the figures are the whole day's.</param>
internal sealed record EnergyToday(decimal? GridKwh, decimal? CleanKwh, DateTimeOffset Since, bool FromMidnight);

/// <summary>
/// Turns the meters' cumulative energy registers into today's energy: the difference to the first value seen on the
/// local day. Started in the middle of a day it counts from its start and says so, rather than guess the morning.
/// Not thread-safe.
/// </summary>
internal sealed class DailyEnergy(TimeZoneInfo zone)
{
    private readonly Dictionary<string, decimal> _baseline = new(StringComparer.Ordinal);
    private DateOnly? _day;
    private DateTimeOffset _since;
    private bool _fromMidnight;

    /// <summary>Today's energy from the meters' registers at <paramref name="now"/>.</summary>
    public EnergyToday Update(IReadOnlyList<MeterStatus> meters, DateTimeOffset now)
    {
        var local = TimeZoneInfo.ConvertTime(now, zone);
        var day = DateOnly.FromDateTime(local.DateTime);
        if (_day != day)
        {
            // Only a day that began while we ran is counted from midnight.
            _fromMidnight = _day is not null;
            _since = _fromMidnight ? new DateTimeOffset(local.Date, zone.GetUtcOffset(local.Date)) : local;
            _day = day;
            _baseline.Clear();
        }

        decimal? grid = null;
        decimal? clean = null;
        foreach (var m in meters)
        {
            if (m.EnergyKwh is not { } kwh || m.Source == EnergySource.GridExport)
            {
                continue;
            }

            // A register that went back (a replaced meter) starts a new baseline.
            if (!_baseline.TryGetValue(m.MeterId, out var start) || kwh < start)
            {
                _baseline[m.MeterId] = start = kwh;
            }

            if (m.Source == EnergySource.GridImport)
            {
                grid = (grid ?? 0) + (kwh - start);
            }
            else if (m.Clean)
            {
                clean = (clean ?? 0) + (kwh - start);
            }
        }

        return new EnergyToday(grid, clean, _since, _fromMidnight);
    }
}
