using System.Collections.Concurrent;
using LiteDB.Engine;

namespace EdgeMeter.Agent.Storage;

/// <summary>
/// LiteDB engines whose file failed, kept reachable until the process ends.
/// </summary>
/// <remarks>
/// LiteDB 5.0.20 closes its engine when a read, write or sync of its file throws. A commit the failure interrupted
/// has already handed pages to the log writer, so disposing its transaction throws; the engine then keeps it, not
/// disposed, and when the engine becomes garbage the transaction's finalizer throws again ("discarded page must be
/// writable") on the finalizer thread, which ends the process. Kept here, it is never finalized. A store whose
/// file failed refuses further work until a restart, so this holds one engine's buffers per failed file.
/// </remarks>
internal static class FaultedEngines
{
    private static readonly ConcurrentBag<LiteEngine> s_kept = [];

    public static int Count => s_kept.Count;

    public static void Keep(LiteEngine engine) => s_kept.Add(engine);
}
