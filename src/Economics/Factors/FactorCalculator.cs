namespace EdgeMeter.Economics;

/// <summary>
/// The month's contribution factors and tokens, as a pure function of intervals, events and parameters.
/// All arithmetic is <see cref="decimal"/>; see README.md in this folder for the definitions and the decided rules.
/// </summary>
public static class FactorCalculator
{
    /// <summary>Preceding days looked at for the history baseline.</summary>
    public const int BaselineDays = 10;

    /// <summary>Fewest usable days for the history baseline.</summary>
    public const int MinBaselineDays = 3;

    /// <summary>Fallback window length in interval lengths before the event start.</summary>
    public const int WindowLengths = 4;

    /// <summary>
    /// Computes <paramref name="month"/>. Intervals outside it serve only as baseline history.
    /// </summary>
    /// <exception cref="ArgumentException">Two intervals with the same start, or an interval of no length.</exception>
    /// <exception cref="FactorInputException">The parameters are inconsistent (<see cref="FactorParams.Validate"/>).</exception>
    /// <exception cref="OverflowException">Parameters so large the tokens leave the range of <see cref="long"/>.</exception>
    public static FactorResult Compute(
        FactorMonth month,
        FactorParams p,
        IReadOnlyList<ConsumptionInterval> intervals,
        IReadOnlyList<FactorEvent> events,
        decimal congestionCarryIn = 0m)
    {
        ArgumentNullException.ThrowIfNull(p);
        ArgumentNullException.ThrowIfNull(intervals);
        ArgumentNullException.ThrowIfNull(events);
        ArgumentOutOfRangeException.ThrowIfNegative(congestionCarryIn);
        // Cheap, and keeps the invariants the arithmetic relies on (C_T > 0, F1 < F2, S_permit > 0) for sets built in code.
        p.Validate();

        var byStart = new Dictionary<long, ConsumptionInterval>(intervals.Count);
        foreach (var iv in intervals)
        {
            if (iv.Minutes <= 0)
            {
                throw new ArgumentException($"interval at {iv.Start:O} has no length", nameof(intervals));
            }
            if (!byStart.TryAdd(iv.Start.UtcTicks, iv))
            {
                throw new ArgumentException($"two intervals start at {iv.Start:O}", nameof(intervals));
            }
        }
        var sorted = intervals.OrderBy(i => i.Start.UtcTicks).ToArray();
        // Earliest-starting first; the id breaks ties so that the chosen event never depends on input order.
        var orderedEvents = events.OrderBy(e => e.Start.UtcTicks).ThenBy(e => e.Id, StringComparer.Ordinal).ToArray();

        var monthIntervals = sorted.Where(i => FactorMonth.Of(i.Start, p.TimeZone) == month).ToArray();

        decimal elec = 0, cleanElec = 0, heat = 0, cleanHeat = 0;
        foreach (var iv in monthIntervals)
        {
            elec += iv.ElecKwh;
            cleanElec += iv.CleanElecKwh;
            heat += iv.HeatKwh;
            cleanHeat += iv.CleanHeatKwh;
        }
        var cleanShare = CleanShare(cleanElec, cleanHeat, elec, heat);

        var baselines = new List<EventIntervalBaseline>();
        decimal eDr = 0;
        foreach (var iv in monthIntervals)
        {
            if (FirstEvent(orderedEvents, FactorEventKind.DemandResponse, iv.Start) is { } ev)
            {
                var row = Baseline(iv, ev, byStart, sorted, orderedEvents, 0m);
                eDr += row.ReductionKwh;
                baselines.Add(row);
            }
        }
        decimal c = 0;
        foreach (var iv in monthIntervals)
        {
            if (FirstEvent(orderedEvents, FactorEventKind.Congestion, iv.Start) is { } ev)
            {
                var row = Baseline(iv, ev, byStart, sorted, orderedEvents, null);
                c += row.StepFactor * iv.Hours;
                baselines.Add(row);
            }
        }

        var fDemand = FDemand(p, cleanShare, eDr);
        decimal? fSupply = p.Role == FactorRole.Producer ? FSupply(p) : null;
        var carbon = CarbonTokens(p, p.Role == FactorRole.Producer ? fSupply!.Value : fDemand);
        var congestion = CongestionTokens(congestionCarryIn, c, p.CongestionThreshold, p.TokensPerCongestionThreshold, out var carryOut);

        return new FactorResult
        {
            Month = month,
            IntervalCount = monthIntervals.Length,
            ElecKwh = elec,
            CleanElecKwh = cleanElec,
            HeatKwh = heat,
            CleanHeatKwh = cleanHeat,
            CleanShare = cleanShare,
            EDrKwh = eDr,
            FDemand = fDemand,
            FSupply = fSupply,
            CongestionFactor = c,
            CongestionCarryIn = congestionCarryIn,
            CongestionCarryOut = carryOut,
            CarbonTokens = carbon,
            CongestionTokens = congestion,
            TotalTokens = Total(p, carbon, congestion),
            Baselines = baselines,
        };

        EventIntervalBaseline Baseline(
            ConsumptionInterval iv,
            FactorEvent ev,
            Dictionary<long, ConsumptionInterval> index,
            ConsumptionInterval[] all,
            FactorEvent[] evs,
            decimal? fixedStep)
        {
            var (baseline, method, samples) = BaselineOf(iv, ev, index, all, evs);
            var reduction = Math.Max(0m, baseline - iv.ElecKwh);
            var deltaP = reduction / iv.Hours;
            var step = fixedStep ?? StepFactor(p.CongestionSteps, deltaP);
            return new EventIntervalBaseline(iv.Start, iv.Minutes, ev.Kind, ev.Id, method, samples, baseline, iv.ElecKwh, reduction, deltaP, step);
        }
    }

    /// <summary>(clean elec + clean heat)/(elec + heat), and 0 when there is no energy.</summary>
    public static decimal CleanShare(decimal cleanElecKwh, decimal cleanHeatKwh, decimal elecKwh, decimal heatKwh)
    {
        var total = elecKwh + heatKwh;
        return total == 0 ? 0m : (cleanElecKwh + cleanHeatKwh) / total;
    }

    /// <summary>F_demand = γ·cleanShare + δ·(EF_grid·E_dr).</summary>
    public static decimal FDemand(FactorParams p, decimal cleanShare, decimal eDrKwh) =>
        (p.Gamma * cleanShare) + (p.Delta * (p.EfGridKgPerKwh * eDrKwh));

    /// <summary>F_supply = α·(S_permit − S)/S_permit within the permit, β·(S_permit − S)/S_permit beyond it.</summary>
    public static decimal FSupply(FactorParams p)
    {
        var permit = p.SPermit ?? throw new ArgumentException("a producer needs sPermit", nameof(p));
        var s = p.S ?? throw new ArgumentException("a producer needs s", nameof(p));
        var weight = s <= permit ? p.Alpha : p.Beta;
        // Multiply before dividing: (S_permit − S)/S_permit is often non-terminating, the product first keeps it exact more often.
        return weight * (permit - s) / permit;
    }

    /// <summary>Carbon tokens from a factor: ⌊μ·(F − F1)⌋ below F1, 0 within [F1, F2], min(⌊λ·(F − F2)⌋, N_max) above F2.</summary>
    public static long CarbonTokens(FactorParams p, decimal f)
    {
        if (f < p.F1)
        {
            return ToLong(decimal.Floor(p.Mu * (f - p.F1)));
        }
        if (f <= p.F2)
        {
            return 0;
        }
        return ToLong(Math.Min(decimal.Floor(p.Lambda * (f - p.F2)), p.NMax));
    }

    /// <summary>
    /// Tokens for each whole <paramref name="threshold"/> in <paramref name="carryIn"/> + <paramref name="c"/>;
    /// the remainder, in [0, threshold), is <paramref name="carryOut"/>.
    /// </summary>
    public static long CongestionTokens(decimal carryIn, decimal c, decimal threshold, long tokensPerThreshold, out decimal carryOut)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(threshold);
        var total = carryIn + c;
        var whole = decimal.Floor(total / threshold);
        // Decimal division rounds at 28 digits: correct by one step either way so that the remainder is exactly in [0, threshold).
        while (whole * threshold > total)
        {
            whole--;
        }
        while ((whole + 1) * threshold <= total)
        {
            whole++;
        }
        carryOut = total - (whole * threshold);
        return checked(ToLong(whole) * tokensPerThreshold);
    }

    /// <summary>g(ΔP): the factor of the largest step with minKw ≤ ΔP, 0 below every step.</summary>
    public static decimal StepFactor(IReadOnlyList<CongestionStep> steps, decimal deltaPKw)
    {
        var factor = 0m;
        var best = decimal.MinValue;
        foreach (var step in steps)
        {
            if (step.MinKw <= deltaPKw && step.MinKw > best)
            {
                best = step.MinKw;
                factor = step.Factor;
            }
        }
        return factor;
    }

    /// <summary>Carbon + congestion tokens, a positive total capped at N_max.</summary>
    public static long Total(FactorParams p, long carbonTokens, long congestionTokens)
    {
        var total = checked(carbonTokens + congestionTokens);
        return total > 0 ? Math.Min(total, p.NMax) : total;
    }

    private static FactorEvent? FirstEvent(FactorEvent[] ordered, FactorEventKind kind, DateTimeOffset start)
    {
        foreach (var ev in ordered)
        {
            if (ev.Kind == kind && ev.Contains(start))
            {
                return ev;
            }
        }
        return null;
    }

    private static bool InAnyEvent(FactorEvent[] events, DateTimeOffset start)
    {
        foreach (var ev in events)
        {
            if (ev.Contains(start))
            {
                return true;
            }
        }
        return false;
    }

    private static (decimal Baseline, BaselineMethod Method, int Samples) BaselineOf(
        ConsumptionInterval iv,
        FactorEvent ev,
        Dictionary<long, ConsumptionInterval> index,
        ConsumptionInterval[] sorted,
        FactorEvent[] events)
    {
        // "The same instant minus k·24 h": instants, not local wall-clock days, so a DST change shifts the local hour.
        decimal sum = 0;
        var days = 0;
        for (var k = 1; k <= BaselineDays; k++)
        {
            var ticks = iv.Start.UtcTicks - (k * TimeSpan.TicksPerDay);
            if (index.TryGetValue(ticks, out var day) && !InAnyEvent(events, day.Start))
            {
                sum += day.ElecKwh;
                days++;
            }
        }
        if (days >= MinBaselineDays)
        {
            return (sum / days, BaselineMethod.History, days);
        }

        var windowStart = ev.Start - TimeSpan.FromTicks(WindowLengths * iv.Minutes * TimeSpan.TicksPerMinute);
        sum = 0;
        var count = 0;
        foreach (var other in sorted)
        {
            if (other.Start >= windowStart && other.Start < ev.Start)
            {
                sum += other.ElecKwh;
                count++;
            }
        }
        if (count > 0)
        {
            return (sum / count, BaselineMethod.Window, count);
        }
        return (iv.ElecKwh, BaselineMethod.Own, 0);
    }

    private static long ToLong(decimal whole) =>
        whole < long.MinValue || whole > long.MaxValue
            ? throw new OverflowException("token count out of range")
            : (long)whole;
}
