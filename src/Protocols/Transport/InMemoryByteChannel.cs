namespace EdgeMeter.Protocols.Transport;

/// <summary>
/// One end of an in-process byte pipe: what one end writes, the other reads. Stands in for a serial line
/// between a master and a simulated slave in tests and demos; chunk boundaries are preserved like bursts on a wire.
/// </summary>
public sealed class InMemoryByteChannel : IByteChannel
{
    private readonly ReceiveQueue _incoming = new();
    private InMemoryByteChannel _peer = null!;

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
        if (!_peer._incoming.TryWrite(data.Span))
        {
            throw new IOException($"{Description}: peer closed");
        }

        return ValueTask.CompletedTask;
    }

    /// <inheritdoc/>
    public ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken) => _incoming.ReadAsync(buffer, cancellationToken);

    /// <inheritdoc/>
    public void DiscardInput() => _incoming.Discard();

    /// <inheritdoc/>
    public ValueTask DisposeAsync()
    {
        _peer._incoming.Complete();
        _incoming.Complete();
        return ValueTask.CompletedTask;
    }
}
