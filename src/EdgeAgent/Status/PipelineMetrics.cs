namespace EdgeMeter.Agent.Status;

/// <summary>Thread-safe counters along the reading pipeline.</summary>
internal sealed class PipelineMetrics
{
    private long _readings;
    private long _signed;
    private long _stored;
    private long _published;
    private long _confirmed;
    private long _droppedUnsigned;
    private long _firstSignedSinceStartMs = -1;
    private long _firstPollMs = -1;

    public void AddReadings(long n) => Interlocked.Add(ref _readings, n);
    public void AddSigned(long n) => Interlocked.Add(ref _signed, n);
    public void AddStored(long n) => Interlocked.Add(ref _stored, n);
    public void AddPublished(long n) => Interlocked.Add(ref _published, n);
    public void AddConfirmed(long n) => Interlocked.Add(ref _confirmed, n);
    public void AddDroppedUnsigned(long n) => Interlocked.Add(ref _droppedUnsigned, n);

    /// <summary>
    /// Records, once, how long after process start the first live reading was signed and stored, and how long the
    /// poll that read it took: the start-up figure (README, Measurements). False when it was recorded before.
    /// </summary>
    public bool MarkFirstSigned(long pollMs)
    {
        if (Interlocked.CompareExchange(ref _firstPollMs, pollMs, -1) != -1)
            return false;
        Interlocked.Exchange(ref _firstSignedSinceStartMs, ProcessClock.SinceStartMs());
        return true;
    }

    /// <summary>Milliseconds from process start to the first signed live reading (10 ms resolution); -1 before.</summary>
    public long FirstSignedSinceStartMs => Interlocked.Read(ref _firstSignedSinceStartMs);

    /// <summary>How long the poll cycle that produced the first signed reading took (ms); -1 before.</summary>
    public long FirstPollMs => Interlocked.Read(ref _firstPollMs);

    /// <summary>Unsigned readings dropped because the disk kept failing (the storage alarm).</summary>
    public long DroppedUnsigned => Interlocked.Read(ref _droppedUnsigned);

    public PipelineCounters Snapshot(long outboxPending) => new(
        Interlocked.Read(ref _readings),
        Interlocked.Read(ref _signed),
        Interlocked.Read(ref _stored),
        Interlocked.Read(ref _published),
        Interlocked.Read(ref _confirmed),
        outboxPending)
    {
        DroppedUnsigned = DroppedUnsigned,
    };
}
