namespace EdgeMeter.Agent.Tests.Support;

/// <summary>
/// A disk in memory that takes writes until it breaks, then refuses every write and every flush (sync) with EIO, as a
/// failing SD card does. Thread-safe for LiteDB's writer thread: the break may come from the test's thread.
/// </summary>
internal sealed class BreakingStream : MemoryStream
{
    private int _writesLeft = int.MaxValue;

    /// <summary>Breaks now: the next write and the next flush fail.</summary>
    public void Break() => Volatile.Write(ref _writesLeft, -1);

    /// <summary>Breaks after <paramref name="writes"/> more writes (a flush fails once a write has).</summary>
    public void BreakAfter(int writes) => Volatile.Write(ref _writesLeft, writes);

    public override void Write(byte[] buffer, int offset, int count)
    {
        if (Interlocked.Decrement(ref _writesLeft) < 0)
            throw new IOException("EIO");
        base.Write(buffer, offset, count);
    }

    public override void Flush()
    {
        if (Volatile.Read(ref _writesLeft) < 0)
            throw new IOException("EIO");
    }
}
