using System.Buffers;
using System.Security.Cryptography;

namespace EdgeMeter.Protocols.Dlms.Simulator;

/// <summary>A register of the simulated meter: its value is a function of time so the load profile agrees with it.</summary>
public sealed record SimulatedRegister(ObisCode LogicalName, DlmsDataType Type, sbyte Scaler, DlmsUnit Unit, Func<DateTimeOffset, long> ValueAt);

/// <summary>Security settings of the simulated meter; each non-null setting admits one authentication level.</summary>
public sealed record SimulatedMeterSecurity
{
    /// <summary>Whether associations without authentication are accepted.</summary>
    public bool AllowNoAuthentication { get; init; } = true;

    /// <summary>The LLS password, or null when low authentication is not offered.</summary>
    public byte[]? Password { get; init; }

    /// <summary>EK for HLS-GMAC, or null when HLS is not offered.</summary>
    public byte[]? BlockCipherKey { get; init; }

    /// <summary>AK for HLS-GMAC.</summary>
    public byte[]? AuthenticationKey { get; init; }

    /// <summary>The meter's system title (8 bytes).</summary>
    public byte[] SystemTitle { get; init; } = "EDGSIM01"u8.ToArray();

    /// <summary>The largest APDU the meter receives.</summary>
    public ushort MaxPdu { get; init; } = 1024;
}

/// <summary>
/// A simulated DLMS/COSEM meter: registers, a clock, a load profile (clock and energy, one row per capture period)
/// and the Association LN object list, with none / low / HLS-GMAC security. <see cref="CreateSession"/> gives the
/// application-layer state of one association; the links in <see cref="DlmsSimulatorServer"/> carry its APDUs.
/// </summary>
public sealed class SimulatedDlmsMeter
{
    /// <summary>The load profile's logical name.</summary>
    public static ObisCode LoadProfile { get; } = new(1, 0, 99, 1, 0, 255);

    /// <summary>The energy register the load profile captures.</summary>
    public static ObisCode ActiveEnergyImport { get; } = new(1, 0, 1, 8, 0, 255);

    private readonly Dictionary<ObisCode, SimulatedRegister> _registers;
    private uint _serverCounter;
    private readonly Lock _counterLock = new();

    /// <summary>Creates a meter with the given registers (the one for 1.0.1.8.0.255 fills the profile).</summary>
    public SimulatedDlmsMeter(IEnumerable<SimulatedRegister> registers, SimulatedMeterSecurity security, TimeProvider? time = null, uint capturePeriodSeconds = 900, uint profileEntries = 960)
    {
        _registers = registers.ToDictionary(r => r.LogicalName);
        Security = security;
        Time = time ?? TimeProvider.System;
        CapturePeriodSeconds = capturePeriodSeconds;
        ProfileEntries = profileEntries;
    }

    /// <summary>A meter with imported energy rising by <paramref name="wattHoursPerHour"/>, exported energy, power and voltage.</summary>
    public static SimulatedDlmsMeter Typical(SimulatedMeterSecurity security, TimeProvider? time = null, long wattHoursPerHour = 1200, uint capturePeriodSeconds = 900)
    {
        var epoch = new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
        return new SimulatedDlmsMeter(
        [
            new(ActiveEnergyImport, DlmsDataType.DoubleLongUnsigned, 0, DlmsUnit.WattHour,
                t => 5_000_000 + (long)((t - epoch).TotalSeconds * wattHoursPerHour / 3600)),
            new(new ObisCode(1, 0, 2, 8, 0, 255), DlmsDataType.DoubleLongUnsigned, 0, DlmsUnit.WattHour, _ => 12_345),
            new(new ObisCode(1, 0, 1, 7, 0, 255), DlmsDataType.DoubleLong, -1, DlmsUnit.Watt, _ => wattHoursPerHour * 10),
            new(new ObisCode(1, 0, 32, 7, 0, 255), DlmsDataType.LongUnsigned, -1, DlmsUnit.Volt, t => 2300 + (t.Second % 7)),
        ], security, time, capturePeriodSeconds);
    }

    /// <summary>The security settings.</summary>
    public SimulatedMeterSecurity Security { get; }

    /// <summary>Draws the StoC challenge for HLS; a CSPRNG (16 bytes) unless the host brings its own or a test pins it.</summary>
    public Func<byte[]> ChallengeFactory { get; set; } = () => RandomNumberGenerator.GetBytes(16);

    /// <summary>The meter's clock.</summary>
    public TimeProvider Time { get; }

    /// <summary>Seconds between profile rows.</summary>
    public uint CapturePeriodSeconds { get; }

    /// <summary>Rows kept in the profile buffer.</summary>
    public uint ProfileEntries { get; }

    /// <summary>Starts an association's state machine.</summary>
    public DlmsServerSession CreateSession() => new(this);

    internal uint NextServerCounter()
    {
        lock (_counterLock)
        {
            return _serverCounter++;
        }
    }

    internal bool TryGetRegister(ObisCode name, out SimulatedRegister register) => _registers.TryGetValue(name, out register!);

    internal IEnumerable<SimulatedRegister> Registers => _registers.Values;

    /// <summary>The profile rows (oldest first): the last <see cref="ProfileEntries"/> period ends up to now.</summary>
    internal List<(DateTimeOffset Time, long Energy)> ProfileRows()
    {
        var now = Time.GetUtcNow();
        long period = CapturePeriodSeconds;
        long lastEnd = now.ToUnixTimeSeconds() / period * period;
        var energy = _registers.TryGetValue(ActiveEnergyImport, out var e) ? e.ValueAt : (_ => 0);
        var rows = new List<(DateTimeOffset, long)>((int)ProfileEntries);
        for (long i = ProfileEntries - 1; i >= 0; i--)
        {
            var t = DateTimeOffset.FromUnixTimeSeconds(lastEnd - (i * period));
            rows.Add((t, energy(t)));
        }

        return rows;
    }
}

/// <summary>The application-layer state of one association with the simulated meter.</summary>
public sealed class DlmsServerSession
{
    private static readonly ObisCode Association = ObisCode.CurrentAssociation;
    private readonly SimulatedDlmsMeter _meter;
    private DlmsCipher? _cipher;
    private byte[]? _clientTitle;
    private byte[]? _clientChallenge;
    private byte[]? _serverChallenge;
    private uint? _lastClientCounter;
    private bool _associated;
    private bool _authenticated;
    private ushort _maxPdu = 1024;
    private readonly Queue<byte[]> _blocks = new();
    private uint _blockNumber;

    internal DlmsServerSession(SimulatedDlmsMeter meter) => _meter = meter;

    /// <summary>Answers one request APDU; null when nothing is to be sent.</summary>
    public byte[]? Handle(ReadOnlySpan<byte> request)
    {
        if (request.IsEmpty)
        {
            return null;
        }

        switch (request[0])
        {
            case AarqApdu.Tag:
                return Associate(request);
            case Xdlms.ReleaseRequestTag:
                Reset();
                return [Xdlms.ReleaseResponseTag, 0x03, 0x80, 0x01, 0x00];
            case Xdlms.GloGetRequestTag or Xdlms.GloActionRequestTag when _cipher is not null && _associated:
                {
                    byte[] plain;
                    try
                    {
                        plain = _cipher.Decrypt(request, _clientTitle, out uint counter);
                        if (counter <= _lastClientCounter)
                        {
                            return null;
                        }

                        _lastClientCounter = counter;
                    }
                    catch (DlmsException)
                    {
                        return null;
                    }

                    byte[]? answer = HandlePlain(plain);
                    if (answer is null)
                    {
                        return null;
                    }

                    byte tag = answer[0] == Xdlms.GetResponseTag ? Xdlms.GloGetResponseTag : Xdlms.GloActionResponseTag;
                    return _cipher.Encrypt(tag, _meter.Security.SystemTitle, _meter.NextServerCounter(), answer);
                }

            default:
                return _associated && _cipher is null ? HandlePlain(request.ToArray()) : [Xdlms.ExceptionResponseTag, 1, 2];
        }
    }

    private void Reset()
    {
        _associated = false;
        _authenticated = false;
        _cipher?.Dispose();
        _cipher = null;
        _blocks.Clear();
    }

    private byte[] Associate(ReadOnlySpan<byte> request)
    {
        Reset();
        var security = _meter.Security;
        AarqApdu aarq;
        try
        {
            aarq = AarqApdu.Decode(request);
        }
        catch (DlmsException)
        {
            return Reject(2, 1, null);
        }

        byte[] initiate = aarq.UserInformation;
        switch (aarq.Authentication)
        {
            case DlmsAuthentication.None when security.AllowNoAuthentication && !aarq.Ciphered:
                _authenticated = true;
                break;
            case DlmsAuthentication.Low when security.Password is not null && !aarq.Ciphered:
                if (aarq.AuthenticationValue is null || !CryptographicOperations.FixedTimeEquals(aarq.AuthenticationValue, security.Password))
                {
                    return Reject(1, 13, null);
                }

                _authenticated = true;
                break;
            case DlmsAuthentication.HlsGmac when security.BlockCipherKey is not null && security.AuthenticationKey is not null && aarq.Ciphered:
                if (aarq.CallingApTitle is not { Length: 8 } || aarq.AuthenticationValue is null || initiate.Length == 0 || initiate[0] != Xdlms.GloInitiateRequestTag)
                {
                    return Reject(1, 13, null);
                }

                _cipher = new DlmsCipher(security.BlockCipherKey, security.AuthenticationKey);
                _clientTitle = aarq.CallingApTitle;
                try
                {
                    initiate = _cipher.Decrypt(initiate, _clientTitle, out uint counter);
                    _lastClientCounter = counter;
                }
                catch (DlmsException)
                {
                    Reset();
                    return Reject(1, 13, null);
                }

                _clientChallenge = aarq.AuthenticationValue;
                _serverChallenge = _meter.ChallengeFactory();
                break;
            default:
                return Reject(1, (byte)(aarq.Authentication == DlmsAuthentication.None ? 14 : 11), null);
        }

        InitiateRequest proposed;
        try
        {
            proposed = InitiateRequest.Decode(initiate);
        }
        catch (DlmsException)
        {
            Reset();
            return Reject(1, 1, null);
        }

        _maxPdu = Math.Min(proposed.ClientMaxReceivePduSize, security.MaxPdu);
        _associated = true;
        // The server's own receive size is announced as is; what we send is bounded by the client's size (_maxPdu).
        var response = new InitiateResponse(proposed.ProposedConformance & 0x001E5D, security.MaxPdu).Encode();
        if (_cipher is null)
        {
            return new AareApdu(false, AssociationResult.Accepted, 1, 0, null, aarq.Authentication, null, response).Encode();
        }

        var user = _cipher.Encrypt(Xdlms.GloInitiateResponseTag, security.SystemTitle, _meter.NextServerCounter(), response);
        return new AareApdu(true, AssociationResult.Accepted, 1, 14, security.SystemTitle, DlmsAuthentication.HlsGmac, _serverChallenge, user).Encode();
    }

    private static byte[] Reject(byte source, byte diagnostic, byte[]? user) =>
        new AareApdu(false, AssociationResult.RejectedPermanent, source, diagnostic, null, DlmsAuthentication.None, null,
            user ?? new InitiateResponse(0x001E1D, 1024).Encode()).Encode();

    private byte[]? HandlePlain(byte[] apdu)
    {
        try
        {
            if (apdu[0] == Xdlms.ActionRequestTag)
            {
                return HlsPass(apdu);
            }

            if (apdu[0] != Xdlms.GetRequestTag)
            {
                return [Xdlms.ExceptionResponseTag, 1, 2];
            }

            var request = Xdlms.DecodeGetRequest(apdu);
            switch (request.Kind)
            {
                case GetKind.Normal:
                    {
                        var result = _authenticated ? Read(request.Items[0].Attribute, request.Items[0].Access) : new GetResult(null, DataAccessResult.ReadWriteDenied);
                        return Respond(request.InvokeIdAndPriority, result);
                    }

                case GetKind.WithList:
                    return Xdlms.GetResponseWithList(request.InvokeIdAndPriority,
                        [.. request.Items.Select(i => _authenticated ? Read(i.Attribute, i.Access) : new GetResult(null, DataAccessResult.ReadWriteDenied))]);
                default:
                    if (request.BlockNumber != _blockNumber || _blocks.Count == 0)
                    {
                        return Xdlms.GetResponseNormal(request.InvokeIdAndPriority, new GetResult(null, DataAccessResult.NoLongGetInProgress));
                    }

                    _blockNumber++;
                    byte[] block = _blocks.Dequeue();
                    return Xdlms.GetResponseBlock(request.InvokeIdAndPriority, _blocks.Count == 0, _blockNumber, block);
            }
        }
        catch (DlmsException)
        {
            return [Xdlms.ExceptionResponseTag, 1, 2];
        }
    }

    private byte[] Respond(byte invokeId, GetResult result)
    {
        byte[] normal = Xdlms.GetResponseNormal(invokeId, result);
        int overhead = _cipher is null ? 0 : 24;
        if (normal.Length + overhead <= _maxPdu || result.Value is null)
        {
            return normal;
        }

        // Too long for the client: get-response-with-datablock, each APDU at most the negotiated PDU size.
        var data = new ArrayBufferWriter<byte>();
        data.WriteValue(result.Value);
        int chunk = Math.Max(16, _maxPdu - 12 - overhead);
        _blocks.Clear();
        var raw = data.WrittenSpan;
        for (int p = 0; p < raw.Length; p += chunk)
        {
            _blocks.Enqueue(raw.Slice(p, Math.Min(chunk, raw.Length - p)).ToArray());
        }

        _blockNumber = 1;
        byte[] first = _blocks.Dequeue();
        return Xdlms.GetResponseBlock(invokeId, _blocks.Count == 0, 1, first);
    }

    private byte[] HlsPass(byte[] apdu)
    {
        var (invokeId, classId, name, method, parameters) = Xdlms.DecodeActionRequest(apdu);
        if (_cipher is null || classId != 15 || name != Association || method != 1 || parameters?.Type != DlmsDataType.OctetString ||
            !_cipher.VerifyHlsResponse(parameters.Bytes, _clientTitle, _serverChallenge))
        {
            return Xdlms.ActionResponse(invokeId, (byte)DataAccessResult.ReadWriteDenied, null);
        }

        _authenticated = true;
        var answer = _cipher.HlsResponse(_meter.Security.SystemTitle, _meter.NextServerCounter(), _clientChallenge);
        return Xdlms.ActionResponse(invokeId, 0, DlmsValue.OctetString(answer));
    }

    private GetResult Read(CosemAttribute attribute, SelectiveAccess? access)
    {
        var name = attribute.LogicalName;
        var ln = DlmsValue.OctetString([name.A, name.B, name.C, name.D, name.E, name.F]);
        if (name == ObisCode.Clock)
        {
            return attribute.ClassId != 8 ? Fail(DataAccessResult.ObjectClassInconsistent) : attribute.Attribute switch
            {
                1 => Ok(ln),
                2 => Ok(DlmsValue.OctetString(ClockNow())),
                3 => Ok(DlmsValue.FromSigned(DlmsDataType.Long, 0)),
                _ => Fail(DataAccessResult.ReadWriteDenied),
            };
        }

        if (_meter.TryGetRegister(name, out var register))
        {
            if (attribute.ClassId != 3)
            {
                return Fail(DataAccessResult.ObjectClassInconsistent);
            }

            return attribute.Attribute switch
            {
                1 => Ok(ln),
                2 => Ok(Value(register, _meter.Time.GetUtcNow())),
                3 => Ok(DlmsValue.FromItems(DlmsDataType.Structure, DlmsValue.FromSigned(DlmsDataType.Integer, register.Scaler), DlmsValue.FromUnsigned(DlmsDataType.Enum, (byte)register.Unit))),
                _ => Fail(DataAccessResult.ReadWriteDenied),
            };
        }

        if (name == SimulatedDlmsMeter.LoadProfile)
        {
            return attribute.ClassId != 7 ? Fail(DataAccessResult.ObjectClassInconsistent) : attribute.Attribute switch
            {
                1 => Ok(ln),
                2 => Buffer(access),
                3 => Ok(DlmsValue.FromItems(DlmsDataType.Array, CaptureObject(8, ObisCode.Clock), CaptureObject(3, SimulatedDlmsMeter.ActiveEnergyImport))),
                4 => Ok(DlmsValue.FromUnsigned(DlmsDataType.DoubleLongUnsigned, _meter.CapturePeriodSeconds)),
                7 => Ok(DlmsValue.FromUnsigned(DlmsDataType.DoubleLongUnsigned, _meter.ProfileEntries)),
                8 => Ok(DlmsValue.FromUnsigned(DlmsDataType.DoubleLongUnsigned, _meter.ProfileEntries)),
                _ => Fail(DataAccessResult.ReadWriteDenied),
            };
        }

        if (name == Association && attribute.ClassId == 15 && attribute.Attribute == 2)
        {
            var objects = new List<DlmsValue> { ObjectEntry(15, 2, Association), ObjectEntry(8, 0, ObisCode.Clock), ObjectEntry(7, 1, SimulatedDlmsMeter.LoadProfile) };
            objects.AddRange(_meter.Registers.Select(r => ObjectEntry(3, 0, r.LogicalName)));
            return Ok(DlmsValue.FromItems(DlmsDataType.Array, [.. objects]));
        }

        return Fail(DataAccessResult.ObjectUndefined);
    }

    private GetResult Buffer(SelectiveAccess? access)
    {
        var rows = _meter.ProfileRows();
        IEnumerable<(DateTimeOffset Time, long Energy)> selected = rows;
        if (access is { Selector: 1 } range && range.Parameters.Type == DlmsDataType.Structure && range.Parameters.Items.Count >= 3)
        {
            var from = CosemDateTime.From(range.Parameters.Items[1]).ToDateTimeOffset();
            var to = CosemDateTime.From(range.Parameters.Items[2]).ToDateTimeOffset();
            if (from is null || to is null)
            {
                return Fail(DataAccessResult.OtherReason);
            }

            selected = rows.Where(r => r.Time >= from && r.Time <= to);
        }
        else if (access is { Selector: 2 } entry && entry.Parameters.Type == DlmsDataType.Structure && entry.Parameters.Items.Count >= 2)
        {
            long first = Math.Max(1, entry.Parameters.Items[0].ToInt64());
            long last = entry.Parameters.Items[1].ToInt64();
            last = last == 0 ? rows.Count : Math.Min(last, rows.Count);
            selected = first > last ? [] : rows.Skip((int)first - 1).Take((int)(last - first + 1));
        }
        else if (access is not null)
        {
            return Fail(DataAccessResult.OtherReason);
        }

        var energy = _meter.TryGetRegister(SimulatedDlmsMeter.ActiveEnergyImport, out var reg) ? reg : null;
        return Ok(DlmsValue.FromItems(DlmsDataType.Array, [.. selected.Select(r => DlmsValue.FromItems(DlmsDataType.Structure,
            DlmsValue.OctetString(CosemDateTime.FromUtc(r.Time).Encode()),
            energy is null ? DlmsValue.Null : Value(energy, r.Time)))]));
    }

    private byte[] ClockNow()
    {
        var now = _meter.Time.GetUtcNow();
        var time = CosemDateTime.FromUtc(now) with { Hundredths = (byte)(now.Millisecond / 10) };
        return time.Encode();
    }

    private static DlmsValue Value(SimulatedRegister register, DateTimeOffset at)
    {
        long v = register.ValueAt(at);
        return register.Type is DlmsDataType.DoubleLong or DlmsDataType.Long or DlmsDataType.Integer or DlmsDataType.Long64
            ? DlmsValue.FromSigned(register.Type, v)
            : DlmsValue.FromUnsigned(register.Type, (ulong)v);
    }

    private static DlmsValue CaptureObject(ushort classId, ObisCode name) => DlmsValue.FromItems(DlmsDataType.Structure,
        DlmsValue.FromUnsigned(DlmsDataType.LongUnsigned, classId),
        DlmsValue.OctetString([name.A, name.B, name.C, name.D, name.E, name.F]),
        DlmsValue.FromSigned(DlmsDataType.Integer, 2),
        DlmsValue.FromUnsigned(DlmsDataType.LongUnsigned, 0));

    private static DlmsValue ObjectEntry(ushort classId, byte version, ObisCode name) => DlmsValue.FromItems(DlmsDataType.Structure,
        DlmsValue.FromUnsigned(DlmsDataType.LongUnsigned, classId),
        DlmsValue.FromUnsigned(DlmsDataType.Unsigned, version),
        DlmsValue.OctetString([name.A, name.B, name.C, name.D, name.E, name.F]),
        DlmsValue.FromItems(DlmsDataType.Structure, DlmsValue.FromItems(DlmsDataType.Array), DlmsValue.FromItems(DlmsDataType.Array)));

    private static GetResult Ok(DlmsValue value) => new(value, DataAccessResult.Success);

    private static GetResult Fail(DataAccessResult result) => new(null, result);
}
