using EdgeMeter.Protocols.Transport;

namespace EdgeMeter.Protocols.Modbus;

/// <summary>How requests are framed on the channel.</summary>
public enum ModbusFraming
{
    /// <summary>Modbus TCP: MBAP header with transaction id, no CRC.</summary>
    Tcp,
    /// <summary>RTU: unit, PDU, CRC-16; on a serial line or tunnelled through TCP ("RTU over TCP").</summary>
    Rtu,
}

/// <summary>
/// Moves one request PDU out and one response PDU back over an <see cref="IByteChannel"/>. Rejects
/// corrupt frames and silently skips frames that answer someone else (other unit, stale transaction).
/// Not thread-safe: <see cref="ModbusClient"/> serialises calls.
/// </summary>
internal abstract class ModbusTransport(IByteChannel channel, TimeProvider timeProvider) : IAsyncDisposable
{
    protected IByteChannel Channel { get; private set; } = channel;

    protected TimeProvider Time { get; } = timeProvider;

    public string Description => Channel.Description;

    /// <summary>
    /// Sends <paramref name="request"/> to <paramref name="unit"/> and copies the response PDU into <paramref name="response"/>.
    /// Returns the PDU length, or 0 for an RTU broadcast (unit 0), which gets no answer.
    /// </summary>
    public abstract ValueTask<int> ExchangeAsync(byte unit, ReadOnlyMemory<byte> request, Memory<byte> response,
        TimeSpan timeout, ModbusUnitCounters counters, CancellationToken cancellationToken);

    public ValueTask DisposeAsync() => Channel.DisposeAsync();

    /// <summary>Swaps in a freshly opened channel after the old one broke (TCP reset, stream out of sync).</summary>
    public async ValueTask ReplaceChannelAsync(IByteChannel channel)
    {
        var old = Channel;
        Channel = channel;
        await old.DisposeAsync().ConfigureAwait(false);
    }

    protected static TimeoutException Timeout(byte unit, TimeSpan timeout, int received) => new(received == 0
        ? $"unit {unit} did not answer within {timeout.TotalMilliseconds:0.###} ms"
        : $"unit {unit} sent a truncated frame ({received} bytes) within {timeout.TotalMilliseconds:0.###} ms");
}

/// <summary>MBAP framing for Modbus TCP.</summary>
internal sealed class MbapTransport(IByteChannel channel, TimeProvider timeProvider) : ModbusTransport(channel, timeProvider)
{
    private readonly byte[] _tx = new byte[MbapHeader.Size + ModbusPdu.MaxLength];
    private readonly byte[] _header = new byte[MbapHeader.Size];
    private readonly byte[] _scratch = new byte[ModbusPdu.MaxLength + 1];
    private ushort _transactionId;

    public override async ValueTask<int> ExchangeAsync(byte unit, ReadOnlyMemory<byte> request, Memory<byte> response,
        TimeSpan timeout, ModbusUnitCounters counters, CancellationToken cancellationToken)
    {
        ushort tid = ++_transactionId;
        int n = MbapHeader.WriteFrame(_tx, tid, unit, request.Span);
        using var timeoutCts = new CancellationTokenSource(timeout, Time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeoutCts.Token);
        int received = 0;
        try
        {
            await Channel.WriteAsync(_tx.AsMemory(0, n), linked.Token).ConfigureAwait(false);
            while (true)
            {
                received = 0;
                received += await ReadExactAsync(_header, linked.Token).ConfigureAwait(false);
                if (!MbapHeader.TryParse(_header, out var header))
                {
                    Channel.DiscardInput();
                    throw new ModbusFrameException(ModbusFrameError.Garbage, unit,
                        $"invalid MBAP header {Convert.ToHexString(_header)}");
                }

                var pdu = _scratch.AsMemory(0, header.PduLength);
                received += await ReadExactAsync(pdu, linked.Token).ConfigureAwait(false);
                if (header.TransactionId != tid || header.Unit != unit)
                {
                    // A late answer to a request that already timed out, or a gateway's answer for another unit.
                    counters.AddDiscarded();
                    continue;
                }

                if (pdu.Length > response.Length)
                {
                    throw new ModbusFrameException(ModbusFrameError.Garbage, unit, "response PDU too long");
                }

                pdu.CopyTo(response);
                return pdu.Length;
            }
        }
        catch (OperationCanceledException) when (timeoutCts.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            throw Timeout(unit, timeout, received);
        }
    }

    private async ValueTask<int> ReadExactAsync(Memory<byte> buffer, CancellationToken cancellationToken)
    {
        int total = 0;
        while (total < buffer.Length)
        {
            int n = await Channel.ReadAsync(buffer[total..], cancellationToken).ConfigureAwait(false);
            if (n == 0)
            {
                throw new IOException($"{Channel.Description}: connection closed by peer");
            }

            total += n;
        }

        return total;
    }
}

/// <summary>RTU framing on a serial line or tunnelled through TCP.</summary>
internal sealed class RtuTransport : ModbusTransport
{
    private readonly byte[] _tx = new byte[ModbusRtuFraming.MaxFrameLength];
    private readonly byte[] _rx = new byte[ModbusRtuFraming.MaxFrameLength * 2];
    private readonly TimeSpan _silence;
    private long _lastTraffic;

    /// <param name="channel">The line.</param>
    /// <param name="timeProvider">Clock for timeouts and the inter-frame silence.</param>
    /// <param name="silence">3.5-character time; zero when tunnelled through TCP, where timing means nothing.</param>
    public RtuTransport(IByteChannel channel, TimeProvider timeProvider, TimeSpan silence) : base(channel, timeProvider)
    {
        _silence = silence;
        _lastTraffic = timeProvider.GetTimestamp();
    }

    public override async ValueTask<int> ExchangeAsync(byte unit, ReadOnlyMemory<byte> request, Memory<byte> response,
        TimeSpan timeout, ModbusUnitCounters counters, CancellationToken cancellationToken)
    {
        int n = ModbusRtuFraming.WriteFrame(_tx, unit, request.Span);
        await KeepSilenceAsync(cancellationToken).ConfigureAwait(false);

        // Whatever is still in the buffer answers an earlier request (or is noise); it must not answer this one.
        Channel.DiscardInput();
        using var timeoutCts = new CancellationTokenSource(timeout, Time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeoutCts.Token);
        int have = 0;
        try
        {
            await Channel.WriteAsync(_tx.AsMemory(0, n), linked.Token).ConfigureAwait(false);
            _lastTraffic = Time.GetTimestamp();
            if (unit == 0)
            {
                return 0;
            }

            while (true)
            {
                var status = ModbusRtuFraming.TryGetResponseLength(_rx.AsSpan(0, have), out int length);
                if (status == FrameStatus.Invalid || (status == FrameStatus.Incomplete && have == _rx.Length))
                {
                    await DrainAsync(linked.Token).ConfigureAwait(false);
                    throw new ModbusFrameException(ModbusFrameError.Garbage, unit,
                        $"unparseable response bytes {Convert.ToHexString(_rx, 0, Math.Min(have, 16))}");
                }

                if (status == FrameStatus.Complete)
                {
                    if (!ModbusCrc.IsValid(_rx.AsSpan(0, length)))
                    {
                        await DrainAsync(linked.Token).ConfigureAwait(false);
                        throw new ModbusFrameException(ModbusFrameError.Crc, unit,
                            $"CRC error in response {Convert.ToHexString(_rx, 0, Math.Min(length, 16))}");
                    }

                    if (_rx[0] != unit)
                    {
                        // Another slave's answer (or our own echo through a gateway): skip it, keep listening.
                        counters.AddDiscarded();
                        _rx.AsSpan(length, have - length).CopyTo(_rx);
                        have -= length;
                        continue;
                    }

                    int pduLength = length - 3;
                    _rx.AsMemory(1, pduLength).CopyTo(response);
                    return pduLength;
                }

                int read = await Channel.ReadAsync(_rx.AsMemory(have), linked.Token).ConfigureAwait(false);
                if (read == 0)
                {
                    throw new IOException($"{Channel.Description}: connection closed by peer");
                }

                have += read;
                _lastTraffic = Time.GetTimestamp();
            }
        }
        catch (OperationCanceledException) when (timeoutCts.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            throw Timeout(unit, timeout, have);
        }
    }

    private async ValueTask KeepSilenceAsync(CancellationToken cancellationToken)
    {
        if (_silence <= TimeSpan.Zero)
        {
            return;
        }

        var remaining = _silence - Time.GetElapsedTime(_lastTraffic);
        if (remaining > TimeSpan.Zero)
        {
            // Timers count whole milliseconds and Task.Delay truncates: round up so the gap is never shorter than 3.5 characters.
            await Task.Delay(TimeSpan.FromMilliseconds(Math.Ceiling(remaining.TotalMilliseconds)), Time, cancellationToken).ConfigureAwait(false);
        }
    }

    // After garbage the sender may still be talking: swallow bytes until the line has been quiet for a while.
    private async ValueTask DrainAsync(CancellationToken cancellationToken)
    {
        if (_silence > TimeSpan.Zero)
        {
            var window = TimeSpan.FromTicks(Math.Max(_silence.Ticks * 2, TimeSpan.FromMilliseconds(5).Ticks));
            var scratch = new byte[64];
            while (!cancellationToken.IsCancellationRequested)
            {
                using var quiet = new CancellationTokenSource(window, Time);
                using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, quiet.Token);
                try
                {
                    if (await Channel.ReadAsync(scratch, linked.Token).ConfigureAwait(false) == 0)
                    {
                        break;
                    }
                }
                catch (OperationCanceledException)
                {
                    break;
                }
            }
        }

        Channel.DiscardInput();
        _lastTraffic = Time.GetTimestamp();
    }
}
