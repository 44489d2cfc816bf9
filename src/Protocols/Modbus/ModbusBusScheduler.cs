namespace EdgeMeter.Protocols.Modbus;

/// <summary>How one device on a bus is polled.</summary>
public sealed record ModbusDeviceOptions
{
    /// <summary>Defaults: 500 ms timeout, 1 retry (Busy/Acknowledge/corrupt frame only), breaker opens after 3 failed reads for 30 s.</summary>
    public static ModbusDeviceOptions Default { get; } = new();

    /// <summary>Response timeout for this device (slow meters get more, without slowing the others' timeouts).</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromMilliseconds(500);

    /// <summary>Retries within one cycle for Busy/Acknowledge and rejected frames. Timeouts are never retried within a cycle.</summary>
    public int MaxRetries { get; init; } = 1;

    /// <summary>Consecutive failed reads that open the breaker.</summary>
    public int FailureThreshold { get; init; } = 3;

    /// <summary>How long an open breaker skips the device before one trial read.</summary>
    public TimeSpan OpenDuration { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Throws <see cref="ArgumentException"/> naming the first bad setting.</summary>
    public void Validate()
    {
        if (Timeout <= TimeSpan.Zero)
        {
            throw new ArgumentException("Timeout must be positive", nameof(Timeout));
        }

        if (MaxRetries is < 0 or > 10)
        {
            throw new ArgumentException("MaxRetries must be 0..10", nameof(MaxRetries));
        }

        if (FailureThreshold < 1)
        {
            throw new ArgumentException("FailureThreshold must be at least 1", nameof(FailureThreshold));
        }

        if (OpenDuration < TimeSpan.Zero)
        {
            throw new ArgumentException("OpenDuration must not be negative", nameof(OpenDuration));
        }
    }
}

/// <summary>The outcome of reading one device in one cycle.</summary>
/// <param name="Device">Device name.</param>
/// <param name="Unit">Unit id.</param>
/// <param name="Timestamp">When the read finished (or was skipped).</param>
/// <param name="Readings">All quantities, or null if the read failed or was skipped.</param>
/// <param name="Error">Why the read failed; null on success or skip.</param>
/// <param name="Skipped">True when the open breaker skipped the device.</param>
public sealed record ModbusDeviceReading(string Device, byte Unit, DateTimeOffset Timestamp, IReadOnlyList<QuantityReading>? Readings, Exception? Error, bool Skipped)
{
    /// <summary>Whether readings are present.</summary>
    public bool Succeeded => Readings is not null;
}

/// <summary>Per-device health for status pages.</summary>
/// <param name="Device">Device name.</param>
/// <param name="Unit">Unit id.</param>
/// <param name="Map">Register map name.</param>
/// <param name="Breaker">Breaker state.</param>
/// <param name="Traffic">Request, timeout, CRC, exception and latency counters of the unit.</param>
/// <param name="Reads">Successful full reads.</param>
/// <param name="FailedReads">Failed full reads.</param>
/// <param name="SkippedReads">Cycles skipped by the open breaker.</param>
/// <param name="LastSuccess">Time of the last successful read.</param>
/// <param name="LastError">Message of the last failure.</param>
public sealed record ModbusDeviceStatus(string Device, byte Unit, string Map, CircuitState Breaker, ModbusUnitStatistics Traffic,
    long Reads, long FailedReads, long SkippedReads, DateTimeOffset? LastSuccess, string? LastError);

/// <summary>
/// Polls every device on one physical bus through one queue: one request on the wire at a time, devices read in
/// turn with their own timeouts and circuit breakers, so a dead meter costs the others at most one timeout per
/// cycle and nothing once its breaker is open. Create one scheduler per bus (per serial line or TCP gateway).
/// </summary>
public sealed class ModbusBusScheduler : IDisposable
{
    private readonly ModbusClient _client;
    private readonly TimeProvider _time;
    private readonly List<Device> _devices = [];
    private readonly SemaphoreSlim _queue = new(1, 1);

    /// <summary>A scheduler over <paramref name="client"/>'s bus; the caller keeps ownership of the client.</summary>
    /// <param name="client">The bus.</param>
    /// <param name="timeProvider">Clock for breaker periods and timestamps (system clock if null).</param>
    public ModbusBusScheduler(ModbusClient client, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(client);
        _client = client;
        _time = timeProvider ?? TimeProvider.System;
    }

    /// <summary>The bus.</summary>
    public ModbusClient Client => _client;

    /// <summary>Adds a device; names must be unique on the bus.</summary>
    public void AddDevice(string name, byte unit, RegisterMap map, ModbusDeviceOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(map);
        options ??= ModbusDeviceOptions.Default;
        options.Validate();
        lock (_devices)
        {
            if (_devices.Exists(d => d.Name == name))
            {
                throw new ArgumentException($"device '{name}' already on this bus", nameof(name));
            }

            _devices.Add(new Device(name, new MeterReader(_client, unit, map), options,
                new CircuitBreaker(options.FailureThreshold, options.OpenDuration, _time)));
        }
    }

    /// <summary>Reads every device once, in the order added. Failures are reported in the results, not thrown.</summary>
    public async Task<IReadOnlyList<ModbusDeviceReading>> PollOnceAsync(CancellationToken cancellationToken)
    {
        Device[] devices;
        lock (_devices)
        {
            devices = [.. _devices];
        }

        var results = new List<ModbusDeviceReading>(devices.Length);
        foreach (var device in devices)
        {
            results.Add(await ReadDeviceAsync(device, cancellationToken).ConfigureAwait(false));
        }

        return results;
    }

    /// <summary>Polls every <paramref name="interval"/> until cancelled, handing each device's result to <paramref name="onReading"/>.</summary>
    public async Task RunAsync(TimeSpan interval, Func<ModbusDeviceReading, CancellationToken, ValueTask> onReading, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(onReading);
        using var timer = new PeriodicTimer(interval, _time);
        do
        {
            foreach (var reading in await PollOnceAsync(cancellationToken).ConfigureAwait(false))
            {
                await onReading(reading, cancellationToken).ConfigureAwait(false);
            }
        }
        while (await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false));
    }

    /// <summary>Runs an ad-hoc operation (a write, an identification) in the bus queue between device reads.</summary>
    public async Task<T> ExecuteAsync<T>(Func<ModbusClient, CancellationToken, Task<T>> operation, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(operation);
        await _queue.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            return await operation(_client, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _queue.Release();
        }
    }

    /// <summary>Health of every device.</summary>
    public IReadOnlyList<ModbusDeviceStatus> GetStatus()
    {
        lock (_devices)
        {
            return [.. _devices.Select(d => d.Status(_client))];
        }
    }

    /// <inheritdoc/>
    public void Dispose() => _queue.Dispose();

    private async Task<ModbusDeviceReading> ReadDeviceAsync(Device device, CancellationToken cancellationToken)
    {
        await _queue.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (!device.Breaker.TryAcquire())
            {
                device.Skipped++;
                return new ModbusDeviceReading(device.Name, device.Reader.Unit, _time.GetUtcNow(), null, null, Skipped: true);
            }

            try
            {
                var readings = await device.Reader.ReadAsync(device.Policy, cancellationToken).ConfigureAwait(false);
                device.Breaker.RecordSuccess();
                device.Reads++;
                device.LastSuccess = _time.GetUtcNow();
                return new ModbusDeviceReading(device.Name, device.Reader.Unit, device.LastSuccess.Value, readings, null, Skipped: false);
            }
            catch (Exception e) when (e is TimeoutException or ModbusException or ModbusFrameException or RegisterValueException or IOException)
            {
                device.Breaker.RecordFailure();
                device.Failed++;
                device.LastError = e.Message;
                return new ModbusDeviceReading(device.Name, device.Reader.Unit, _time.GetUtcNow(), null, e, Skipped: false);
            }
        }
        finally
        {
            _queue.Release();
        }
    }

    private sealed class Device(string name, MeterReader reader, ModbusDeviceOptions options, CircuitBreaker breaker)
    {
        public string Name { get; } = name;

        public MeterReader Reader { get; } = reader;

        public CircuitBreaker Breaker { get; } = breaker;

        public RequestPolicy Policy { get; } = new(options.Timeout, options.MaxRetries, RetryTimeouts: false);

        public long Reads { get; set; }

        public long Failed { get; set; }

        public long Skipped { get; set; }

        public DateTimeOffset? LastSuccess { get; set; }

        public string? LastError { get; set; }

        public ModbusDeviceStatus Status(ModbusClient client) => new(Name, Reader.Unit, Reader.Map.Name, Breaker.State,
            client.GetStatistics(Reader.Unit), Reads, Failed, Skipped, LastSuccess, LastError);
    }
}
