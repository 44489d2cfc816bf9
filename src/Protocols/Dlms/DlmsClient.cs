using System.Security.Cryptography;

namespace EdgeMeter.Protocols.Dlms;

/// <summary>How a client associates with a server.</summary>
public sealed record DlmsClientSettings
{
    /// <summary>The client's logical address (also its wrapper wPort): 16 public, 17 reading with password, 1 management are customary.</summary>
    public ushort ClientAddress { get; init; } = 16;

    /// <summary>The authentication mechanism.</summary>
    public DlmsAuthentication Authentication { get; init; }

    /// <summary>The LLS password (low authentication).</summary>
    public byte[]? Password { get; init; }

    /// <summary>Block cipher key EK (16 bytes) for HLS-GMAC.</summary>
    public byte[]? BlockCipherKey { get; init; }

    /// <summary>Authentication key AK (16 bytes) for HLS-GMAC.</summary>
    public byte[]? AuthenticationKey { get; init; }

    /// <summary>Our system title (8 bytes) for HLS-GMAC.</summary>
    public byte[]? ClientSystemTitle { get; init; }

    /// <summary>The proposed conformance block: block transfer, multiple references, get, set, selective access, action.</summary>
    public uint ProposedConformance { get; init; } = 0x001E5D;

    /// <summary>The largest APDU we accept.</summary>
    public ushort MaxReceivePduSize { get; init; } = 0xFFFF;

    /// <summary>invoke-id-and-priority of every request: high priority, confirmed, id 1.</summary>
    public byte InvokeIdAndPriority { get; init; } = 0xC1;

    /// <summary>Draws the CtoS challenge for HLS; a CSPRNG (16 bytes) unless a test pins it.</summary>
    public Func<byte[]> ChallengeFactory { get; init; } = () => RandomNumberGenerator.GetBytes(16);

    /// <summary>The client invocation counter (HLS-GMAC); required for HLS so no value is ever reused.</summary>
    public IInvocationCounterStore? InvocationCounters { get; init; }

    /// <summary>The highest server invocation counter seen in an earlier session; a server answering at or below it is refused.</summary>
    public uint? LastServerInvocationCounter { get; init; }
}

/// <summary>What the server agreed to in the AARE.</summary>
public sealed record DlmsAssociation(uint NegotiatedConformance, ushort ServerMaxReceivePduSize, byte[]? ServerSystemTitle);

/// <summary>
/// A DLMS/COSEM client with Logical Name referencing: association (none, low, HLS-GMAC), GET normal, with-list and
/// with block transfer, ACTION for the HLS pass, release. It knows nothing about frames: an
/// <see cref="IDlmsTransport"/> moves its APDUs.
/// </summary>
public sealed class DlmsClient : IAsyncDisposable
{
    private readonly IDlmsTransport _transport;
    private readonly DlmsClientSettings _settings;
    private readonly DlmsCipher? _cipher;
    private readonly bool _ownsTransport;
    private byte[]? _serverSystemTitle;
    private uint? _lastClientCounter;
    private bool _ciphered;

    /// <summary>Creates a client over <paramref name="transport"/> (disposed with the client when <paramref name="ownsTransport"/>).</summary>
    public DlmsClient(IDlmsTransport transport, DlmsClientSettings settings, bool ownsTransport = true)
    {
        ArgumentNullException.ThrowIfNull(transport);
        ArgumentNullException.ThrowIfNull(settings);
        _transport = transport;
        _settings = settings;
        _ownsTransport = ownsTransport;
        LastServerInvocationCounter = settings.LastServerInvocationCounter;
        switch (settings.Authentication)
        {
            case DlmsAuthentication.Low when settings.Password is null:
                throw new ArgumentException("low authentication needs a password");
            case DlmsAuthentication.HlsGmac:
                if (settings.BlockCipherKey?.Length != 16 || settings.AuthenticationKey?.Length != 16 || settings.ClientSystemTitle?.Length != 8)
                {
                    throw new ArgumentException("HLS-GMAC needs a 16-byte block cipher key, a 16-byte authentication key and an 8-byte system title");
                }

                if (settings.InvocationCounters is null)
                {
                    throw new ArgumentException("HLS-GMAC needs an invocation counter store");
                }

                _cipher = new DlmsCipher(settings.BlockCipherKey, settings.AuthenticationKey);
                break;
        }
    }

    /// <summary>The association after <see cref="ConnectAsync"/>.</summary>
    public DlmsAssociation? Association { get; private set; }

    /// <summary>The highest invocation counter the server used so far (HLS-GMAC): persist it to refuse replays later.</summary>
    public uint? LastServerInvocationCounter { get; private set; }

    /// <summary>Where the server is.</summary>
    public string Description => _transport.Description;

    /// <summary>Opens the link and associates (AARQ/AARE, and the HLS pass for HLS-GMAC).</summary>
    public async Task<DlmsAssociation> ConnectAsync(CancellationToken cancellationToken)
    {
        await _transport.OpenAsync(cancellationToken).ConfigureAwait(false);
        var initiate = new InitiateRequest(_settings.ProposedConformance, _settings.MaxReceivePduSize).Encode();
        AarqApdu aarq;
        byte[]? challenge = null;
        switch (_settings.Authentication)
        {
            case DlmsAuthentication.None:
                aarq = new AarqApdu(false, DlmsAuthentication.None, null, null, initiate);
                break;
            case DlmsAuthentication.Low:
                aarq = new AarqApdu(false, DlmsAuthentication.Low, null, _settings.Password, initiate);
                break;
            default:
                challenge = _settings.ChallengeFactory();
                if (challenge.Length is < 8 or > 64)
                {
                    throw new DlmsException($"an HLS challenge has 8 to 64 bytes, got {challenge.Length}");
                }

                aarq = new AarqApdu(true, DlmsAuthentication.HlsGmac, _settings.ClientSystemTitle, challenge,
                    _cipher!.Encrypt(Xdlms.GloInitiateRequestTag, _settings.ClientSystemTitle, NextClientCounter(), initiate));
                break;
        }

        var answer = await _transport.ExchangeAsync(aarq.Encode(), cancellationToken).ConfigureAwait(false);
        if (answer.Length > 0 && answer[0] != AareApdu.Tag)
        {
            throw Xdlms.UnexpectedTag(answer[0], answer, "AARE");
        }

        var aare = AareApdu.Decode(answer);
        if (aare.Result != AssociationResult.Accepted)
        {
            throw new DlmsAssociationException(aare.Result, aare.DiagnosticSource, aare.Diagnostic);
        }

        if (aare.UserInformation is null)
        {
            throw new DlmsException("AARE accepted without an InitiateResponse");
        }

        byte[] user = aare.UserInformation;
        if (_cipher is not null)
        {
            if (aare.RespondingApTitle is not { Length: 8 } || aare.AuthenticationValue is null || aare.Authentication != DlmsAuthentication.HlsGmac)
            {
                throw new DlmsAssociationException("the server did not answer HLS-GMAC with its system title and a challenge");
            }

            _serverSystemTitle = aare.RespondingApTitle;
            if (user.Length == 0 || user[0] != Xdlms.GloInitiateResponseTag)
            {
                throw new DlmsAssociationException("the server answered HLS-GMAC with an unciphered InitiateResponse");
            }

            user = Decipher(user);
        }

        var initiateResponse = InitiateResponse.Decode(user);
        _ciphered = _cipher is not null;
        if (_cipher is not null)
        {
            await HlsPassAsync(aare.AuthenticationValue!, challenge!, cancellationToken).ConfigureAwait(false);
        }

        Association = new DlmsAssociation(initiateResponse.NegotiatedConformance, initiateResponse.ServerMaxReceivePduSize, _serverSystemTitle);
        return Association;
    }

    private async Task HlsPassAsync(byte[] serverChallenge, byte[] clientChallenge, CancellationToken cancellationToken)
    {
        var response = _cipher!.HlsResponse(_settings.ClientSystemTitle, NextClientCounter(), serverChallenge);
        var request = Xdlms.ActionRequest(_settings.InvokeIdAndPriority, 15, ObisCode.CurrentAssociation, 1, DlmsValue.OctetString(response));
        var answer = await ExchangeAsync(request, cancellationToken).ConfigureAwait(false);
        var (_, result, data) = Xdlms.DecodeActionResponse(answer);
        if (result != 0 || data is null || data.Type != DlmsDataType.OctetString)
        {
            throw new DlmsAssociationException($"the server refused the HLS pass (action-result {result})");
        }

        if (!_cipher.VerifyHlsResponse(data.Bytes, _serverSystemTitle, clientChallenge))
        {
            throw new DlmsAssociationException("the server's HLS answer f(CtoS) does not verify: wrong keys or not the meter we think");
        }
    }

    /// <summary>Reads one attribute; a data-access-result other than success throws <see cref="DlmsDataAccessException"/>.</summary>
    public async Task<DlmsValue> GetAsync(CosemAttribute attribute, SelectiveAccess? access, CancellationToken cancellationToken)
    {
        var results = await GetCoreAsync(Xdlms.GetRequestNormal(_settings.InvokeIdAndPriority, attribute, access), false, cancellationToken).ConfigureAwait(false);
        if (results.Count != 1)
        {
            throw new DlmsException($"GET {attribute} answered with {results.Count} results");
        }

        return results[0].Value ?? throw new DlmsDataAccessException(results[0].Error, $"GET {attribute}");
    }

    /// <summary>Reads one attribute without selective access.</summary>
    public Task<DlmsValue> GetAsync(CosemAttribute attribute, CancellationToken cancellationToken) => GetAsync(attribute, null, cancellationToken);

    /// <summary>Reads several attributes in one request; each result is data or a data-access-result.</summary>
    public async Task<IReadOnlyList<GetResult>> GetWithListAsync(IReadOnlyList<CosemAttribute> attributes, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(attributes);
        var request = Xdlms.GetRequestWithList(_settings.InvokeIdAndPriority, [.. attributes.Select(a => (a, (SelectiveAccess?)null))]);
        var results = await GetCoreAsync(request, true, cancellationToken).ConfigureAwait(false);
        if (results.Count != attributes.Count)
        {
            throw new DlmsException($"GET with {attributes.Count} attributes answered with {results.Count} results");
        }

        return results;
    }

    private async Task<IReadOnlyList<GetResult>> GetCoreAsync(byte[] request, bool withList, CancellationToken cancellationToken)
    {
        if (Association is null)
        {
            throw new DlmsException($"{Description}: not associated; connect first");
        }

        var response = Xdlms.DecodeGetResponse(await ExchangeAsync(request, cancellationToken).ConfigureAwait(false));
        CheckInvokeId(response.InvokeIdAndPriority);
        if (response.Kind != GetKind.Block)
        {
            if ((response.Kind == GetKind.WithList) != withList)
            {
                throw new DlmsException($"GET answered with a get-response of kind {response.Kind}");
            }

            return response.Results;
        }

        using var data = new MemoryStream();
        uint expected = 1;
        while (true)
        {
            if (response.Kind != GetKind.Block)
            {
                throw new DlmsException("a block transfer was answered with a get-response of another kind");
            }

            if (response.RawData is null)
            {
                throw new DlmsDataAccessException(response.Results[0].Error, $"GET block {response.BlockNumber}");
            }

            if (response.BlockNumber != expected)
            {
                throw new DlmsException($"GET block {response.BlockNumber} arrived, expected block {expected}");
            }

            data.Write(response.RawData);
            if (data.Length > 16 * 1024 * 1024)
            {
                throw new DlmsException("block transfer exceeds 16 MiB");
            }

            if (response.LastBlock)
            {
                return Xdlms.DecodeBlockData(data.GetBuffer().AsSpan(0, (int)data.Length), withList);
            }

            var next = Xdlms.GetRequestNext(_settings.InvokeIdAndPriority, expected);
            response = Xdlms.DecodeGetResponse(await ExchangeAsync(next, cancellationToken).ConfigureAwait(false));
            CheckInvokeId(response.InvokeIdAndPriority);
            expected++;
        }
    }

    /// <summary>Reads a Register (class 3) or Extended Register (class 4): value and scaler_unit.</summary>
    public async Task<DlmsQuantity> ReadRegisterAsync(ObisCode logicalName, CancellationToken cancellationToken, ushort classId = 3)
    {
        var value = await GetAsync(new CosemAttribute(classId, logicalName, 2), cancellationToken).ConfigureAwait(false);
        var scalerUnit = await GetAsync(new CosemAttribute(classId, logicalName, 3), cancellationToken).ConfigureAwait(false);
        return ToQuantity(value, scalerUnit);
    }

    /// <summary>Combines a value and a scaler_unit structure {integer scaler, enum unit}.</summary>
    public static DlmsQuantity ToQuantity(DlmsValue value, DlmsValue scalerUnit)
    {
        ArgumentNullException.ThrowIfNull(value);
        ArgumentNullException.ThrowIfNull(scalerUnit);
        if (scalerUnit.Type != DlmsDataType.Structure || scalerUnit.Items.Count != 2 || !scalerUnit.Items[0].IsInteger || scalerUnit.Items[1].Type != DlmsDataType.Enum)
        {
            throw new DlmsException($"scaler_unit {scalerUnit} is not a structure of scaler and unit");
        }

        long scaler = scalerUnit.Items[0].ToInt64();
        if (scaler is < sbyte.MinValue or > sbyte.MaxValue)
        {
            throw new DlmsException($"scaler {scaler} is out of range");
        }

        var quantity = new DlmsQuantity(value, (sbyte)scaler, (DlmsUnit)scalerUnit.Items[1].ToInt64());
        _ = quantity.Value;
        return quantity;
    }

    /// <summary>Reads the time of a Clock (class 8, attribute 2).</summary>
    public async Task<CosemDateTime> ReadClockAsync(CancellationToken cancellationToken, ObisCode? logicalName = null) =>
        CosemDateTime.From(await GetAsync(new CosemAttribute(8, logicalName ?? ObisCode.Clock, 2), cancellationToken).ConfigureAwait(false));

    /// <summary>Reads the capture objects of a Profile Generic (class 7, attribute 3).</summary>
    public async Task<IReadOnlyList<CaptureObject>> ReadCaptureObjectsAsync(ObisCode profile, CancellationToken cancellationToken) =>
        DecodeCaptureObjects(await GetAsync(new CosemAttribute(7, profile, 3), cancellationToken).ConfigureAwait(false));

    /// <summary>Decodes a capture_objects array.</summary>
    public static IReadOnlyList<CaptureObject> DecodeCaptureObjects(DlmsValue value)
    {
        ArgumentNullException.ThrowIfNull(value);
        if (value.Type != DlmsDataType.Array)
        {
            throw new DlmsException("capture_objects is not an array");
        }

        var list = new List<CaptureObject>(value.Items.Count);
        foreach (var item in value.Items)
        {
            if (item.Type != DlmsDataType.Structure || item.Items.Count != 4)
            {
                throw new DlmsException($"capture object {item} is not a structure of 4");
            }

            list.Add(new CaptureObject((ushort)item.Items[0].ToInt64(), ObisCode.FromBytes(item.Items[1].Bytes), (sbyte)item.Items[2].ToInt64(), (ushort)item.Items[3].ToInt64()));
        }

        return list;
    }

    /// <summary>Reads the capture period in seconds (attribute 4).</summary>
    public async Task<uint> ReadCapturePeriodAsync(ObisCode profile, CancellationToken cancellationToken) =>
        (uint)(await GetAsync(new CosemAttribute(7, profile, 4), cancellationToken).ConfigureAwait(false)).ToInt64();

    /// <summary>Reads entries_in_use (attribute 7).</summary>
    public async Task<uint> ReadEntriesInUseAsync(ObisCode profile, CancellationToken cancellationToken) =>
        (uint)(await GetAsync(new CosemAttribute(7, profile, 7), cancellationToken).ConfigureAwait(false)).ToInt64();

    /// <summary>Reads buffer rows whose clock column lies in [<paramref name="from"/>, <paramref name="to"/>] (selector 1, all columns).</summary>
    public async Task<IReadOnlyList<ProfileRow>> ReadProfileByRangeAsync(ObisCode profile, CosemDateTime from, CosemDateTime to, CancellationToken cancellationToken, ObisCode? clock = null) =>
        DecodeRows(await GetAsync(new CosemAttribute(7, profile, 2), RangeSelector(from, to, clock ?? ObisCode.Clock), cancellationToken).ConfigureAwait(false));

    /// <summary>Reads buffer entries <paramref name="fromEntry"/>..<paramref name="toEntry"/> (1-based, selector 2, all columns).</summary>
    public async Task<IReadOnlyList<ProfileRow>> ReadProfileByEntryAsync(ObisCode profile, uint fromEntry, uint toEntry, CancellationToken cancellationToken) =>
        DecodeRows(await GetAsync(new CosemAttribute(7, profile, 2), EntrySelector(fromEntry, toEntry), cancellationToken).ConfigureAwait(false));

    /// <summary>The range_descriptor: restricting object (the clock's time), from, to, all columns.</summary>
    public static SelectiveAccess RangeSelector(CosemDateTime from, CosemDateTime to, ObisCode clock) => new(1, DlmsValue.FromItems(
        DlmsDataType.Structure,
        DlmsValue.FromItems(
            DlmsDataType.Structure,
            DlmsValue.FromUnsigned(DlmsDataType.LongUnsigned, 8),
            DlmsValue.OctetString([clock.A, clock.B, clock.C, clock.D, clock.E, clock.F]),
            DlmsValue.FromSigned(DlmsDataType.Integer, 2),
            DlmsValue.FromUnsigned(DlmsDataType.LongUnsigned, 0)),
        DlmsValue.OctetString(from.Encode()),
        DlmsValue.OctetString(to.Encode()),
        DlmsValue.FromItems(DlmsDataType.Array)));

    /// <summary>The entry_descriptor: from/to entry, all columns (1 to 0).</summary>
    public static SelectiveAccess EntrySelector(uint fromEntry, uint toEntry) => new(2, DlmsValue.FromItems(
        DlmsDataType.Structure,
        DlmsValue.FromUnsigned(DlmsDataType.DoubleLongUnsigned, fromEntry),
        DlmsValue.FromUnsigned(DlmsDataType.DoubleLongUnsigned, toEntry),
        DlmsValue.FromUnsigned(DlmsDataType.LongUnsigned, 1),
        DlmsValue.FromUnsigned(DlmsDataType.LongUnsigned, 0)));

    /// <summary>Decodes a buffer: an array of structures, one per row.</summary>
    public static IReadOnlyList<ProfileRow> DecodeRows(DlmsValue buffer)
    {
        ArgumentNullException.ThrowIfNull(buffer);
        if (buffer.Type != DlmsDataType.Array)
        {
            throw new DlmsException("a profile buffer is not an array");
        }

        var rows = new List<ProfileRow>(buffer.Items.Count);
        foreach (var row in buffer.Items)
        {
            if (row.Type != DlmsDataType.Structure)
            {
                throw new DlmsException("a profile row is not a structure");
            }

            rows.Add(new ProfileRow(row.Items));
        }

        return rows;
    }

    /// <summary>Reads the object list of the current Association LN (0.0.40.0.0.255 attribute 2).</summary>
    public async Task<IReadOnlyList<CosemObjectInfo>> ReadObjectListAsync(CancellationToken cancellationToken)
    {
        var list = await GetAsync(new CosemAttribute(15, ObisCode.CurrentAssociation, 2), cancellationToken).ConfigureAwait(false);
        if (list.Type != DlmsDataType.Array)
        {
            throw new DlmsException("object_list is not an array");
        }

        var result = new List<CosemObjectInfo>(list.Items.Count);
        foreach (var item in list.Items)
        {
            if (item.Type != DlmsDataType.Structure || item.Items.Count < 3)
            {
                throw new DlmsException($"object_list element {item} is malformed");
            }

            result.Add(new CosemObjectInfo((ushort)item.Items[0].ToInt64(), (byte)item.Items[1].ToInt64(), ObisCode.FromBytes(item.Items[2].Bytes)));
        }

        return result;
    }

    /// <summary>Releases the association (RLRQ/RLRE).</summary>
    public async Task ReleaseAsync(CancellationToken cancellationToken)
    {
        var answer = await _transport.ExchangeAsync(Xdlms.ReleaseRequest(), cancellationToken).ConfigureAwait(false);
        if (answer.Length == 0 || answer[0] != Xdlms.ReleaseResponseTag)
        {
            throw answer.Length == 0 ? new DlmsException("empty answer to RLRQ") : Xdlms.UnexpectedTag(answer[0], answer, "RLRE");
        }

        _ciphered = false;
        Association = null;
    }

    /// <summary>Closes the data link (DISC for HDLC).</summary>
    public Task CloseAsync(CancellationToken cancellationToken) => _transport.CloseAsync(cancellationToken).AsTask();

    private async Task<byte[]> ExchangeAsync(byte[] plain, CancellationToken cancellationToken)
    {
        if (!_ciphered)
        {
            return await _transport.ExchangeAsync(plain, cancellationToken).ConfigureAwait(false);
        }

        byte gloTag = plain[0] switch
        {
            Xdlms.GetRequestTag => Xdlms.GloGetRequestTag,
            Xdlms.ActionRequestTag => Xdlms.GloActionRequestTag,
            _ => throw new DlmsException($"no glo-ciphering tag for APDU 0x{plain[0]:X2}"),
        };
        var answer = await _transport.ExchangeAsync(_cipher!.Encrypt(gloTag, _settings.ClientSystemTitle, NextClientCounter(), plain), cancellationToken).ConfigureAwait(false);
        if (answer.Length == 0 || answer[0] is not (Xdlms.GloGetResponseTag or Xdlms.GloActionResponseTag))
        {
            throw answer.Length == 0 ? new DlmsException("empty answer") : Xdlms.UnexpectedTag(answer[0], answer, "a ciphered response");
        }

        return Decipher(answer);
    }

    private byte[] Decipher(byte[] apdu)
    {
        var plain = _cipher!.Decrypt(apdu, _serverSystemTitle, out uint counter);
        if (counter <= LastServerInvocationCounter)
        {
            throw new DlmsException($"the server's invocation counter went from {LastServerInvocationCounter} to {counter}: a replay, refused");
        }

        LastServerInvocationCounter = counter;
        return plain;
    }

    private uint NextClientCounter()
    {
        uint next = _settings.InvocationCounters!.Next();
        if (next <= _lastClientCounter)
        {
            throw new DlmsException($"the invocation counter store returned {next} after {_lastClientCounter}; a counter must never repeat");
        }

        _lastClientCounter = next;
        return next;
    }

    private void CheckInvokeId(byte answered)
    {
        if ((answered & 0x0F) != (_settings.InvokeIdAndPriority & 0x0F))
        {
            throw new DlmsException($"response invoke-id {answered & 0x0F}, expected {_settings.InvokeIdAndPriority & 0x0F}");
        }
    }

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        _cipher?.Dispose();
        if (_ownsTransport)
        {
            await _transport.DisposeAsync().ConfigureAwait(false);
        }
    }
}
