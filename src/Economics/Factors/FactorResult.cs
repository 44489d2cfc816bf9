namespace EdgeMeter.Economics;

/// <summary>How an event interval's baseline was obtained.</summary>
public enum BaselineMethod
{
    /// <summary>Mean of at least 3 of the 10 preceding days at the same instant (minus k·24 h) outside any event.</summary>
    History,
    /// <summary>Fewer than 3 such days: mean of the intervals starting in [event start − 4·L, event start).</summary>
    Window,
    /// <summary>Neither: the interval's own consumption, so no reduction.</summary>
    Own,
}

/// <summary>The baseline and reduction of one of the month's intervals in an event of one kind.</summary>
/// <param name="Start">Interval start.</param>
/// <param name="Minutes">Interval length.</param>
/// <param name="Kind">The event kind this row is for (an interval in both kinds has two rows).</param>
/// <param name="EventId">The earliest-starting event of that kind containing the interval.</param>
/// <param name="Method">How the baseline was obtained.</param>
/// <param name="SampleCount">Days averaged (History), intervals averaged (Window), 0 (Own).</param>
/// <param name="BaselineKwh">Baseline consumption.</param>
/// <param name="ActualKwh">The interval's consumption.</param>
/// <param name="ReductionKwh">max(0, baseline − actual).</param>
/// <param name="DeltaPKw">Reduction divided by the interval length in hours.</param>
/// <param name="StepFactor">g(ΔP) for a congestion row; 0 for demand response.</param>
public sealed record EventIntervalBaseline(
    DateTimeOffset Start,
    int Minutes,
    FactorEventKind Kind,
    string EventId,
    BaselineMethod Method,
    int SampleCount,
    decimal BaselineKwh,
    decimal ActualKwh,
    decimal ReductionKwh,
    decimal DeltaPKw,
    decimal StepFactor);

/// <summary>One month's factors and tokens, exact (unrounded) decimals.</summary>
public sealed record FactorResult
{
    /// <summary>The computed month.</summary>
    public required FactorMonth Month { get; init; }

    /// <summary>Number of intervals that belong to the month.</summary>
    public required int IntervalCount { get; init; }

    /// <summary>E_elec, kWh.</summary>
    public required decimal ElecKwh { get; init; }

    /// <summary>E_clean_elec, kWh.</summary>
    public required decimal CleanElecKwh { get; init; }

    /// <summary>E_heat, kWh.</summary>
    public required decimal HeatKwh { get; init; }

    /// <summary>E_clean_heat, kWh.</summary>
    public required decimal CleanHeatKwh { get; init; }

    /// <summary>(E_clean_elec + E_clean_heat)/(E_elec + E_heat), 0 on no energy.</summary>
    public required decimal CleanShare { get; init; }

    /// <summary>Energy reduced during demand-response events, kWh.</summary>
    public required decimal EDrKwh { get; init; }

    /// <summary>F_demand = γ·cleanShare + δ·EF_grid·E_dr (computed for both roles).</summary>
    public required decimal FDemand { get; init; }

    /// <summary>F_supply for a producer; null for a consumer.</summary>
    public decimal? FSupply { get; init; }

    /// <summary>Congestion factor C of the month (without the carry).</summary>
    public required decimal CongestionFactor { get; init; }

    /// <summary>Carry from the previous month.</summary>
    public required decimal CongestionCarryIn { get; init; }

    /// <summary>carryIn + C minus the whole thresholds issued; carries to the next month.</summary>
    public required decimal CongestionCarryOut { get; init; }

    /// <summary>Carbon tokens (negative is a penalty).</summary>
    public required long CarbonTokens { get; init; }

    /// <summary>Congestion tokens.</summary>
    public required long CongestionTokens { get; init; }

    /// <summary>Carbon + congestion; a positive total capped at N_max.</summary>
    public required long TotalTokens { get; init; }

    /// <summary>Baselines of the month's event intervals, demand response first, then congestion, each by start.</summary>
    public required IReadOnlyList<EventIntervalBaseline> Baselines { get; init; }
}
