using System.IO.Ports;

namespace EdgeMeter.Protocols.Transport;

/// <summary>
/// A <see cref="IByteChannel"/> over a serial line (RS-485 adapter, or a pty in tests) through System.IO.Ports.
/// The channel owns the port and closes it on dispose.
/// </summary>
public sealed class SerialByteChannel : IByteChannel
{
    private readonly SerialPort _port;

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
    public async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken) =>
        await _port.BaseStream.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);

    /// <inheritdoc/>
    public void DiscardInput() => _port.DiscardInBuffer();

    /// <inheritdoc/>
    public ValueTask DisposeAsync()
    {
        _port.Dispose();
        return ValueTask.CompletedTask;
    }
}
