using System.Globalization;

namespace EdgeMeter.Protocols.Dlms;

/// <summary>Units of the scaler_unit attribute (IEC 62056-6-2, table of units); the common electrical ones by name.</summary>
public enum DlmsUnit : byte
{
    /// <summary>Not given.</summary>
    None = 0,
    /// <summary>Year.</summary>
    Year = 1,
    /// <summary>Month.</summary>
    Month = 2,
    /// <summary>Week.</summary>
    Week = 3,
    /// <summary>Day.</summary>
    Day = 4,
    /// <summary>Hour.</summary>
    Hour = 5,
    /// <summary>Minute.</summary>
    Minute = 6,
    /// <summary>Second.</summary>
    Second = 7,
    /// <summary>Degree (phase angle).</summary>
    Degree = 8,
    /// <summary>Degree Celsius.</summary>
    DegreeCelsius = 9,
    /// <summary>Currency.</summary>
    Currency = 10,
    /// <summary>Cubic metre.</summary>
    CubicMetre = 13,
    /// <summary>Watt.</summary>
    Watt = 27,
    /// <summary>Volt-ampere.</summary>
    VoltAmpere = 28,
    /// <summary>var.</summary>
    Var = 29,
    /// <summary>Watt-hour.</summary>
    WattHour = 30,
    /// <summary>Volt-ampere-hour.</summary>
    VoltAmpereHour = 31,
    /// <summary>var-hour.</summary>
    VarHour = 32,
    /// <summary>Ampere.</summary>
    Ampere = 33,
    /// <summary>Coulomb.</summary>
    Coulomb = 34,
    /// <summary>Volt.</summary>
    Volt = 35,
    /// <summary>Hertz.</summary>
    Hertz = 44,
    /// <summary>Percent.</summary>
    Percent = 56,
    /// <summary>Ampere-hour.</summary>
    AmpereHour = 57,
    /// <summary>Other unit.</summary>
    Other = 254,
    /// <summary>No unit, a count.</summary>
    Count = 255,
}

/// <summary>Symbols for <see cref="DlmsUnit"/>.</summary>
public static class DlmsUnits
{
    /// <summary>The symbol, e.g. <c>Wh</c>; an empty string for a count; <c>unit N</c> for codes without a symbol here.</summary>
    public static string Symbol(DlmsUnit unit) => unit switch
    {
        DlmsUnit.None or DlmsUnit.Count => "",
        DlmsUnit.Year => "a",
        DlmsUnit.Month => "mo",
        DlmsUnit.Week => "wk",
        DlmsUnit.Day => "d",
        DlmsUnit.Hour => "h",
        DlmsUnit.Minute => "min",
        DlmsUnit.Second => "s",
        DlmsUnit.Degree => "°",
        DlmsUnit.DegreeCelsius => "°C",
        DlmsUnit.Currency => "currency",
        DlmsUnit.CubicMetre => "m3",
        DlmsUnit.Watt => "W",
        DlmsUnit.VoltAmpere => "VA",
        DlmsUnit.Var => "var",
        DlmsUnit.WattHour => "Wh",
        DlmsUnit.VoltAmpereHour => "VAh",
        DlmsUnit.VarHour => "varh",
        DlmsUnit.Ampere => "A",
        DlmsUnit.Coulomb => "C",
        DlmsUnit.Volt => "V",
        DlmsUnit.Hertz => "Hz",
        DlmsUnit.Percent => "%",
        DlmsUnit.AmpereHour => "Ah",
        _ => string.Create(CultureInfo.InvariantCulture, $"unit {(byte)unit}"),
    };
}

/// <summary>
/// A register value with its scaler_unit: <c>Raw × 10^Scaler</c> in <see cref="Unit"/>. The scaled value is computed in
/// <see cref="decimal"/>, so 30457 with scaler −1 is exactly 3045.7.
/// </summary>
public sealed record DlmsQuantity(DlmsValue Raw, sbyte Scaler, DlmsUnit Unit)
{
    /// <summary>The scaled value, exact.</summary>
    public decimal Value => Scale(Raw.ToDecimal(), Scaler);

    /// <summary>Multiplies by a power of ten in decimal arithmetic; throws <see cref="DlmsException"/> on overflow.</summary>
    public static decimal Scale(decimal raw, sbyte scaler)
    {
        if (scaler == 0)
        {
            return raw;
        }

        if (scaler is < -28 or > 28)
        {
            throw new DlmsException($"scaler {scaler} is out of range");
        }

        try
        {
            decimal factor = scaler > 0 ? Pow10(scaler) : new decimal(1, 0, 0, false, (byte)-scaler);
            return raw * factor;
        }
        catch (OverflowException ex)
        {
            throw new DlmsException($"{raw} × 10^{scaler} does not fit a decimal", ex);
        }
    }

    private static decimal Pow10(int n)
    {
        decimal result = 1;
        for (int i = 0; i < n; i++)
        {
            result *= 10;
        }

        return result;
    }

    /// <summary>e.g. <c>3045.7 W</c>.</summary>
    public override string ToString()
    {
        string symbol = DlmsUnits.Symbol(Unit);
        string value = Value.ToString(CultureInfo.InvariantCulture);
        return symbol.Length == 0 ? value : value + " " + symbol;
    }
}

/// <summary>One capture object of a Profile Generic: which attribute of which object fills a column.</summary>
public readonly record struct CaptureObject(ushort ClassId, ObisCode LogicalName, sbyte AttributeIndex, ushort DataIndex);

/// <summary>One row of a Profile Generic buffer: one value per capture object.</summary>
public sealed record ProfileRow(IReadOnlyList<DlmsValue> Values);

/// <summary>One entry of the Association LN object list.</summary>
public readonly record struct CosemObjectInfo(ushort ClassId, byte Version, ObisCode LogicalName);
