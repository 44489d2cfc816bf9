namespace EdgeMeter.Agent.Hosting;

/// <summary>A background loop of the agent that ended with an error: the agent stops, non-zero.</summary>
internal sealed class LoopFailedException(string loop, Exception error)
    : Exception($"{loop} loop failed: {error.GetType().Name}: {error.Message}", error)
{
    /// <summary>The loop's name (poller, uplink, retention, claims, display).</summary>
    public string Loop { get; } = loop;
}

/// <summary>
/// Runs the agent's background loops together. The first one that fails cancels the others and surfaces as a
/// <see cref="LoopFailedException"/> naming it, at once: not after the others ended, as <c>Task.WhenAll</c> would,
/// and never as a silent dead loop in a process that carries on.
/// </summary>
internal static class Supervision
{
    /// <summary>A named loop; it ends when its token is cancelled.</summary>
    public readonly record struct Loop(string Name, Func<CancellationToken, Task> Run);

    /// <summary>
    /// Runs <paramref name="loops"/> until all ended. A cancellation of <paramref name="ct"/> is an orderly stop.
    /// </summary>
    /// <exception cref="LoopFailedException">A loop failed; the others were cancelled and awaited.</exception>
    public static async Task RunAsync(IReadOnlyList<Loop> loops, CancellationToken ct)
    {
        using var all = CancellationTokenSource.CreateLinkedTokenSource(ct);
        LoopFailedException? first = null;
        var tasks = loops.Select(l => GuardAsync(l)).ToArray();
        await Task.WhenAll(tasks).ConfigureAwait(false);
        if (first is not null)
            throw first;

        async Task GuardAsync(Loop loop)
        {
            try
            {
                await loop.Run(all.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (all.IsCancellationRequested)
            {
            }
            catch (Exception e)
            {
                Interlocked.CompareExchange(ref first, new LoopFailedException(loop.Name, e), null);
                await all.CancelAsync().ConfigureAwait(false);
            }
        }
    }

    /// <summary>
    /// A loop for a task started elsewhere (the uplink, the display): it fails when the task fails, and ends
    /// when the task ends or the supervisor stops.
    /// </summary>
    public static Loop Watch(string name, Task task) => new(name, async ct =>
    {
        await Task.WhenAny(task, Task.Delay(Timeout.Infinite, ct)).ConfigureAwait(false);
        if (task.IsFaulted)
            await task.ConfigureAwait(false);
    });
}
