using System.Threading.Channels;

namespace EdgeMeter.Protocols.Transport;

/// <summary>
/// One end of an in-process byte pipe: what one end writes, the other reads. Stands in for a serial line
/// between a master and a simulated slave in tests and demos; chunk boundaries are preserved like bursts on a wire.
/// </summary>
public sealed class InMemoryByteChannel : IByteChannel
{
    private readonly Channel<byte[]> _incoming = Channel.CreateUnbounded<byte[]>(new UnboundedChannelOptions { SingleReader = true });
    private InMemoryByteChannel _peer = null!;
    private byte[]? _pending;
    private int _pendingOffset;

    private InMemoryByteChannel(string description) => Description = description;

    /// <inheritdoc/>
    public string Description { get; }

    /// <summary>Creates two connected ends.</summary>
    public static (InMemoryByteChannel Master, InMemoryByteChannel Slave) CreatePair()
    {
        var a = new InMemoryByteChannel("memory://master");
        var b = new InMemoryByteChannel("memory://slave");
        a._peer = b;
        b._peer = a;
        return (a, b);
    }

    /// <inheritdoc/>
    public ValueTask WriteAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        if (!data.IsEmpty && !_peer._incoming.Writer.TryWrite(data.ToArray()))
        {
            throw new IOException($"{Description}: peer closed");
        }

        return ValueTask.CompletedTask;
    }

    /// <inheritdoc/>
    public async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken)
    {
        if (_pending is null)
        {
            try
            {
                _pending = await _incoming.Reader.ReadAsync(cancellationToken).ConfigureAwait(false);
                _pendingOffset = 0;
            }
            catch (ChannelClosedException)
            {
                return 0;
            }
        }

        int n = Math.Min(buffer.Length, _pending.Length - _pendingOffset);
        _pending.AsMemory(_pendingOffset, n).CopyTo(buffer);
        _pendingOffset += n;
        if (_pendingOffset == _pending.Length)
        {
            _pending = null;
        }

        return n;
    }

    /// <inheritdoc/>
    public void DiscardInput()
    {
        _pending = null;
        while (_incoming.Reader.TryRead(out _))
        {
        }
    }

    /// <inheritdoc/>
    public ValueTask DisposeAsync()
    {
        _peer._incoming.Writer.TryComplete();
        _incoming.Writer.TryComplete();
        return ValueTask.CompletedTask;
    }
}
