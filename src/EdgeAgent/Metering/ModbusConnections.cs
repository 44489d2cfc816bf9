using EdgeMeter.Protocols.Modbus;

namespace EdgeMeter.Agent.Metering;

/// <summary>
/// One Modbus client per endpoint (one per physical bus or TCP gateway), shared by the meters on it and
/// reopened after a failure. Owns the clients it opens.
/// </summary>
internal sealed class ModbusConnections : IAsyncDisposable
{
    private readonly Dictionary<string, ModbusClient> _clients = new(StringComparer.Ordinal);
    private readonly Dictionary<string, SemaphoreSlim> _locks = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();

    /// <summary>Reads a meter's map through its endpoint's client, one request at a time per endpoint.</summary>
    public async ValueTask<IReadOnlyList<QuantityReading>> ReadAsync(MeterChannel meter, CancellationToken ct)
    {
        var key = meter.Options.Endpoint;
        SemaphoreSlim bus;
        lock (_gate)
        {
            if (!_locks.TryGetValue(key, out bus!))
                _locks[key] = bus = new SemaphoreSlim(1, 1);
        }
        await bus.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            var client = await GetClientAsync(meter, ct).ConfigureAwait(false);
            try
            {
                var reader = new MeterReader(client, (byte)meter.Options.Unit, meter.Map);
                return await reader.ReadAsync(ct).ConfigureAwait(false);
            }
            catch (Exception e) when (e is IOException or System.Net.Sockets.SocketException or ObjectDisposedException)
            {
                // The connection is gone; drop it so the next cycle reconnects.
                lock (_gate)
                    _clients.Remove(key);
                await client.DisposeAsync().ConfigureAwait(false);
                throw new IOException($"{key}: {e.Message}", e);
            }
        }
        finally
        {
            bus.Release();
        }
    }

    private async ValueTask<ModbusClient> GetClientAsync(MeterChannel meter, CancellationToken ct)
    {
        var key = meter.Options.Endpoint;
        lock (_gate)
        {
            if (_clients.TryGetValue(key, out var existing))
                return existing;
        }
        var options = new ModbusClientOptions { Timeout = TimeSpan.FromMilliseconds(meter.Options.TimeoutMs) };
        var client = await ModbusClient.ConnectAsync(ModbusEndpoint.Parse(key), options, ct).ConfigureAwait(false);
        lock (_gate)
            _clients[key] = client;
        return client;
    }

    public async ValueTask DisposeAsync()
    {
        List<ModbusClient> clients;
        lock (_gate)
        {
            clients = [.. _clients.Values];
            _clients.Clear();
        }
        foreach (var c in clients)
            await c.DisposeAsync().ConfigureAwait(false);
        foreach (var l in _locks.Values)
            l.Dispose();
    }
}
