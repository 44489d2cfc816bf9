using System.Threading.Channels;

namespace EdgeMeter.Protocols.Transport;

/// <summary>
/// Received bytes waiting to be read. Reading from it can be cancelled safely: nothing is lost, unlike cancelling
/// a read on some streams (the Unix serial stream keeps a cancelled read queued and it swallows the next answer).
/// </summary>
internal sealed class ReceiveQueue
{
    private readonly Channel<byte[]> _chunks = Channel.CreateUnbounded<byte[]>(new UnboundedChannelOptions { SingleReader = true });
    private byte[]? _pending;
    private int _pendingOffset;

    public bool TryWrite(ReadOnlySpan<byte> data) => data.IsEmpty || _chunks.Writer.TryWrite(data.ToArray());

    public void Complete() => _chunks.Writer.TryComplete();

    public async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken)
    {
        if (_pending is null)
        {
            try
            {
                _pending = await _chunks.Reader.ReadAsync(cancellationToken).ConfigureAwait(false);
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

    public void Discard()
    {
        _pending = null;
        while (_chunks.Reader.TryRead(out _))
        {
        }
    }
}
