using System.Device.I2c;
using System.Globalization;

namespace EdgeMeter.Agent.Display;

/// <summary>
/// An I2C device that writes every byte sent to it into a trace file, one two-digit lower-case hex byte per line, in
/// order, and passes it on to the real device behind it, or to nothing when no bus exists (the stand-in for
/// <c>--lcd trace:FILE</c> on a machine without I2C). A byte is traced once the device took it: a write the bus
/// refused is not in the trace. From the trace the LCD's screens can be rebuilt outside the program.
/// </summary>
internal sealed class TracingI2cDevice : I2cDevice
{
    private readonly I2cDevice? _inner;
    private readonly TextWriter _trace;
    private readonly Lock _gate = new();
    private bool _disposed;

    /// <summary>Traces to <paramref name="trace"/> and forwards to <paramref name="inner"/>; owns (disposes) both.</summary>
    /// <param name="inner">The bus device, or null to stand in for it: writes succeed, reads see the last byte written.</param>
    /// <param name="trace">Where the hex lines go.</param>
    /// <param name="settings">The bus and address this device stands for.</param>
    public TracingI2cDevice(I2cDevice? inner, TextWriter trace, I2cConnectionSettings settings)
    {
        ArgumentNullException.ThrowIfNull(trace);
        ArgumentNullException.ThrowIfNull(settings);
        _inner = inner;
        _trace = trace;
        ConnectionSettings = settings;
    }

    /// <summary>Opens (creates or truncates) <paramref name="path"/> for a trace.</summary>
    public static TextWriter OpenTrace(string path) =>
        new StreamWriter(new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.Read)) { NewLine = "\n" };

    /// <summary>The last byte written: what a PCF8574's quasi-bidirectional port reads back on its outputs.</summary>
    private byte _last;

    /// <inheritdoc />
    public override I2cConnectionSettings ConnectionSettings { get; }

    /// <inheritdoc />
    public override void Write(ReadOnlySpan<byte> buffer)
    {
        lock (_gate)
        {
            _inner?.Write(buffer);
            foreach (var b in buffer)
            {
                _trace.Write(b.ToString("x2", CultureInfo.InvariantCulture));
                _trace.Write('\n');
            }

            // Flushed per transaction, so the file is complete whenever the process ends.
            _trace.Flush();
            if (!buffer.IsEmpty)
            {
                _last = buffer[^1];
            }
        }
    }

    /// <inheritdoc />
    public override void WriteByte(byte value) => Write([value]);

    /// <inheritdoc />
    public override byte ReadByte()
    {
        Span<byte> one = stackalloc byte[1];
        Read(one);
        return one[0];
    }

    /// <inheritdoc />
    public override void Read(Span<byte> buffer)
    {
        lock (_gate)
        {
            if (_inner is null)
            {
                buffer.Fill(_last);
            }
            else
            {
                _inner.Read(buffer);
            }
        }
    }

    /// <inheritdoc />
    public override void WriteRead(ReadOnlySpan<byte> writeBuffer, Span<byte> readBuffer)
    {
        Write(writeBuffer);
        Read(readBuffer);
    }

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        lock (_gate)
        {
            if (disposing && !_disposed)
            {
                _disposed = true;
                _inner?.Dispose();
                _trace.Dispose();
            }
        }

        base.Dispose(disposing);
    }
}
