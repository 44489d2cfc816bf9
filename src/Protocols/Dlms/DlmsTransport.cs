using System.Buffers.Binary;
using EdgeMeter.Protocols.Transport;

namespace EdgeMeter.Protocols.Dlms;

/// <summary>
/// Moves whole xDLMS APDUs to and from a server: HDLC (IEC 62056-46) or the TCP wrapper (IEC 62056-47).
/// The client above knows only "send this APDU, get that APDU".
/// </summary>
public interface IDlmsTransport : IAsyncDisposable
{
    /// <summary>Where the server is, for messages.</summary>
    string Description { get; }

    /// <summary>Opens the data link (SNRM/UA for HDLC; nothing for the wrapper).</summary>
    ValueTask OpenAsync(CancellationToken cancellationToken);

    /// <summary>Sends one APDU and returns the server's complete answer APDU.</summary>
    ValueTask<byte[]> ExchangeAsync(ReadOnlyMemory<byte> apdu, CancellationToken cancellationToken);

    /// <summary>Closes the data link (DISC/UA for HDLC); the channel stays open.</summary>
    ValueTask CloseAsync(CancellationToken cancellationToken);
}

/// <summary>Reads exactly what a framer asks for from a channel, under a per-read timeout.</summary>
internal sealed class ChannelReader(IByteChannel channel, TimeSpan timeout)
{
    private readonly byte[] _buffer = new byte[4096];
    private int _start;
    private int _end;

    public IByteChannel Channel { get; } = channel;

    public TimeSpan Timeout { get; } = timeout;

    public ReadOnlySpan<byte> Buffered => _buffer.AsSpan(_start, _end - _start);

    public void Consume(int count) => _start += count;

    public void Clear()
    {
        _start = 0;
        _end = 0;
        Channel.DiscardInput();
    }

    /// <summary>Reads more bytes into the buffer; throws <see cref="TimeoutException"/> on silence.</summary>
    public async ValueTask FillAsync(CancellationToken cancellationToken)
    {
        if (_start > 0)
        {
            Buffer.BlockCopy(_buffer, _start, _buffer, 0, _end - _start);
            _end -= _start;
            _start = 0;
        }

        if (_end == _buffer.Length)
        {
            throw new DlmsException($"{Channel.Description}: more than {_buffer.Length} bytes without a complete frame");
        }

        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        cts.CancelAfter(Timeout);
        int n;
        try
        {
            n = await Channel.ReadAsync(_buffer.AsMemory(_end), cts.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new TimeoutException($"{Channel.Description}: no answer within {Timeout.TotalSeconds:0.#} s");
        }

        if (n == 0)
        {
            throw new DlmsException($"{Channel.Description}: the server closed the connection");
        }

        _end += n;
    }
}

/// <summary>The TCP wrapper of IEC 62056-47: version 1, source and destination wPort, 16-bit length, APDU.</summary>
public sealed class DlmsWrapperTransport : IDlmsTransport
{
    /// <summary>Header length.</summary>
    public const int HeaderLength = 8;

    private readonly ChannelReader _reader;
    private readonly ushort _clientPort;
    private readonly ushort _serverPort;
    private readonly bool _ownsChannel;

    /// <summary>Creates the transport over <paramref name="channel"/> (disposed with this object when <paramref name="ownsChannel"/>).</summary>
    public DlmsWrapperTransport(IByteChannel channel, ushort clientAddress, ushort serverAddress, TimeSpan responseTimeout, bool ownsChannel = true)
    {
        ArgumentNullException.ThrowIfNull(channel);
        _reader = new ChannelReader(channel, responseTimeout);
        _clientPort = clientAddress;
        _serverPort = serverAddress;
        _ownsChannel = ownsChannel;
    }

    /// <inheritdoc/>
    public string Description => _reader.Channel.Description;

    /// <summary>Writes the wrapper header and <paramref name="apdu"/> into a new frame.</summary>
    public static byte[] Encode(ushort sourcePort, ushort destinationPort, ReadOnlySpan<byte> apdu)
    {
        if (apdu.Length > ushort.MaxValue)
        {
            throw new DlmsException($"APDU of {apdu.Length} bytes does not fit a wrapper frame");
        }

        var frame = new byte[HeaderLength + apdu.Length];
        BinaryPrimitives.WriteUInt16BigEndian(frame, 1);
        BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(2), sourcePort);
        BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(4), destinationPort);
        BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(6), (ushort)apdu.Length);
        apdu.CopyTo(frame.AsSpan(HeaderLength));
        return frame;
    }

    /// <summary>
    /// Parses one wrapper frame at the start of <paramref name="data"/>: false when more bytes are needed,
    /// <see cref="DlmsException"/> when the header is not a version-1 wrapper header.
    /// </summary>
    public static bool TryParse(ReadOnlySpan<byte> data, out ushort sourcePort, out ushort destinationPort, out ReadOnlySpan<byte> apdu, out int consumed)
    {
        sourcePort = destinationPort = 0;
        apdu = default;
        consumed = 0;
        if (data.Length < HeaderLength)
        {
            return false;
        }

        ushort version = BinaryPrimitives.ReadUInt16BigEndian(data);
        if (version != 1)
        {
            throw new DlmsException($"wrapper version {version}, expected 1");
        }

        int length = BinaryPrimitives.ReadUInt16BigEndian(data[6..]);
        if (data.Length < HeaderLength + length)
        {
            return false;
        }

        sourcePort = BinaryPrimitives.ReadUInt16BigEndian(data[2..]);
        destinationPort = BinaryPrimitives.ReadUInt16BigEndian(data[4..]);
        apdu = data.Slice(HeaderLength, length);
        consumed = HeaderLength + length;
        return true;
    }

    /// <inheritdoc/>
    public ValueTask OpenAsync(CancellationToken cancellationToken) => ValueTask.CompletedTask;

    /// <inheritdoc/>
    public async ValueTask<byte[]> ExchangeAsync(ReadOnlyMemory<byte> apdu, CancellationToken cancellationToken)
    {
        _reader.Clear();
        await _reader.Channel.WriteAsync(Encode(_clientPort, _serverPort, apdu.Span), cancellationToken).ConfigureAwait(false);
        while (true)
        {
            if (TryParse(_reader.Buffered, out ushort source, out ushort destination, out var answer, out int consumed))
            {
                if (source != _serverPort || destination != _clientPort)
                {
                    throw new DlmsException($"wrapper frame from wPort {source} to {destination}, expected {_serverPort} to {_clientPort}");
                }

                byte[] result = answer.ToArray();
                _reader.Consume(consumed);
                return result;
            }

            await _reader.FillAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <inheritdoc/>
    public ValueTask CloseAsync(CancellationToken cancellationToken) => ValueTask.CompletedTask;

    /// <inheritdoc/>
    public ValueTask DisposeAsync() => _ownsChannel ? _reader.Channel.DisposeAsync() : ValueTask.CompletedTask;
}
