namespace EdgeMeter.Protocols.Modbus;

/// <summary>A register held a value that cannot be recorded (NaN, infinity, out of range, bad scale factor).</summary>
public sealed class RegisterValueException : Exception
{
    /// <summary>Creates the error for <paramref name="quantity"/>.</summary>
    public RegisterValueException(string quantity, string message) : base($"{quantity}: {message}") => Quantity = quantity;

    /// <summary>Creates an empty instance.</summary>
    public RegisterValueException() => Quantity = "";

    /// <summary>Creates an instance with a message.</summary>
    public RegisterValueException(string message, Exception innerException) : base(message, innerException) => Quantity = "";

    /// <summary>The quantity whose value was rejected.</summary>
    public string Quantity { get; }
}

/// <summary>Converts between registers and recorded values for a <see cref="RegisterDefinition"/>.</summary>
public static class RegisterCodec
{
    private static readonly decimal[] PowersOfTen = BuildPowers();

    /// <summary>Registers a type occupies.</summary>
    public static int RegisterCount(RegisterDataType type) => type switch
    {
        RegisterDataType.Int16 or RegisterDataType.UInt16 => 1,
        RegisterDataType.Int32 or RegisterDataType.UInt32 or RegisterDataType.Float32 => 2,
        _ => 4,
    };

    /// <summary>10^<paramref name="exponent"/> as a decimal, for exponents -28..28.</summary>
    public static decimal Pow10(int exponent)
    {
        if (exponent is < -28 or > 28)
        {
            throw new ArgumentOutOfRangeException(nameof(exponent), exponent, "must be -28..28");
        }

        return exponent >= 0 ? PowersOfTen[exponent] : 1m / PowersOfTen[-exponent];
    }

    /// <summary>Mantissa · 10^scaler, keeping -scaler decimal places (so 2301, -1 prints as 230.1 and 2300, -1 as 230.0).</summary>
    public static decimal ToDecimal(long mantissa, sbyte scaler)
    {
        if (scaler >= 0)
        {
            return mantissa * PowersOfTen[scaler];
        }

        ulong magnitude = mantissa < 0 ? (ulong)(-(mantissa + 1)) + 1 : (ulong)mantissa;
        return new decimal((int)(uint)magnitude, (int)(uint)(magnitude >> 32), 0, mantissa < 0, (byte)-scaler);
    }

    /// <summary>
    /// Decodes the raw value of <paramref name="definition"/> from its registers as read off the wire.
    /// Returns the raw number before <see cref="RegisterDefinition.Scale"/>; floats come back as double.
    /// </summary>
    public static double DecodeFloat(RegisterDefinition definition, ReadOnlySpan<ushort> registers) =>
        definition.Type switch
        {
            RegisterDataType.Float32 => BitConverter.Int32BitsToSingle((int)(uint)Combine(definition, registers)),
            RegisterDataType.Float64 => BitConverter.Int64BitsToDouble((long)Combine(definition, registers)),
            _ => throw new InvalidOperationException($"{definition.Quantity} is not a float"),
        };

    /// <summary>
    /// The recorded value: raw · Scale · 10^scaleFactor, rounded half away from zero to the definition's scaler.
    /// Throws <see cref="RegisterValueException"/> for NaN, infinity or a value that does not fit.
    /// </summary>
    public static long ToMantissa(RegisterDefinition definition, ReadOnlySpan<ushort> registers, short scaleFactor = 0)
    {
        ArgumentNullException.ThrowIfNull(definition);
        if (registers.Length < definition.RegisterCount)
        {
            throw new ArgumentException($"{definition.Quantity} needs {definition.RegisterCount} registers", nameof(registers));
        }

        if (scaleFactor is < -10 or > 10)
        {
            throw new RegisterValueException(definition.Quantity, $"scale factor {scaleFactor} outside -10..10");
        }

        decimal raw;
        ulong bits = Combine(definition, registers);
        switch (definition.Type)
        {
            case RegisterDataType.Int16: raw = (short)(ushort)bits; break;
            case RegisterDataType.UInt16: raw = (ushort)bits; break;
            case RegisterDataType.Int32: raw = (int)(uint)bits; break;
            case RegisterDataType.UInt32: raw = (uint)bits; break;
            case RegisterDataType.Int64: raw = (long)bits; break;
            case RegisterDataType.UInt64: raw = bits; break;
            default:
                double d = DecodeFloat(definition, registers);
                if (!double.IsFinite(d))
                {
                    throw new RegisterValueException(definition.Quantity, $"register holds {(double.IsNaN(d) ? "NaN" : "infinity")}, not a value");
                }

                if (Math.Abs(d) >= 7.9e27)
                {
                    throw new RegisterValueException(definition.Quantity, $"value {d} out of range");
                }

                raw = (decimal)d;
                break;
        }

        try
        {
            decimal value = raw * definition.Scale * Pow10(scaleFactor) / Pow10(definition.Scaler);
            decimal rounded = Math.Round(value, 0, MidpointRounding.AwayFromZero);
            if (rounded is < long.MinValue or > long.MaxValue)
            {
                throw new RegisterValueException(definition.Quantity, $"value {value} does not fit a 64-bit mantissa");
            }

            return (long)rounded;
        }
        catch (OverflowException e)
        {
            throw new RegisterValueException($"{definition.Quantity}: value out of range", e);
        }
    }

    /// <summary>
    /// Encodes <paramref name="value"/> (in the definition's unit) into registers as the device would hold it:
    /// divided by Scale and 10^scaleFactor, rounded half away from zero for integer types. Used by the simulator.
    /// </summary>
    public static void Encode(RegisterDefinition definition, decimal value, Span<ushort> destination, short scaleFactor = 0)
    {
        ArgumentNullException.ThrowIfNull(definition);
        decimal raw = value / definition.Scale / Pow10(scaleFactor);
        ulong bits;
        checked
        {
            decimal r = Math.Round(raw, 0, MidpointRounding.AwayFromZero);
            bits = definition.Type switch
            {
                RegisterDataType.Int16 => unchecked((ushort)(short)r),
                RegisterDataType.UInt16 => (ushort)r,
                RegisterDataType.Int32 => unchecked((uint)(int)r),
                RegisterDataType.UInt32 => (uint)r,
                RegisterDataType.Int64 => unchecked((ulong)(long)r),
                RegisterDataType.UInt64 => (ulong)r,
                RegisterDataType.Float32 => unchecked((uint)BitConverter.SingleToInt32Bits((float)raw)),
                _ => unchecked((ulong)BitConverter.DoubleToInt64Bits((double)raw)),
            };
        }

        Split(definition, bits, destination);
    }

    private static ulong Combine(RegisterDefinition definition, ReadOnlySpan<ushort> registers)
    {
        int n = definition.RegisterCount;
        ulong bits = 0;
        for (int i = 0; i < n; i++)
        {
            // Word order picks which register is most significant; byte order swaps inside each register.
            ushort word = registers[definition.WordOrder == RegisterOrder.Big ? i : n - 1 - i];
            if (definition.ByteOrder == RegisterOrder.Little)
            {
                word = (ushort)((word >> 8) | (word << 8));
            }

            bits = (bits << 16) | word;
        }

        return bits;
    }

    private static void Split(RegisterDefinition definition, ulong bits, Span<ushort> destination)
    {
        int n = definition.RegisterCount;
        for (int i = n - 1; i >= 0; i--)
        {
            ushort word = (ushort)bits;
            bits >>= 16;
            if (definition.ByteOrder == RegisterOrder.Little)
            {
                word = (ushort)((word >> 8) | (word << 8));
            }

            destination[definition.WordOrder == RegisterOrder.Big ? i : n - 1 - i] = word;
        }
    }

    private static decimal[] BuildPowers()
    {
        var p = new decimal[29];
        p[0] = 1m;
        for (int i = 1; i < p.Length; i++)
        {
            p[i] = p[i - 1] * 10m;
        }

        return p;
    }
}
