using System.Globalization;

namespace EdgeMeter.Economics;

/// <summary>Whether the account is rewarded as a consumer (demand side) or a producer (supply side).</summary>
public enum FactorRole
{
    /// <summary>Carbon tokens from <c>F_demand</c>.</summary>
    Consumer,
    /// <summary>Carbon tokens from <c>F_supply</c>.</summary>
    Producer,
}

/// <summary>The kind of a grid event announced by the operator.</summary>
public enum FactorEventKind
{
    /// <summary>Grid congestion: reductions earn the congestion factor <c>C</c>.</summary>
    Congestion,
    /// <summary>Demand response: reductions count toward <c>E_dr</c>.</summary>
    DemandResponse,
}

/// <summary>An operator event. An interval belongs to it when its start is in [<see cref="Start"/>, <see cref="End"/>).</summary>
/// <param name="Id">Operator's identifier, unique among the events of a computation.</param>
/// <param name="Kind">Congestion or demand response.</param>
/// <param name="Start">Inclusive start.</param>
/// <param name="End">Exclusive end; after <paramref name="Start"/>.</param>
public sealed record FactorEvent(string Id, FactorEventKind Kind, DateTimeOffset Start, DateTimeOffset End)
{
    /// <summary>Whether an interval starting at <paramref name="intervalStart"/> belongs to this event.</summary>
    public bool Contains(DateTimeOffset intervalStart) => intervalStart >= Start && intervalStart < End;

    /// <summary>The JSON spelling of a kind: <c>congestion</c> or <c>demand-response</c>.</summary>
    public static string KindName(FactorEventKind kind) => kind switch
    {
        FactorEventKind.Congestion => "congestion",
        FactorEventKind.DemandResponse => "demand-response",
        _ => throw new ArgumentOutOfRangeException(nameof(kind)),
    };
}

/// <summary>One row of the congestion step function <c>g</c>: at or above <see cref="MinKw"/> of reduction, <see cref="Factor"/>.</summary>
/// <param name="MinKw">Threshold of the power reduction ΔP in kW; greater than 0.</param>
/// <param name="Factor">Factor per hour of reduction at or above the threshold; not negative.</param>
public readonly record struct CongestionStep(decimal MinKw, decimal Factor);

/// <summary>A calendar month, <c>YYYY-MM</c>, interpreted in the configured time zone.</summary>
/// <param name="Year">1..9999.</param>
/// <param name="Month">1..12.</param>
public readonly record struct FactorMonth(int Year, int Month)
{
    /// <summary>Parses exactly <c>YYYY-MM</c>.</summary>
    public static bool TryParse(string? text, out FactorMonth month)
    {
        month = default;
        if (text is null || text.Length != 7 || text[4] != '-')
        {
            return false;
        }
        for (var i = 0; i < 7; i++)
        {
            if (i != 4 && !char.IsAsciiDigit(text[i]))
            {
                return false;
            }
        }
        var y = int.Parse(text.AsSpan(0, 4), NumberStyles.None, CultureInfo.InvariantCulture);
        var m = int.Parse(text.AsSpan(5, 2), NumberStyles.None, CultureInfo.InvariantCulture);
        if (y < 1 || m < 1 || m > 12)
        {
            return false;
        }
        month = new FactorMonth(y, m);
        return true;
    }

    /// <summary>The month that contains <paramref name="instant"/> in <paramref name="zone"/>.</summary>
    public static FactorMonth Of(DateTimeOffset instant, TimeZoneInfo zone)
    {
        var local = TimeZoneInfo.ConvertTime(instant, zone);
        return new FactorMonth(local.Year, local.Month);
    }

    /// <summary>The following month.</summary>
    public FactorMonth Next() => Month == 12 ? new FactorMonth(Year + 1, 1) : new FactorMonth(Year, Month + 1);

    /// <summary>The instant the month starts in <paramref name="zone"/> (local midnight of the 1st; zones never skip midnight of the 1st in practice, a skipped one moves to the first valid local time).</summary>
    public DateTimeOffset StartIn(TimeZoneInfo zone)
    {
        var local = new DateTime(Year, Month, 1, 0, 0, 0, DateTimeKind.Unspecified);
        while (zone.IsInvalidTime(local))
        {
            local = local.AddMinutes(1);
        }
        return new DateTimeOffset(local, zone.GetUtcOffset(local));
    }

    /// <inheritdoc/>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Year:D4}-{Month:D2}");
}

/// <summary>
/// Consumption of one interval, the model the calculator takes. Energies in kWh; clean parts are included in their totals.
/// </summary>
/// <param name="Start">Start instant, with offset.</param>
/// <param name="Minutes">Length; greater than 0.</param>
/// <param name="ElecKwh">Electricity consumed on site.</param>
/// <param name="CleanElecKwh">Of which clean (self-consumed clean generation).</param>
/// <param name="HeatKwh">Heat consumed.</param>
/// <param name="CleanHeatKwh">Of which clean.</param>
public sealed record ConsumptionInterval(DateTimeOffset Start, int Minutes, decimal ElecKwh, decimal CleanElecKwh, decimal HeatKwh, decimal CleanHeatKwh)
{
    /// <summary>Length in hours, exact for whole minutes (minutes/60 rounded by decimal only when not terminating).</summary>
    public decimal Hours => Minutes / 60m;
}

/// <summary>
/// A scenario or payload error: <see cref="Field"/> names the JSON field (<c>params.f1</c>, <c>intervals[3].start</c>);
/// empty when the document as a whole is rejected (not JSON at all).
/// </summary>
public sealed class FactorInputException(string field, string reason)
    : Exception(field.Length == 0 ? reason : $"{field}: {reason}")
{
    /// <summary>The JSON path of the offending field.</summary>
    public string Field { get; } = field;

    /// <summary>Why it is rejected.</summary>
    public string Reason { get; } = reason;
}

/// <summary>Decimal helpers shared by the CLI, the status snapshot and the claim writer.</summary>
public static class FactorDecimal
{
    /// <summary>Rounds half away from zero to 6 places, the precision the factors are shown with.</summary>
    public static decimal Round6(decimal value) => Normalize(decimal.Round(value, 6, MidpointRounding.AwayFromZero));

    /// <summary>The same value with no trailing zeros in its scale, so that it always prints the same way (1.50 → 1.5).</summary>
    public static decimal Normalize(decimal value)
    {
        if (value == 0)
        {
            // Also folds a negative zero (−0.00) into the one zero.
            return 0m;
        }
        while (value.Scale > 0)
        {
            var shorter = decimal.Round(value, value.Scale - 1);
            if (shorter != value)
            {
                break;
            }
            value = shorter;
        }
        return value;
    }

    /// <summary>Plain invariant notation without exponent or trailing zeros: <c>-0.125</c>, <c>3</c>.</summary>
    public static string Format(decimal value) => Normalize(value).ToString(CultureInfo.InvariantCulture);
}
