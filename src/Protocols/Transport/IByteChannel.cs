namespace EdgeMeter.Protocols.Transport;

/// <summary>
/// A bidirectional byte pipe to a bus or a socket (TCP, serial line, in-memory for tests).
/// Framers sit above it and do no I/O of their own; the channel knows nothing about frames.
/// </summary>
public interface IByteChannel : IAsyncDisposable
{
    /// <summary>A short human-readable name for messages, e.g. <c>tcp://10.0.0.5:502</c>.</summary>
    string Description { get; }

    /// <summary>Writes all of <paramref name="data"/> to the wire.</summary>
    ValueTask WriteAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken);

    /// <summary>
    /// Reads at least one byte into <paramref name="buffer"/>, waiting until bytes arrive or the token is cancelled.
    /// Returns 0 only when the peer closed the channel.
    /// </summary>
    ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken);

    /// <summary>
    /// Drops every byte already received but not yet read, so a late or corrupt answer
    /// cannot be mistaken for the answer to the next request.
    /// </summary>
    void DiscardInput();
}
