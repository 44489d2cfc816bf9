using System.Net;
using System.Net.Sockets;
using EdgeMeter.Protocols.Transport;

namespace EdgeMeter.Protocols.Dlms.Simulator;

/// <summary>
/// Serves a <see cref="SimulatedDlmsMeter"/> on 127.0.0.1 (TCP wrapper or HDLC over TCP) or on any byte channel
/// (a serial line, one end of a socat pty pair). Each connection gets its own association state.
/// </summary>
public sealed class DlmsSimulatorServer : IAsyncDisposable
{
    private readonly Socket _listener;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _accept;

    private DlmsSimulatorServer(SimulatedDlmsMeter meter, DlmsFraming framing, Socket listener, HdlcAddress? address)
    {
        _listener = listener;
        Port = ((IPEndPoint)listener.LocalEndPoint!).Port;
        _accept = AcceptAsync(meter, framing, address, _stop.Token);
    }

    /// <summary>The TCP port.</summary>
    public int Port { get; }

    /// <summary>Starts listening on 127.0.0.1 and <paramref name="port"/> (0: a free port).</summary>
    public static DlmsSimulatorServer Start(SimulatedDlmsMeter meter, DlmsFraming framing, int port = 0, HdlcAddress? address = null)
    {
        var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, port));
        listener.Listen(8);
        return new DlmsSimulatorServer(meter, framing, listener, address);
    }

    private async Task AcceptAsync(SimulatedDlmsMeter meter, DlmsFraming framing, HdlcAddress? address, CancellationToken ct)
    {
        var connections = new List<Task>();
        try
        {
            while (!ct.IsCancellationRequested)
            {
                var socket = await _listener.AcceptAsync(ct).ConfigureAwait(false);
                connections.Add(Task.Run(async () =>
                {
                    await using var channel = new TcpByteChannel(socket);
                    await ServeAsync(meter, channel, framing, address, ct).ConfigureAwait(false);
                }, CancellationToken.None));
            }
        }
        catch (OperationCanceledException)
        {
        }
        catch (SocketException)
        {
        }

        await Task.WhenAll(connections).ConfigureAwait(false);
    }

    /// <summary>
    /// Serves one channel until the peer closes it or <paramref name="cancellationToken"/> fires. With HDLC the meter
    /// answers only frames for its <paramref name="address"/> (logical 1 and any physical address when null).
    /// Malformed input is dropped like line noise.
    /// </summary>
    public static async Task ServeAsync(SimulatedDlmsMeter meter, IByteChannel channel, DlmsFraming framing, HdlcAddress? address, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(meter);
        ArgumentNullException.ThrowIfNull(channel);
        var session = meter.CreateSession();
        var link = new ServerLink(channel, session, address);
        byte[] buffer = new byte[8192];
        int length = 0;
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                if (length == buffer.Length)
                {
                    length = 0;
                }

                int n = await channel.ReadAsync(buffer.AsMemory(length), cancellationToken).ConfigureAwait(false);
                if (n == 0)
                {
                    return;
                }

                length += n;
                int consumed = framing == DlmsFraming.Wrapper
                    ? await link.OnWrapperAsync(buffer.AsMemory(0, length), cancellationToken).ConfigureAwait(false)
                    : await link.OnHdlcAsync(buffer.AsMemory(0, length), cancellationToken).ConfigureAwait(false);
                Buffer.BlockCopy(buffer, consumed, buffer, 0, length - consumed);
                length -= consumed;
            }
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or SocketException or ObjectDisposedException)
        {
            // The client went away or the server stops.
        }
    }

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        _listener.Dispose();
        await _accept.ConfigureAwait(false);
        _stop.Dispose();
    }

    private sealed class ServerLink(IByteChannel channel, DlmsServerSession session, HdlcAddress? address)
    {
        private readonly Queue<byte[]> _outbound = new();
        private readonly MemoryStream _inbound = new();
        private int _sendSequence;
        private int _receiveSequence;
        private int _maxInfoTransmit = 128;
        private bool _connected;

        public async Task<int> OnWrapperAsync(ReadOnlyMemory<byte> data, CancellationToken ct)
        {
            int total = 0;
            while (true)
            {
                byte[]? answer;
                ushort source, destination;
                int consumed;
                try
                {
                    if (!DlmsWrapperTransport.TryParse(data.Span[total..], out source, out destination, out var apdu, out consumed))
                    {
                        return total;
                    }

                    answer = session.Handle(apdu);
                }
                catch (DlmsException)
                {
                    return data.Length;
                }

                total += consumed;
                if (answer is not null)
                {
                    await channel.WriteAsync(DlmsWrapperTransport.Encode(destination, source, answer), ct).ConfigureAwait(false);
                }
            }
        }

        public async Task<int> OnHdlcAsync(ReadOnlyMemory<byte> data, CancellationToken ct)
        {
            int total = 0;
            while (true)
            {
                var span = data.Span[total..];
                int flag = span.IndexOf(HdlcFrame.Flag);
                if (flag < 0)
                {
                    return data.Length;
                }

                total += flag;
                span = span[flag..];
                if (span.Length >= 2 && span[1] == HdlcFrame.Flag)
                {
                    total++;
                    continue;
                }

                HdlcFrame frame;
                int consumed;
                try
                {
                    if (!HdlcFrame.TryParse(span, out frame, out consumed))
                    {
                        return total;
                    }
                }
                catch (DlmsException)
                {
                    total++; // noise or a corrupt frame: skip this flag and resynchronise
                    continue;
                }

                total += consumed;
                if (IsForUs(frame.Destination))
                {
                    await OnFrameAsync(frame, ct).ConfigureAwait(false);
                }
            }
        }

        private bool IsForUs(HdlcAddress destination)
        {
            var us = address ?? HdlcAddress.Server(1);
            if (destination.Upper != us.Upper)
            {
                return false;
            }

            return address is null || us.Size == 1 || destination.Lower == us.Lower;
        }

        private async Task OnFrameAsync(HdlcFrame frame, CancellationToken ct)
        {
            var client = frame.Source;
            var us = frame.Destination;
            switch (frame.Control)
            {
                case HdlcControl.Snrm:
                    {
                        HdlcParameters proposed;
                        try
                        {
                            proposed = HdlcParameters.Decode(frame.Information.Span);
                        }
                        catch (DlmsException)
                        {
                            await SendAsync(new HdlcFrame(client, us, HdlcControl.Frmr, ReadOnlyMemory<byte>.Empty), ct).ConfigureAwait(false);
                            return;
                        }

                        // The UA states the values from the server's side: it transmits what the client can receive.
                        var ours = new HdlcParameters(Math.Min(128, proposed.MaxInfoReceive), Math.Min(128, proposed.MaxInfoTransmit), 1, 1);
                        _maxInfoTransmit = ours.MaxInfoTransmit;
                        _sendSequence = 0;
                        _receiveSequence = 0;
                        _outbound.Clear();
                        _inbound.SetLength(0);
                        _connected = true;
                        await SendAsync(new HdlcFrame(client, us, HdlcControl.Ua, ours.Encode()), ct).ConfigureAwait(false);
                        return;
                    }

                case HdlcControl.Disc:
                    await SendAsync(new HdlcFrame(client, us, _connected ? HdlcControl.Ua : HdlcControl.Dm, ReadOnlyMemory<byte>.Empty), ct).ConfigureAwait(false);
                    _connected = false;
                    session.Handle([Xdlms.ReleaseRequestTag, 0x03, 0x80, 0x01, 0x00]);
                    return;
            }

            if (!_connected)
            {
                await SendAsync(new HdlcFrame(client, us, HdlcControl.Dm, ReadOnlyMemory<byte>.Empty), ct).ConfigureAwait(false);
                return;
            }

            if (HdlcControl.IsReceiveReady(frame.Control))
            {
                if (_outbound.Count > 0)
                {
                    await SendSegmentAsync(client, us, ct).ConfigureAwait(false);
                }

                return;
            }

            if (!HdlcControl.IsInformation(frame.Control) || HdlcControl.SendSequence(frame.Control) != _receiveSequence)
            {
                return;
            }

            _receiveSequence = (_receiveSequence + 1) & 7;
            _inbound.Write(frame.Information.Span);
            if (frame.Segmented)
            {
                await SendAsync(new HdlcFrame(client, us, HdlcControl.ReceiveReady(_receiveSequence), ReadOnlyMemory<byte>.Empty), ct).ConfigureAwait(false);
                return;
            }

            byte[] whole = _inbound.ToArray();
            _inbound.SetLength(0);
            if (whole.Length < 3 || whole[0] != 0xE6 || whole[1] != 0xE6)
            {
                return;
            }

            byte[]? answer = session.Handle(whole.AsSpan(3));
            if (answer is null)
            {
                return;
            }

            byte[] payload = [.. HdlcTransport.ResponseLlc, .. answer];
            int size = Math.Max(16, _maxInfoTransmit - 3);
            for (int p = 0; p < payload.Length; p += size)
            {
                _outbound.Enqueue(payload[p..Math.Min(payload.Length, p + size)]);
            }

            await SendSegmentAsync(client, us, ct).ConfigureAwait(false);
        }

        private async Task SendSegmentAsync(HdlcAddress client, HdlcAddress us, CancellationToken ct)
        {
            byte[] info = _outbound.Dequeue();
            var frame = new HdlcFrame(client, us, HdlcControl.Information(_sendSequence, _receiveSequence), info, _outbound.Count > 0);
            _sendSequence = (_sendSequence + 1) & 7;
            await SendAsync(frame, ct).ConfigureAwait(false);
        }

        private ValueTask SendAsync(HdlcFrame frame, CancellationToken ct) => channel.WriteAsync(frame.ToArray(), ct);
    }
}
