using System.Runtime.CompilerServices;

namespace EdgeMeter.Agent.Storage;

/// <summary>
/// Bounds LiteDB's page cache, for every database this process opens (the agent's store, the claim outbox, the
/// development ledger).
/// </summary>
/// <remarks>
/// LiteDB 5.0.20 caches pages in segments of 12, 50, 100, 500 and then 1,000 pages of 8 KB
/// (<c>LiteDB.Constants.MEMORY_SEGMENT_SIZES</c>), each one <c>byte[]</c> on the large-object heap that it never gives
/// back. It allocates the next segment whenever its free list is empty and no more than that segment's size of
/// cached pages are unused, so a database that touches more than 662 pages between two checkpoints (the log alone
/// reaches 1,000 pages before LiteDB checkpoints; the ledger reads a whole month of readings for each claim) grows
/// to 1,662 pages, 13 MB, and a second 1,000-page segment is one busy moment away. The demo runs three databases in
/// one process: measured, its large-object heap went from 0 to 27.7 MB in five minutes, all of it these segments.
/// With the sizes set to 12, 50 and then 100 pages, LiteDB reuses its least recently used unused pages as soon as
/// more than 100 are cached, so a cache holds what its transactions have in use plus about 100 pages. LiteDB 5.0.20
/// reads the sizes when it opens a database and offers no setting for them, hence the accessor: bound at compile
/// time, no reflection, and a missing field fails the first database open here and the test that pins it
/// (<c>LiteDbCacheTests</c>), not silently.
/// </remarks>
internal static class LiteDbCache
{
    /// <summary>Pages per segment as LiteDB 5.0.20 ships them.</summary>
    public static readonly IReadOnlyList<int> LiteDbDefault = [12, 50, 100, 500, 1000];

    /// <summary>Pages per segment here: at most 100 more pages (800 KB) at a time, and only while pages are in use.</summary>
    public static readonly IReadOnlyList<int> Bounded = [12, 50, 100];

    [UnsafeAccessor(UnsafeAccessorKind.StaticField, Name = "MEMORY_SEGMENT_SIZES")]
    private static extern ref int[] SegmentSizes([UnsafeAccessorType("LiteDB.Constants, LiteDB")] object? constants);

    /// <summary>The segment sizes LiteDB will use for the next database opened.</summary>
    public static IReadOnlyList<int> Current => SegmentSizes(null);

    /// <summary>Runs before any code of this assembly, so before any database is opened.</summary>
#pragma warning disable CA2255 // A module initializer is the one place that runs before every LiteDB open, tests included.
    [ModuleInitializer]
    internal static void Bound() => Set(Bounded);

    /// <summary>Sets the sizes for databases opened from now on (tests compare LiteDB's own).</summary>
    internal static void Set(IReadOnlyList<int> pagesPerSegment) => SegmentSizes(null) = [.. pagesPerSegment];
#pragma warning restore CA2255
}
