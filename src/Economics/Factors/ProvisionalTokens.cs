namespace EdgeMeter.Economics;

/// <summary>Provisional (local, unconfirmed) token estimate for the current month; quantities rounded to 6 places.</summary>
public sealed record ProvisionalTokens
{
    /// <summary>The month, <c>YYYY-MM</c>.</summary>
    public required string Month { get; init; }

    /// <summary>Clean share.</summary>
    public required decimal CleanShare { get; init; }

    /// <summary>F_demand.</summary>
    public required decimal FDemand { get; init; }

    /// <summary>F_supply for a producer, else null.</summary>
    public decimal? FSupply { get; init; }

    /// <summary>Congestion factor C of the month so far.</summary>
    public required decimal CongestionFactor { get; init; }

    /// <summary>Carbon tokens.</summary>
    public required long CarbonTokens { get; init; }

    /// <summary>Congestion tokens.</summary>
    public required long CongestionTokens { get; init; }

    /// <summary>Total tokens.</summary>
    public required long TotalTokens { get; init; }
}
