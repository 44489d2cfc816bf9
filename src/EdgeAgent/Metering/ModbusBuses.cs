using EdgeMeter.Crypto.Records;
using EdgeMeter.Protocols.Modbus;

namespace EdgeMeter.Agent.Metering;

/// <summary>One meter's result in a poll cycle: values, or why there are none (and, where one was caught, the exception that said so).</summary>
internal sealed record MeterRead(MeterChannel Meter, DateTimeOffset At, IReadOnlyList<QuantityReading>? Values, string? Error, Exception? Cause = null)
{
    /// <summary>Values read back from the meter's memory (its load profile) in this cycle, oldest first.</summary>
    public IReadOnlyList<ReadBackValue> ReadBack { get; init; } = [];
}

/// <summary>Where a poll cycle's readings come from.</summary>
internal interface IMeterSource
{
    Task<IReadOnlyList<MeterRead>> ReadAllAsync(CancellationToken ct);

    /// <summary>Traffic and breaker state per meter id, for the status page.</summary>
    IReadOnlyDictionary<string, ModbusDeviceStatus> Status { get; }

    /// <summary>The poller's commit put these records on the medium (a source that reads back history moves its mark).</summary>
    void Stored(IReadOnlyList<SignedReading> records)
    {
    }
}

/// <summary>
/// The meters grouped by bus (one endpoint = one RS-485 line or one TCP gateway), each bus behind a
/// <see cref="ModbusBusScheduler"/>: one request on the wire at a time, per-meter timeouts and circuit breakers, so a
/// dead meter costs the others at most one timeout per cycle and nothing once its breaker is open. Different buses
/// are read in parallel. Owns the clients it opens.
/// </summary>
internal sealed class ModbusBuses : IMeterSource, IAsyncDisposable
{
    private readonly List<Bus> _buses;
    private readonly TimeProvider _time;

    public ModbusBuses(IReadOnlyList<MeterChannel> meters, TimeProvider time)
    {
        _time = time;
        _buses = meters.GroupBy(m => m.Options.Endpoint, StringComparer.Ordinal)
            .Select(g => new Bus(g.Key, [.. g], time))
            .ToList();
    }

    public async Task<IReadOnlyList<MeterRead>> ReadAllAsync(CancellationToken ct)
    {
        var perBus = await Task.WhenAll(_buses.Select(b => b.ReadAsync(ct))).ConfigureAwait(false);
        return [.. perBus.SelectMany(r => r)];
    }

    public IReadOnlyDictionary<string, ModbusDeviceStatus> Status =>
        _buses.SelectMany(b => b.Status()).ToDictionary(s => s.Device, StringComparer.Ordinal);

    public async ValueTask DisposeAsync()
    {
        foreach (var bus in _buses)
            await bus.DisposeAsync().ConfigureAwait(false);
    }

    private sealed class Bus(string endpoint, IReadOnlyList<MeterChannel> meters, TimeProvider time) : IAsyncDisposable
    {
        private readonly Dictionary<string, MeterChannel> _byId = meters.ToDictionary(m => m.Id, StringComparer.Ordinal);
        private ModbusClient? _client;
        private ModbusBusScheduler? _scheduler;

        public async Task<IReadOnlyList<MeterRead>> ReadAsync(CancellationToken ct)
        {
            if (_scheduler is null)
            {
                try
                {
                    await OpenAsync(ct).ConfigureAwait(false);
                }
                catch (Exception e) when (e is IOException or System.Net.Sockets.SocketException or TimeoutException or OperationCanceledException or UnauthorizedAccessException)
                {
                    if (ct.IsCancellationRequested)
                        throw;
                    var now = time.GetUtcNow();
                    return [.. meters.Select(m => new MeterRead(m, now, null, $"{endpoint}: {e.Message}"))];
                }
            }
            var results = await _scheduler!.PollOnceAsync(ct).ConfigureAwait(false);
            return [.. results.Select(r => new MeterRead(_byId[r.Device], r.Timestamp, r.Readings,
                r.Skipped ? "circuit breaker open" : r.Error?.Message))];
        }

        private async Task OpenAsync(CancellationToken ct)
        {
            var timeout = TimeSpan.FromMilliseconds(meters.Max(m => m.Options.TimeoutMs));
            var options = new ModbusClientOptions { Timeout = timeout, TimeProvider = time };
            _client = await ModbusClient.ConnectAsync(ModbusEndpoint.Parse(endpoint), options, ct).ConfigureAwait(false);
            _scheduler = new ModbusBusScheduler(_client, time);
            foreach (var m in meters)
            {
                _scheduler.AddDevice(m.Id, (byte)m.Options.Unit, m.Map,
                    new ModbusDeviceOptions { Timeout = TimeSpan.FromMilliseconds(m.Options.TimeoutMs) });
            }
        }

        public IEnumerable<ModbusDeviceStatus> Status() => _scheduler?.GetStatus() ?? [];

        public async ValueTask DisposeAsync()
        {
            _scheduler?.Dispose();
            if (_client is not null)
                await _client.DisposeAsync().ConfigureAwait(false);
        }
    }
}
