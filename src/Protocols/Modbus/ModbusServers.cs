using System.Net;
using System.Net.Sockets;
using EdgeMeter.Protocols.Transport;

namespace EdgeMeter.Protocols.Modbus;

/// <summary>
/// A Modbus TCP slave simulator on a real socket: answers for the units in its table, stays silent for others
/// (as a gateway with a dead meter behind it would). With <see cref="ModbusFraming.Rtu"/> it speaks RTU over TCP.
/// </summary>
public sealed class ModbusTcpServer : IAsyncDisposable
{
    private readonly TcpListener _listener;
    private readonly IReadOnlyDictionary<byte, ModbusRegisterBank> _units;
    private readonly ModbusFraming _framing;
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Task> _connections = [];
    private Task? _acceptLoop;

    /// <summary>Creates the server; call <see cref="Start"/> to listen. Bind port 0 to get a free port.</summary>
    public ModbusTcpServer(IPEndPoint endpoint, IReadOnlyDictionary<byte, ModbusRegisterBank> units, ModbusFraming framing = ModbusFraming.Tcp)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        ArgumentNullException.ThrowIfNull(units);
        _listener = new TcpListener(endpoint);
        _units = units;
        _framing = framing;
    }

    /// <summary>The bound address (with the real port once started).</summary>
    public IPEndPoint LocalEndPoint => (IPEndPoint)_listener.LocalEndpoint;

    /// <summary>Starts listening and accepting connections.</summary>
    public void Start()
    {
        _listener.Start();
        _acceptLoop = AcceptLoopAsync(_stop.Token);
    }

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        _listener.Stop();
        if (_acceptLoop is not null)
        {
            await _acceptLoop.ConfigureAwait(false);
        }

        Task[] pending;
        lock (_connections)
        {
            pending = [.. _connections];
        }

        await Task.WhenAll(pending).ConfigureAwait(false);
        _stop.Dispose();
    }

    private async Task AcceptLoopAsync(CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            Socket socket;
            try
            {
                socket = await _listener.AcceptSocketAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                return;
            }

            var channel = new TcpByteChannel(socket);
            var task = _framing == ModbusFraming.Tcp
                ? ServeMbapAsync(channel, cancellationToken)
                : ModbusRtuServer.ServeAsync(channel, _units, TimeSpan.Zero, cancellationToken);
            lock (_connections)
            {
                _connections.RemoveAll(t => t.IsCompleted);
                _connections.Add(task);
            }
        }
    }

    private async Task ServeMbapAsync(TcpByteChannel channel, CancellationToken cancellationToken)
    {
        await using var _ = channel.ConfigureAwait(false);
        var header = new byte[MbapHeader.Size];
        var request = new byte[ModbusPdu.MaxLength + 1];
        var response = new byte[MbapHeader.Size + ModbusPdu.MaxLength];
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                if (!await ReadExactAsync(channel, header, cancellationToken).ConfigureAwait(false))
                {
                    return;
                }

                if (!MbapHeader.TryParse(header, out var h))
                {
                    return; // cannot resynchronise a TCP stream: drop the connection as real devices do
                }

                var pdu = request.AsMemory(0, h.PduLength);
                if (!await ReadExactAsync(channel, pdu, cancellationToken).ConfigureAwait(false))
                {
                    return;
                }

                if (!_units.TryGetValue(h.Unit, out var bank))
                {
                    continue;
                }

                int n = bank.Handle(pdu.Span, response.AsSpan(MbapHeader.Size));
                if (n == 0)
                {
                    continue;
                }

                // Header written around the PDU already in place.
                System.Buffers.Binary.BinaryPrimitives.WriteUInt16BigEndian(response, h.TransactionId);
                System.Buffers.Binary.BinaryPrimitives.WriteUInt16BigEndian(response.AsSpan(2), 0);
                System.Buffers.Binary.BinaryPrimitives.WriteUInt16BigEndian(response.AsSpan(4), (ushort)(n + 1));
                response[6] = h.Unit;
                await channel.WriteAsync(response.AsMemory(0, MbapHeader.Size + n), cancellationToken).ConfigureAwait(false);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or IOException or ObjectDisposedException)
        {
            // connection closed or server stopping
        }
    }

    private static async Task<bool> ReadExactAsync(IByteChannel channel, Memory<byte> buffer, CancellationToken cancellationToken)
    {
        int total = 0;
        while (total < buffer.Length)
        {
            int n = await channel.ReadAsync(buffer[total..], cancellationToken).ConfigureAwait(false);
            if (n == 0)
            {
                return false;
            }

            total += n;
        }

        return true;
    }
}

/// <summary>
/// An RTU slave simulator on any <see cref="IByteChannel"/> (a serial port or pty, an in-memory bus in tests).
/// Several units share the line; requests for units not in the table, or with a bad CRC, get no answer.
/// </summary>
public sealed class ModbusRtuServer : IAsyncDisposable
{
    private readonly IByteChannel _channel;
    private readonly IReadOnlyDictionary<byte, ModbusRegisterBank> _units;
    private readonly TimeSpan _turnaround;
    private readonly CancellationTokenSource _stop = new();
    private Task? _loop;

    /// <summary>Serves <paramref name="units"/> on <paramref name="channel"/>, which the server then owns.</summary>
    /// <param name="channel">The line.</param>
    /// <param name="units">Unit id to data.</param>
    /// <param name="turnaround">Delay before answering, as a real meter's processing time.</param>
    public ModbusRtuServer(IByteChannel channel, IReadOnlyDictionary<byte, ModbusRegisterBank> units, TimeSpan turnaround = default)
    {
        ArgumentNullException.ThrowIfNull(channel);
        ArgumentNullException.ThrowIfNull(units);
        _channel = channel;
        _units = units;
        _turnaround = turnaround;
    }

    /// <summary>Starts answering.</summary>
    public void Start() => _loop = ServeAsync(_channel, _units, _turnaround, _stop.Token);

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        if (_loop is not null)
        {
            await _loop.ConfigureAwait(false);
        }

        await _channel.DisposeAsync().ConfigureAwait(false);
        _stop.Dispose();
    }

    internal static async Task ServeAsync(IByteChannel channel, IReadOnlyDictionary<byte, ModbusRegisterBank> units, TimeSpan turnaround,
        CancellationToken cancellationToken)
    {
        var rx = new byte[ModbusRtuFraming.MaxFrameLength * 2];
        var pdu = new byte[ModbusPdu.MaxLength];
        var tx = new byte[ModbusRtuFraming.MaxFrameLength];
        int have = 0;
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                var status = ModbusRtuFraming.TryGetRequestLength(rx.AsSpan(0, have), out int length);
                if (status == FrameStatus.Invalid || (status == FrameStatus.Incomplete && have == rx.Length))
                {
                    // Slide one byte: a slave resynchronises on the next frame that parses and passes its CRC.
                    rx.AsSpan(1, have - 1).CopyTo(rx);
                    have--;
                    continue;
                }

                if (status == FrameStatus.Incomplete)
                {
                    int n = await channel.ReadAsync(rx.AsMemory(have), cancellationToken).ConfigureAwait(false);
                    if (n == 0)
                    {
                        return;
                    }

                    have += n;
                    continue;
                }

                bool valid = ModbusCrc.IsValid(rx.AsSpan(0, length));
                if (!valid)
                {
                    rx.AsSpan(1, have - 1).CopyTo(rx);
                    have--;
                    continue;
                }

                byte unit = rx[0];
                int responseLength = 0;
                if (units.TryGetValue(unit, out var bank))
                {
                    responseLength = bank.Handle(rx.AsSpan(1, length - 3), pdu);
                }

                rx.AsSpan(length, have - length).CopyTo(rx);
                have -= length;
                if (responseLength > 0)
                {
                    if (turnaround > TimeSpan.Zero)
                    {
                        await Task.Delay(turnaround, cancellationToken).ConfigureAwait(false);
                    }

                    int frame = ModbusRtuFraming.WriteFrame(tx, unit, pdu.AsSpan(0, responseLength));
                    await channel.WriteAsync(tx.AsMemory(0, frame), cancellationToken).ConfigureAwait(false);
                }
            }
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or IOException or ObjectDisposedException)
        {
            // line closed or server stopping
        }
        finally
        {
            if (channel is TcpByteChannel)
            {
                await channel.DisposeAsync().ConfigureAwait(false);
            }
        }
    }
}
