namespace EdgeMeter.Protocols.Modbus;

/// <summary>How a quantity is encoded in one or more registers.</summary>
public enum RegisterDataType
{
    /// <summary>Signed 16-bit, one register.</summary>
    Int16,
    /// <summary>Unsigned 16-bit, one register.</summary>
    UInt16,
    /// <summary>Signed 32-bit, two registers.</summary>
    Int32,
    /// <summary>Unsigned 32-bit, two registers (SunSpec uint32/acc32).</summary>
    UInt32,
    /// <summary>Signed 64-bit, four registers.</summary>
    Int64,
    /// <summary>Unsigned 64-bit, four registers (ABB energy counters).</summary>
    UInt64,
    /// <summary>IEEE 754 single, two registers.</summary>
    Float32,
    /// <summary>IEEE 754 double, four registers.</summary>
    Float64,
}

/// <summary>Order of units within a multi-unit value.</summary>
public enum RegisterOrder
{
    /// <summary>Most significant first (Modbus' native order).</summary>
    Big,
    /// <summary>Least significant first ("swapped").</summary>
    Little,
}

/// <summary>A probe: registers whose exact content identifies a device family (e.g. SunSpec's "SunS" marker).</summary>
/// <param name="Function">3 or 4.</param>
/// <param name="Address">First register.</param>
/// <param name="Values">Expected register values.</param>
public sealed record RegisterProbe(ModbusFunction Function, ushort Address, IReadOnlyList<ushort> Values);

/// <summary>One quantity of a meter: where it is, how it is encoded, and how it is recorded.</summary>
public sealed record RegisterDefinition
{
    /// <summary>Standard quantity name, e.g. <c>import_active_energy</c>, <c>voltage_l1</c>.</summary>
    public required string Quantity { get; init; }

    /// <summary>Zero-based protocol address of the first register.</summary>
    public required ushort Address { get; init; }

    /// <summary><see cref="ModbusFunction.ReadHoldingRegisters"/> or <see cref="ModbusFunction.ReadInputRegisters"/>.</summary>
    public required ModbusFunction Function { get; init; }

    /// <summary>Encoding of the raw value.</summary>
    public required RegisterDataType Type { get; init; }

    /// <summary>Order of the 16-bit words of a multi-register value.</summary>
    public RegisterOrder WordOrder { get; init; } = RegisterOrder.Big;

    /// <summary>Order of the two bytes inside each register.</summary>
    public RegisterOrder ByteOrder { get; init; } = RegisterOrder.Big;

    /// <summary>Fixed factor from the raw value to <see cref="Unit"/> (e.g. 1000 for kWh recorded as Wh, 0.1 for V·10).</summary>
    public decimal Scale { get; init; } = 1m;

    /// <summary>SunSpec scale-factor register (int16 power of ten, same function), applied on top of <see cref="Scale"/>.</summary>
    public ushort? ScaleFactorAddress { get; init; }

    /// <summary>Unit of the recorded value: Wh, W, V, A, Hz, or empty for power factor.</summary>
    public required string Unit { get; init; }

    /// <summary>OBIS code of the quantity, e.g. <c>1-0:1.8.0*255</c>.</summary>
    public required string Obis { get; init; }

    /// <summary>Decimal exponent of the recorded resolution: value = mantissa · 10^Scaler.</summary>
    public required sbyte Scaler { get; init; }

    /// <summary>Free text from the manufacturer's documentation (register name, page).</summary>
    public string? Description { get; init; }

    /// <summary>Registers the value occupies.</summary>
    public int RegisterCount => RegisterCodec.RegisterCount(Type);
}

/// <summary>A meter's register map: loaded from JSON (see hardware/register-maps/README.md).</summary>
public sealed record RegisterMap
{
    /// <summary>Map name, e.g. <c>eastron-sdm630</c>.</summary>
    public required string Name { get; init; }

    /// <summary>Manufacturer.</summary>
    public string Manufacturer { get; init; } = "";

    /// <summary>Model or family.</summary>
    public string Model { get; init; } = "";

    /// <summary>Where the addresses come from.</summary>
    public string Documentation { get; init; } = "";

    /// <summary>Most registers the device answers in one read request (at most 125).</summary>
    public required int MaxRegistersPerRequest { get; init; }

    /// <summary>
    /// Most unused registers a coalesced request may span between two wanted ones; 0 means only adjacent
    /// registers are merged (for devices that reject reads touching undefined addresses).
    /// </summary>
    public int MaxGapRegisters { get; init; }

    /// <summary>The quantities.</summary>
    public required IReadOnlyList<RegisterDefinition> Registers { get; init; }

    /// <summary>Registers whose content identifies the device family; empty if none.</summary>
    public IReadOnlyList<RegisterProbe> Probes { get; init; } = [];

    /// <summary>The definition for <paramref name="quantity"/>, or null.</summary>
    public RegisterDefinition? Find(string quantity)
    {
        foreach (var r in Registers)
        {
            if (string.Equals(r.Quantity, quantity, StringComparison.Ordinal))
            {
                return r;
            }
        }

        return null;
    }
}

/// <summary>One reading of one quantity: value = <see cref="Mantissa"/> · 10^<see cref="Scaler"/> <see cref="Unit"/>.</summary>
/// <param name="Quantity">Standard quantity name.</param>
/// <param name="Obis">OBIS code.</param>
/// <param name="Mantissa">Scaled integer value.</param>
/// <param name="Scaler">Decimal exponent.</param>
/// <param name="Unit">Unit.</param>
public readonly record struct QuantityReading(string Quantity, string Obis, long Mantissa, sbyte Scaler, string Unit)
{
    /// <summary>The value as a decimal, keeping exactly <c>-Scaler</c> decimal places when the scaler is negative.</summary>
    public decimal Value => RegisterCodec.ToDecimal(Mantissa, Scaler);

    /// <summary>The value in invariant culture with exactly the recorded decimal places.</summary>
    public string FormatValue() => Value.ToString(System.Globalization.CultureInfo.InvariantCulture);
}
