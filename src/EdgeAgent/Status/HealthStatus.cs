namespace EdgeMeter.Agent.Status;

/// <summary>The gateway's own resources: free space under the data directory and the agent's memory.</summary>
/// <param name="DiskFreeMegabytes">Free space for the data directory; null when it cannot be read.</param>
/// <param name="DiskLow">Below <c>storage.minFreeMegabytes</c>: confirmed records are pruned, unconfirmed ones wait.</param>
/// <param name="MemoryMegabytes">The agent's resident memory.</param>
/// <param name="MemoryHigh">Above <see cref="MemoryAlarmMegabytes"/>.</param>
internal sealed record HealthStatus(long? DiskFreeMegabytes, bool DiskLow, long MemoryMegabytes, bool MemoryHigh)
{
    /// <summary>
    /// Resident memory that raises the alarm. The agent runs in about 40 MB and a day's backlog drains in about
    /// 110 MB; above this, on a 512 MB Raspberry Pi Zero 2 W, something is wrong.
    /// </summary>
    public const long MemoryAlarmMegabytes = 200;

    /// <summary>Reads both now.</summary>
    /// <param name="dataDirectory">Where the agent writes.</param>
    /// <param name="minFreeMegabytes">The disk alarm threshold.</param>
    public static HealthStatus Read(string dataDirectory, long minFreeMegabytes)
    {
        long? free;
        try
        {
            free = new DriveInfo(dataDirectory).AvailableFreeSpace / (1024 * 1024);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException)
        {
            free = null;
        }

        long memory = Environment.WorkingSet / (1024 * 1024);
        return new HealthStatus(free, free < minFreeMegabytes, memory, memory > MemoryAlarmMegabytes);
    }
}
