using EdgeMeter.Protocols.Transport;

namespace EdgeMeter.Protocols.Dlms;

/// <summary>
/// The HDLC data link of IEC 62056-46 as a client (primary station): SNRM/UA with parameter negotiation,
/// I-frames with N(S)/N(R), segmentation of long APDUs in both directions (the receiver of a segment answers RR),
/// and DISC. Window size 1, as every meter we know of.
/// </summary>
public sealed class HdlcTransport : IDlmsTransport
{
    /// <summary>LLC header of a client's first I-frame segment.</summary>
    internal static readonly byte[] RequestLlc = [0xE6, 0xE6, 0x00];

    /// <summary>LLC header of a server's first I-frame segment.</summary>
    internal static readonly byte[] ResponseLlc = [0xE6, 0xE7, 0x00];

    private readonly ChannelReader _reader;
    private readonly HdlcAddress _client;
    private readonly HdlcAddress _server;
    private readonly HdlcParameters _proposed;
    private readonly bool _ownsChannel;
    private int _sendSequence;
    private int _receiveSequence;

    /// <summary>Creates the link over <paramref name="channel"/> (disposed with this object when <paramref name="ownsChannel"/>).</summary>
    public HdlcTransport(IByteChannel channel, HdlcAddress client, HdlcAddress server, TimeSpan responseTimeout, HdlcParameters? proposed = null, bool ownsChannel = true)
    {
        ArgumentNullException.ThrowIfNull(channel);
        _reader = new ChannelReader(channel, responseTimeout);
        _client = client;
        _server = server;
        _proposed = proposed ?? HdlcParameters.Default;
        _ownsChannel = ownsChannel;
        Negotiated = HdlcParameters.Default;
    }

    /// <inheritdoc/>
    public string Description => _reader.Channel.Description;

    /// <summary>The parameters after SNRM/UA, from the client's point of view (transmit = client to server).</summary>
    public HdlcParameters Negotiated { get; private set; }

    /// <summary>
    /// Information bytes put in one I-frame: the negotiated maximum less 3, as the servers we recorded do; some
    /// meters count their own LLC against the limit, so we stay below it.
    /// </summary>
    private int SegmentSize => Math.Max(16, Negotiated.MaxInfoTransmit - 3);

    /// <inheritdoc/>
    public async ValueTask OpenAsync(CancellationToken cancellationToken)
    {
        _reader.Clear();
        byte[] parameters = _proposed.IsDefault ? [] : _proposed.Encode();
        var ua = await RequestAsync(new HdlcFrame(_server, _client, HdlcControl.Snrm, parameters), cancellationToken).ConfigureAwait(false);
        if (ua.Control != HdlcControl.Ua)
        {
            throw new DlmsException($"{Description}: SNRM answered with {Describe(ua.Control)}, not UA");
        }

        // The UA speaks from the server's side: its transmit limit is our receive limit.
        var server = HdlcParameters.Decode(ua.Information.Span);
        Negotiated = new HdlcParameters(
            Math.Min(_proposed.MaxInfoTransmit, server.MaxInfoReceive),
            Math.Min(_proposed.MaxInfoReceive, server.MaxInfoTransmit),
            1,
            1);
        _sendSequence = 0;
        _receiveSequence = 0;
    }

    /// <inheritdoc/>
    public async ValueTask<byte[]> ExchangeAsync(ReadOnlyMemory<byte> apdu, CancellationToken cancellationToken)
    {
        byte[] payload = new byte[RequestLlc.Length + apdu.Length];
        RequestLlc.CopyTo(payload, 0);
        apdu.Span.CopyTo(payload.AsSpan(RequestLlc.Length));

        int offset = 0;
        HdlcFrame answer;
        while (true)
        {
            int size = Math.Min(SegmentSize, payload.Length - offset);
            bool more = offset + size < payload.Length;
            var frame = new HdlcFrame(_server, _client, HdlcControl.Information(_sendSequence, _receiveSequence), payload.AsMemory(offset, size), more);
            answer = await RequestAsync(frame, cancellationToken).ConfigureAwait(false);
            _sendSequence = (_sendSequence + 1) & 7;
            offset += size;
            if (!more)
            {
                break;
            }

            if (!HdlcControl.IsReceiveReady(answer.Control) || HdlcControl.ReceiveSequence(answer.Control) != _sendSequence)
            {
                throw new DlmsException($"{Description}: segment answered with {Describe(answer.Control)}, expected RR N(R)={_sendSequence}");
            }
        }

        using var reassembled = new MemoryStream();
        bool first = true;
        while (true)
        {
            if (!HdlcControl.IsInformation(answer.Control))
            {
                throw new DlmsException($"{Description}: expected an I-frame, got {Describe(answer.Control)}");
            }

            if (HdlcControl.SendSequence(answer.Control) != _receiveSequence)
            {
                throw new DlmsException($"{Description}: I-frame N(S)={HdlcControl.SendSequence(answer.Control)}, expected {_receiveSequence}");
            }

            _receiveSequence = (_receiveSequence + 1) & 7;
            var info = answer.Information.Span;
            if (first)
            {
                if (info.Length < 3 || info[0] != 0xE6 || info[1] != 0xE7)
                {
                    throw new DlmsException($"{Description}: response I-frame without the LLC header E6 E7 00");
                }

                info = info[3..];
                first = false;
            }

            reassembled.Write(info);
            if (!answer.Segmented)
            {
                return reassembled.ToArray();
            }

            answer = await RequestAsync(new HdlcFrame(_server, _client, HdlcControl.ReceiveReady(_receiveSequence), ReadOnlyMemory<byte>.Empty), cancellationToken).ConfigureAwait(false);
        }
    }

    /// <inheritdoc/>
    public async ValueTask CloseAsync(CancellationToken cancellationToken)
    {
        var answer = await RequestAsync(new HdlcFrame(_server, _client, HdlcControl.Disc, ReadOnlyMemory<byte>.Empty), cancellationToken).ConfigureAwait(false);
        if (answer.Control is not (HdlcControl.Ua or HdlcControl.Dm))
        {
            throw new DlmsException($"{Description}: DISC answered with {Describe(answer.Control)}");
        }
    }

    /// <summary>Sends one frame and waits for the next frame addressed to us.</summary>
    private async ValueTask<HdlcFrame> RequestAsync(HdlcFrame frame, CancellationToken cancellationToken)
    {
        await _reader.Channel.WriteAsync(frame.ToArray(), cancellationToken).ConfigureAwait(false);
        while (true)
        {
            var buffered = _reader.Buffered;
            int flag = buffered.IndexOf(HdlcFrame.Flag);
            if (flag < 0)
            {
                _reader.Consume(buffered.Length);
            }
            else
            {
                _reader.Consume(flag);
                buffered = _reader.Buffered;

                // Two flags in a row: the closing flag of one frame and the opening flag of the next.
                if (buffered.Length >= 2 && buffered[1] == HdlcFrame.Flag)
                {
                    _reader.Consume(1);
                    continue;
                }

                if (HdlcFrame.TryParse(buffered, out var answer, out int consumed))
                {
                    _reader.Consume(consumed);
                    if (answer.Destination.Upper != _client.Upper || answer.Destination.Size != 1)
                    {
                        continue;
                    }

                    if (answer.Control == HdlcControl.Frmr)
                    {
                        throw new DlmsException($"{Description}: the server rejected a frame (FRMR)");
                    }

                    return answer;
                }
            }

            await _reader.FillAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    private static string Describe(byte control) => control switch
    {
        HdlcControl.Ua => "UA",
        HdlcControl.Dm => "DM (disconnected mode)",
        HdlcControl.Frmr => "FRMR",
        HdlcControl.Ui => "UI",
        _ when HdlcControl.IsInformation(control) => $"I-frame 0x{control:X2}",
        _ when HdlcControl.IsReceiveReady(control) => $"RR 0x{control:X2}",
        _ when HdlcControl.IsReceiveNotReady(control) => $"RNR 0x{control:X2}",
        _ => $"control 0x{control:X2}",
    };

    /// <inheritdoc/>
    public ValueTask DisposeAsync() => _ownsChannel ? _reader.Channel.DisposeAsync() : ValueTask.CompletedTask;
}
