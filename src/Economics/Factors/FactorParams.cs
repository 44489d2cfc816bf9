namespace EdgeMeter.Economics;

/// <summary>
/// The operator's parameters for contribution factors and token issuance. Immutable; a new set arrives with a new
/// <see cref="Version"/>. Call <see cref="Validate"/> once when a set is accepted; the calculator assumes a valid set.
/// </summary>
public sealed record FactorParams
{
    /// <summary>Operator's version number of this parameter set; 0 when unversioned (a scenario file).</summary>
    public long Version { get; init; }

    /// <summary>IANA zone id as configured, e.g. <c>Europe/Berlin</c>.</summary>
    public required string TimeZoneId { get; init; }

    /// <summary>The resolved zone of <see cref="TimeZoneId"/>; decides which month an interval belongs to.</summary>
    public required TimeZoneInfo TimeZone { get; init; }

    /// <summary>Consumer or producer.</summary>
    public required FactorRole Role { get; init; }

    /// <summary>α: supply-side reward weight below the permit.</summary>
    public required decimal Alpha { get; init; }

    /// <summary>β: supply-side penalty weight above the permit.</summary>
    public required decimal Beta { get; init; }

    /// <summary>γ: weight of the clean share.</summary>
    public required decimal Gamma { get; init; }

    /// <summary>δ: weight of avoided CO2 from demand response.</summary>
    public required decimal Delta { get; init; }

    /// <summary>Grid emission factor in kg CO2 per kWh.</summary>
    public required decimal EfGridKgPerKwh { get; init; }

    /// <summary>Lower carbon threshold; below it tokens are negative.</summary>
    public required decimal F1 { get; init; }

    /// <summary>Upper carbon threshold; above it tokens are positive. Greater than <see cref="F1"/>.</summary>
    public required decimal F2 { get; init; }

    /// <summary>μ: penalty slope below <see cref="F1"/>.</summary>
    public required decimal Mu { get; init; }

    /// <summary>λ: reward slope above <see cref="F2"/>.</summary>
    public required decimal Lambda { get; init; }

    /// <summary>Cap on carbon tokens and on a positive month total.</summary>
    public required long NMax { get; init; }

    /// <summary>The step function <c>g</c>, sorted by ascending <see cref="CongestionStep.MinKw"/>.</summary>
    public required IReadOnlyList<CongestionStep> CongestionSteps { get; init; }

    /// <summary>C_T: congestion factor per issuance; greater than 0.</summary>
    public required decimal CongestionThreshold { get; init; }

    /// <summary>T_C: tokens per whole <see cref="CongestionThreshold"/> reached.</summary>
    public required long TokensPerCongestionThreshold { get; init; }

    /// <summary>S_permit: the producer's monthly emission allowance; required (> 0) for a producer.</summary>
    public decimal? SPermit { get; init; }

    /// <summary>S: the producer's emissions this month; required (≥ 0) for a producer.</summary>
    public decimal? S { get; init; }

    /// <summary>
    /// Checks the relations between fields; throws <see cref="FactorInputException"/> naming the field as
    /// <c>{prefix}.name</c> (the JSON spelling).
    /// </summary>
    public void Validate(string prefix = "params")
    {
        NotNegative(Alpha, "alpha");
        NotNegative(Beta, "beta");
        NotNegative(Gamma, "gamma");
        NotNegative(Delta, "delta");
        NotNegative(EfGridKgPerKwh, "efGridKgPerKwh");
        NotNegative(Mu, "mu");
        NotNegative(Lambda, "lambda");
        if (F1 >= F2)
        {
            throw new FactorInputException($"{prefix}.f1", $"must be less than {prefix}.f2");
        }
        if (NMax < 0)
        {
            throw new FactorInputException($"{prefix}.nMax", "must not be negative");
        }
        if (CongestionThreshold <= 0)
        {
            throw new FactorInputException($"{prefix}.congestionThreshold", "must be greater than 0");
        }
        if (TokensPerCongestionThreshold < 0)
        {
            throw new FactorInputException($"{prefix}.tokensPerCongestionThreshold", "must not be negative");
        }
        for (var i = 0; i < CongestionSteps.Count; i++)
        {
            var step = CongestionSteps[i];
            if (step.MinKw <= 0)
            {
                throw new FactorInputException($"{prefix}.congestionSteps[{i}].minKw", "must be greater than 0");
            }
            if (step.Factor < 0)
            {
                throw new FactorInputException($"{prefix}.congestionSteps[{i}].factor", "must not be negative");
            }
            if (i > 0 && CongestionSteps[i - 1].MinKw >= step.MinKw)
            {
                throw new FactorInputException($"{prefix}.congestionSteps[{i}].minKw", "must be greater than the previous step's minKw");
            }
        }
        if (Role == FactorRole.Producer)
        {
            if (SPermit is not { } permit)
            {
                throw new FactorInputException($"{prefix}.sPermit", "required for a producer");
            }
            if (permit <= 0)
            {
                throw new FactorInputException($"{prefix}.sPermit", "must be greater than 0");
            }
            if (S is not { } s)
            {
                throw new FactorInputException($"{prefix}.s", "required for a producer");
            }
            if (s < 0)
            {
                throw new FactorInputException($"{prefix}.s", "must not be negative");
            }
        }

        void NotNegative(decimal value, string name)
        {
            if (value < 0)
            {
                throw new FactorInputException($"{prefix}.{name}", "must not be negative");
            }
        }
    }
}
