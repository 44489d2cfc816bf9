namespace EdgeMeter.Protocols.Modbus;

/// <summary>A slave answered with a Modbus exception response.</summary>
public sealed class ModbusException : Exception
{
    /// <summary>Creates the error for an exception response.</summary>
    public ModbusException(ModbusExceptionCode code, byte function, byte unit)
        : base($"unit {unit} answered function 0x{function:X2} with exception 0x{(byte)code:X2} ({Describe(code)})")
    {
        Code = code;
        Function = function;
        Unit = unit;
    }

    /// <summary>Creates an empty instance; prefer the code-carrying constructor.</summary>
    public ModbusException() : this(0, 0, 0) { }

    /// <summary>Creates an instance with a message only; prefer the code-carrying constructor.</summary>
    public ModbusException(string message) : base(message) { }

    /// <summary>Creates an instance with a message and inner exception; prefer the code-carrying constructor.</summary>
    public ModbusException(string message, Exception innerException) : base(message, innerException) { }

    /// <summary>The exception code from the response.</summary>
    public ModbusExceptionCode Code { get; }

    /// <summary>The function code of the request (without the 0x80 error bit).</summary>
    public byte Function { get; }

    /// <summary>The unit (slave) id that answered.</summary>
    public byte Unit { get; }

    /// <summary>Whether the protocol says to try again later (Busy, Acknowledge).</summary>
    public bool IsRetryable => Code is ModbusExceptionCode.ServerDeviceBusy or ModbusExceptionCode.Acknowledge;

    internal static string Describe(ModbusExceptionCode code) => code switch
    {
        ModbusExceptionCode.IllegalFunction => "illegal function",
        ModbusExceptionCode.IllegalDataAddress => "illegal data address",
        ModbusExceptionCode.IllegalDataValue => "illegal data value",
        ModbusExceptionCode.ServerDeviceFailure => "server device failure",
        ModbusExceptionCode.Acknowledge => "acknowledge",
        ModbusExceptionCode.ServerDeviceBusy => "server device busy",
        ModbusExceptionCode.MemoryParityError => "memory parity error",
        ModbusExceptionCode.GatewayPathUnavailable => "gateway path unavailable",
        ModbusExceptionCode.GatewayTargetFailedToRespond => "gateway target failed to respond",
        _ => "unknown exception code",
    };
}

/// <summary>Why a received frame was rejected.</summary>
public enum ModbusFrameError
{
    /// <summary>The RTU CRC did not match.</summary>
    Crc,
    /// <summary>Bytes that cannot start or form a valid frame (bad MBAP header, unknown function, bad length).</summary>
    Garbage,
    /// <summary>A well-formed frame whose content does not answer the request (wrong function, wrong byte count, bad echo).</summary>
    Mismatch,
}

/// <summary>
/// A response was received but rejected as corrupt or not matching the request; no value was taken from it.
/// </summary>
public sealed class ModbusFrameException : IOException
{
    /// <summary>Creates the error.</summary>
    public ModbusFrameException(ModbusFrameError error, byte unit, string message)
        : base($"unit {unit}: {message}")
    {
        Error = error;
        Unit = unit;
    }

    /// <summary>Creates an empty instance; prefer the error-carrying constructor.</summary>
    public ModbusFrameException() { }

    /// <summary>Creates an instance with a message only.</summary>
    public ModbusFrameException(string message) : base(message) { }

    /// <summary>Creates an instance with a message and inner exception.</summary>
    public ModbusFrameException(string message, Exception innerException) : base(message, innerException) { }

    /// <summary>What was wrong with the frame.</summary>
    public ModbusFrameError Error { get; }

    /// <summary>The unit the request was addressed to.</summary>
    public byte Unit { get; }
}
