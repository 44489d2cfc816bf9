namespace EdgeMeter.Protocols.Modbus;

/// <summary>The Modbus function codes this library speaks (Modbus Application Protocol V1.1b3, section 6).</summary>
public enum ModbusFunction : byte
{
    /// <summary>01: read 1..2000 coils.</summary>
    ReadCoils = 0x01,
    /// <summary>02: read 1..2000 discrete inputs.</summary>
    ReadDiscreteInputs = 0x02,
    /// <summary>03: read 1..125 holding registers.</summary>
    ReadHoldingRegisters = 0x03,
    /// <summary>04: read 1..125 input registers.</summary>
    ReadInputRegisters = 0x04,
    /// <summary>05: write one coil.</summary>
    WriteSingleCoil = 0x05,
    /// <summary>06: write one holding register.</summary>
    WriteSingleRegister = 0x06,
    /// <summary>15 (0x0F): write 1..1968 coils.</summary>
    WriteMultipleCoils = 0x0F,
    /// <summary>16 (0x10): write 1..123 holding registers.</summary>
    WriteMultipleRegisters = 0x10,
    /// <summary>43 (0x2B): encapsulated interface transport; MEI type 14 is Read Device Identification.</summary>
    EncapsulatedInterface = 0x2B,
}

/// <summary>Exception codes a slave returns in an exception response (spec section 7).</summary>
public enum ModbusExceptionCode : byte
{
    /// <summary>01: the function code is not supported.</summary>
    IllegalFunction = 0x01,
    /// <summary>02: the address (or address + count) is not valid on this device.</summary>
    IllegalDataAddress = 0x02,
    /// <summary>03: a value in the request is not allowed.</summary>
    IllegalDataValue = 0x03,
    /// <summary>04: unrecoverable error in the device.</summary>
    ServerDeviceFailure = 0x04,
    /// <summary>05: accepted, processing takes long; poll again later (retryable).</summary>
    Acknowledge = 0x05,
    /// <summary>06: the device is busy; retry later (retryable).</summary>
    ServerDeviceBusy = 0x06,
    /// <summary>08: memory parity error.</summary>
    MemoryParityError = 0x08,
    /// <summary>0A: the gateway has no path to the target.</summary>
    GatewayPathUnavailable = 0x0A,
    /// <summary>0B: the gateway's target did not respond.</summary>
    GatewayTargetFailedToRespond = 0x0B,
}

/// <summary>Read Device Identification access codes (function 43, MEI 14).</summary>
public enum ModbusDeviceIdCode : byte
{
    /// <summary>Basic objects 0..2 (vendor, product code, revision), stream access.</summary>
    Basic = 0x01,
    /// <summary>Regular objects 0..0x7F, stream access.</summary>
    Regular = 0x02,
    /// <summary>Extended objects 0..0xFF, stream access.</summary>
    Extended = 0x03,
    /// <summary>One specific object.</summary>
    Specific = 0x04,
}
