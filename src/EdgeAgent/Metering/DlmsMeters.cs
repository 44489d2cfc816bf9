using EdgeMeter.Agent.Configuration;
using EdgeMeter.Agent.Storage;
using EdgeMeter.Crypto.Records;
using EdgeMeter.Protocols.Dlms;
using EdgeMeter.Protocols.Modbus;

namespace EdgeMeter.Agent.Metering;

/// <summary>
/// The DLMS/COSEM meters: each keeps its association open between polls, reads its recorded quantities as registers
/// (value and scaler_unit, the scaler read once per association), and sits behind its own circuit breaker, so a dead
/// meter costs at most one timeout per cycle and nothing while its breaker is open. Meters are read in parallel;
/// each owns its connection. HLS-GMAC invocation counters live in the data directory (<c>dlms-ID.ic</c>). A meter
/// with a load profile also has its captured rows read back at start and once a day (<see cref="DlmsProfileCatchUp"/>).
/// </summary>
internal sealed class DlmsMeters : IMeterSource, IAsyncDisposable
{
    private readonly List<Meter> _meters;

    /// <param name="meters">The DLMS meters.</param>
    /// <param name="dataDirectory">Where the HLS-GMAC counter files and the load-profile marks live.</param>
    /// <param name="time">Clock for the breakers and reading times.</param>
    /// <param name="counters">The process's counter files (shared with the page's test read); not owned.</param>
    /// <param name="storedReadBack">The newest read-back row of a meter id in the store's last commit; null: the load
    /// profiles are not read back (the page's test read).</param>
    public DlmsMeters(IReadOnlyList<MeterChannel> meters, string dataDirectory, TimeProvider time, DlmsCounterFiles counters, Func<string, DateTimeOffset?>? storedReadBack = null) =>
        _meters = [.. meters.Select(m => new Meter(m, dataDirectory, time, counters, storedReadBack))];

    public async Task<IReadOnlyList<MeterRead>> ReadAllAsync(CancellationToken ct) =>
        await Task.WhenAll(_meters.Select(m => m.ReadAsync(ct))).ConfigureAwait(false);

    public IReadOnlyDictionary<string, ModbusDeviceStatus> Status => _meters.ToDictionary(m => m.Channel.Id, m => m.Status(), StringComparer.Ordinal);

    public void Stored(IReadOnlyList<SignedReading> records)
    {
        foreach (var meter in _meters)
        {
            if (meter.CatchUp is not { } catchUp)
                continue;
            long newest = long.MinValue;
            foreach (var r in records)
            {
                if (r.Reading is { Origin: RecordOrigin.MeterMemory } reading && reading.MeterTimeMs > newest && reading.MeterId == meter.Channel.Id)
                    newest = reading.MeterTimeMs;
            }
            if (newest != long.MinValue)
                catchUp.Stored(DateTimeOffset.FromUnixTimeMilliseconds(newest));
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var meter in _meters)
            await meter.DisposeAsync().ConfigureAwait(false);
    }

    private sealed class Meter(MeterChannel channel, string dataDirectory, TimeProvider time, DlmsCounterFiles counterFiles, Func<string, DateTimeOffset?>? storedReadBack) : IAsyncDisposable
    {
        private readonly CircuitBreaker _breaker = new(3, TimeSpan.FromSeconds(30), time);
        private readonly Dictionary<string, (sbyte Scaler, DlmsUnit Unit)> _scalers = new(StringComparer.Ordinal);
        private DlmsClient? _client;
        private DlmsCounterFile? _counters;
        private long _reads, _failed, _skipped, _requests, _timeouts, _errors;
        private DateTimeOffset? _lastSuccess;
        private string? _lastError;

        public MeterChannel Channel => channel;

        public DlmsProfileCatchUp? CatchUp { get; } = channel.Options.Dlms.LoadProfile is { } profile && storedReadBack is not null
            ? new DlmsProfileCatchUp(channel, ObisCode.Parse(profile),
                new DlmsProfileMark(Path.Combine(dataDirectory, $"dlms-{channel.Id}.profile"), storedReadBack(channel.Id)), time)
            : null;

        public async Task<MeterRead> ReadAsync(CancellationToken ct)
        {
            if (!_breaker.TryAcquire())
            {
                _skipped++;
                return new MeterRead(channel, time.GetUtcNow(), null, "circuit breaker open");
            }

            try
            {
                _client ??= await ConnectAsync(ct).ConfigureAwait(false);
                IReadOnlyList<ReadBackValue> readBack = [];
                if (CatchUp is { Due: true } catchUp)
                {
                    try
                    {
                        readBack = await catchUp.ReadAsync(_client, ScalerOfAsync, ct).ConfigureAwait(false);
                    }
                    catch (DlmsException e)
                    {
                        // The meter refuses the profile: its live registers are still worth reading.
                        catchUp.Failed(e.Message);
                    }
                    catch (Exception e) when (e is TimeoutException or IOException or System.Net.Sockets.SocketException)
                    {
                        // The link dropped during the read-back: reconnect as usual, but a profile too slow to read must
                        // not keep the live readings from ever arriving, so it waits its retry time.
                        catchUp.Failed(e.Message);
                        throw;
                    }
                }
                var values = new List<QuantityReading>(channel.Recorded.Count);
                foreach (string quantity in channel.Recorded.Order(StringComparer.Ordinal))
                {
                    var obis = ObisCode.Parse(DlmsQuantities.ObisOf(channel.Options, quantity));
                    _requests++;
                    var raw = await _client.GetAsync(new CosemAttribute(3, obis, 2), ct).ConfigureAwait(false);
                    if (!_scalers.TryGetValue(quantity, out var su))
                    {
                        _requests++;
                        var q = DlmsClient.ToQuantity(raw, await _client.GetAsync(new CosemAttribute(3, obis, 3), ct).ConfigureAwait(false));
                        su = (q.Scaler, q.Unit);
                        _scalers[quantity] = su;
                    }

                    values.Add(new QuantityReading(quantity, obis.ToReducedId(), raw.ToInt64(), su.Scaler, DlmsUnits.Symbol(su.Unit)));
                }

                _reads++;
                _breaker.RecordSuccess();
                _lastSuccess = time.GetUtcNow();
                _lastError = null;
                return new MeterRead(channel, _lastSuccess.Value, values, null) { ReadBack = readBack };
            }
            catch (Exception e) when (e is DlmsException or TimeoutException or IOException or System.Net.Sockets.SocketException or UnauthorizedAccessException)
            {
                _failed++;
                if (e is TimeoutException)
                    _timeouts++;
                else
                    _errors++;
                _breaker.RecordFailure();
                _lastError = $"{channel.Options.Endpoint}: {e.Message}";
                await DropAsync().ConfigureAwait(false);
                return new MeterRead(channel, time.GetUtcNow(), null, _lastError, e);
            }
        }

        private async Task<(sbyte Scaler, DlmsUnit Unit)> ScalerOfAsync(ObisCode register, CancellationToken ct)
        {
            _requests++;
            var q = DlmsClient.ToQuantity(DlmsValue.FromSigned(DlmsDataType.Long64, 0),
                await _client!.GetAsync(new CosemAttribute(3, register, 3), ct).ConfigureAwait(false));
            return (q.Scaler, q.Unit);
        }

        private async Task<DlmsClient> ConnectAsync(CancellationToken ct)
        {
            var o = channel.Options;
            var endpoint = DlmsEndpoint.Parse(o.Endpoint);
            bool hdlc = o.Dlms.Transport == "hdlc" || (o.Dlms.Transport is null && endpoint.IsSerial);
            if (o.Dlms.Authentication == "hls-gmac")
                _counters ??= counterFiles.Open(Path.Combine(dataDirectory, $"dlms-{o.Id}.ic"));
            var settings = o.Dlms.ToClientSettings(_counters, _counters?.LastServerCounter);
            var timeout = TimeSpan.FromMilliseconds(o.TimeoutMs);
            var byteChannel = await endpoint.OpenChannelAsync(TimeSpan.FromSeconds(5), ct).ConfigureAwait(false);
            IDlmsTransport transport = hdlc
                ? new HdlcTransport(byteChannel, HdlcAddress.Client((byte)o.Dlms.Client),
                    o.Dlms.PhysicalAddress is { } physical ? HdlcAddress.Server((ushort)o.Dlms.Server, (ushort)physical) : HdlcAddress.Server((ushort)o.Dlms.Server), timeout)
                : new DlmsWrapperTransport(byteChannel, (ushort)o.Dlms.Client, (ushort)o.Dlms.Server, timeout);
            var client = new DlmsClient(transport, settings);
            try
            {
                _requests++;
                await client.ConnectAsync(ct).ConfigureAwait(false);
                _scalers.Clear();
                return client;
            }
            catch
            {
                _counters?.RecordServerCounter(client.LastServerInvocationCounter);
                await client.DisposeAsync().ConfigureAwait(false);
                throw;
            }
        }

        private async Task DropAsync()
        {
            if (_client is not null)
            {
                _counters?.RecordServerCounter(_client.LastServerInvocationCounter);
                await _client.DisposeAsync().ConfigureAwait(false);
                _client = null;
            }
        }

        public ModbusDeviceStatus Status() => new(channel.Id, 0, "dlms", _breaker.State,
            new ModbusUnitStatistics(_requests, _requests - _timeouts - _errors, _timeouts, 0, 0, _errors, 0, TimeSpan.Zero, TimeSpan.Zero),
            _reads, _failed, _skipped, _lastSuccess, _lastError);

        public async ValueTask DisposeAsync()
        {
            if (_client is not null)
            {
                try
                {
                    using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(2));
                    await _client.ReleaseAsync(cts.Token).ConfigureAwait(false);
                }
                catch (Exception e) when (e is DlmsException or TimeoutException or IOException or OperationCanceledException)
                {
                    // Going away anyway; the meter drops the association on its own.
                }
            }

            await DropAsync().ConfigureAwait(false);
        }
    }
}

/// <summary>Modbus buses and DLMS meters read as one source by the poller.</summary>
internal sealed class MeterSources(ModbusBuses modbus, DlmsMeters dlms) : IMeterSource, IAsyncDisposable
{
    public MeterSources(IReadOnlyList<MeterChannel> meters, string dataDirectory, TimeProvider time, DlmsCounterFiles counters, Func<string, DateTimeOffset?>? storedReadBack = null)
        : this(new ModbusBuses([.. meters.Where(m => !DlmsMeterOptions.IsDlms(m.Options))], time),
               new DlmsMeters([.. meters.Where(m => DlmsMeterOptions.IsDlms(m.Options))], dataDirectory, time, counters, storedReadBack))
    {
    }

    public async Task<IReadOnlyList<MeterRead>> ReadAllAsync(CancellationToken ct)
    {
        var both = await Task.WhenAll(modbus.ReadAllAsync(ct), dlms.ReadAllAsync(ct)).ConfigureAwait(false);
        return [.. both[0], .. both[1]];
    }

    public void Stored(IReadOnlyList<SignedReading> records) => dlms.Stored(records);

    public IReadOnlyDictionary<string, ModbusDeviceStatus> Status =>
        modbus.Status.Concat(dlms.Status).ToDictionary(kv => kv.Key, kv => kv.Value, StringComparer.Ordinal);

    public async ValueTask DisposeAsync()
    {
        await modbus.DisposeAsync().ConfigureAwait(false);
        await dlms.DisposeAsync().ConfigureAwait(false);
    }
}
