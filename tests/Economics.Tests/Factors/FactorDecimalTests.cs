using EdgeMeter.Economics;
using Xunit;

namespace EdgeMeter.Economics.Tests.Factors;

public sealed class FactorDecimalTests
{
    [Theory]
    [InlineData("0.0000005", "0.000001")]
    [InlineData("-0.0000005", "-0.000001")]
    [InlineData("1.2345665", "1.234567")]
    [InlineData("1.23456649999", "1.234566")]
    [InlineData("2.50000000", "2.5")]
    [InlineData("-0.0000004", "0")]
    [InlineData("300", "300")]
    public void Rounds_half_away_from_zero_to_six_places_without_trailing_zeros(string input, string expected)
    {
        var value = decimal.Parse(input, System.Globalization.CultureInfo.InvariantCulture);
        Assert.Equal(expected, FactorDecimal.Format(FactorDecimal.Round6(value)));
    }
}
