using System.IO.Ports;

namespace EdgeMeter.Protocols.Transport;

/// <summary>
/// A <see cref="IByteChannel"/> over a serial line (RS-485 adapter, or a pty in tests) through System.IO.Ports.
/// The channel owns the port and closes it on dispose.
/// </summary>
public sealed class SerialByteChannel : IByteChannel
{
    private readonly SerialPort _port;
    private readonly ReceiveQueue _incoming = new();
    private readonly CancellationTokenSource _closing = new();
    private readonly Task _pump;

    /// <summary>Opens <paramref name="portName"/> with the given line settings (8 data bits unless told).</summary>
    public SerialByteChannel(string portName, int baudRate, Parity parity, StopBits stopBits, int dataBits = 8)
    {
        ArgumentException.ThrowIfNullOrEmpty(portName);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(baudRate);
        _port = new SerialPort(portName, baudRate, parity, dataBits, stopBits)
        {
            Handshake = Handshake.None,
            ReadTimeout = SerialPort.InfiniteTimeout,
            WriteTimeout = 2000,
        };
        if (!File.Exists(portName))
        {
            _port.Dispose();
            throw new IOException($"serial port {portName} does not exist");
        }

        try
        {
            _port.Open();
        }
        catch (UnauthorizedAccessException e)
        {
            _port.Dispose();
            throw new IOException($"serial port {portName} cannot be opened: permission denied or in use (is the user in group dialout?)", e);
        }
        catch (IOException e)
        {
            _port.Dispose();
            throw new IOException($"serial port {portName} cannot be opened: {e.Message}", e);
        }

        _pump = PumpAsync(_closing.Token);
        BaudRate = baudRate;
        Description = $"serial://{portName}?baud={baudRate}";
    }

    /// <summary>The line speed, which decides the RTU inter-frame silence.</summary>
    public int BaudRate { get; }

    /// <inheritdoc/>
    public string Description { get; }

    /// <inheritdoc/>
    public async ValueTask WriteAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken) =>
        await _port.BaseStream.WriteAsync(data, cancellationToken).ConfigureAwait(false);

    /// <inheritdoc/>
    public ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken) => _incoming.ReadAsync(buffer, cancellationToken);

    /// <inheritdoc/>
    public void DiscardInput()
    {
        _port.DiscardInBuffer();
        _incoming.Discard();
    }

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        await _closing.CancelAsync().ConfigureAwait(false);
        _port.Dispose();
        try
        {
            await _pump.ConfigureAwait(false);
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or ObjectDisposedException or InvalidOperationException)
        {
            // closing the port ends the pump's read
        }

        _closing.Dispose();
    }

    // One read is always outstanding on the port and never cancelled by a request timeout: a cancelled read on the
    // Unix serial stream stays queued and would swallow the next answer. Timeouts cancel the queue read instead.
    private async Task PumpAsync(CancellationToken cancellationToken)
    {
        var buffer = new byte[256];
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                int n = await _port.BaseStream.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
                if (n == 0)
                {
                    break;
                }

                _incoming.TryWrite(buffer.AsSpan(0, n));
            }
        }
        finally
        {
            _incoming.Complete();
        }
    }
}
