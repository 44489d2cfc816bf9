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

    public void AddReadings(long n) => Interlocked.Add(ref _readings, n);
    public void AddSigned(long n) => Interlocked.Add(ref _signed, n);
    public void AddStored(long n) => Interlocked.Add(ref _stored, n);
    public void AddPublished(long n) => Interlocked.Add(ref _published, n);
    public void AddConfirmed(long n) => Interlocked.Add(ref _confirmed, n);
    public void AddDroppedUnsigned(long n) => Interlocked.Add(ref _droppedUnsigned, n);

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
