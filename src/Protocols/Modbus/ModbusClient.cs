using System.Collections.Concurrent;
using System.Text;
using EdgeMeter.Protocols.Transport;

namespace EdgeMeter.Protocols.Modbus;

/// <summary>
/// A Modbus master on one bus (one TCP connection or one serial line). Requests are serialised: at most one
/// is on the wire at a time, whatever the number of callers. The client owns its channel.
/// </summary>
public sealed class ModbusClient : IAsyncDisposable
{
    private readonly ModbusTransport _transport;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly byte[] _request = new byte[ModbusPdu.MaxLength];
    private readonly byte[] _response = new byte[ModbusPdu.MaxLength + 8];
    private readonly ConcurrentDictionary<byte, ModbusUnitCounters> _counters = new();
    private Func<CancellationToken, Task<IByteChannel>>? _reopen;
    private bool _broken;
    private bool _disposed;

    private ModbusClient(ModbusTransport transport, ModbusFraming framing, ModbusClientOptions options)
    {
        _transport = transport;
        Framing = framing;
        Options = options;
    }

    /// <summary>The settings in force.</summary>
    public ModbusClientOptions Options { get; }

    /// <summary>The framing on the wire.</summary>
    public ModbusFraming Framing { get; }

    /// <summary>Where the client is connected, for messages.</summary>
    public string Description => _transport.Description;

    /// <summary>Opens the channel <paramref name="endpoint"/> describes and returns a client over it.</summary>
    public static async Task<ModbusClient> ConnectAsync(ModbusEndpoint endpoint, ModbusClientOptions options, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        var channel = await OpenAsync(endpoint, options, cancellationToken).ConfigureAwait(false);
        var client = Create(channel, endpoint.Framing, options, endpoint.Kind == ModbusTransportKind.Serial ? endpoint.BaudRate : 0);

        // A TCP connection that resets, or a USB adapter that drops out, is reopened on the next request.
        client._reopen = ct => OpenAsync(endpoint, options, ct);
        return client;
    }

    private static async Task<IByteChannel> OpenAsync(ModbusEndpoint endpoint, ModbusClientOptions options, CancellationToken cancellationToken)
    {
        if (endpoint.Kind == ModbusTransportKind.Serial)
        {
            return new SerialByteChannel(endpoint.SerialPath, endpoint.BaudRate, endpoint.Parity, endpoint.StopBits, endpoint.DataBits);
        }

        using var connectCts = new CancellationTokenSource(options.ConnectTimeout, options.TimeProvider);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, connectCts.Token);
        try
        {
            return await TcpByteChannel.ConnectAsync(endpoint.Host, endpoint.Port, linked.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (connectCts.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            throw new TimeoutException($"connecting to {endpoint} timed out after {options.ConnectTimeout.TotalMilliseconds:0} ms");
        }
    }

    /// <summary>
    /// A client over an already open channel (a simulator in tests, a custom transport). For RTU on a real
    /// serial line pass <paramref name="baudRate"/> so the 3.5-character silence is kept; 0 means no silence (tunnelled RTU).
    /// </summary>
    public static ModbusClient Create(IByteChannel channel, ModbusFraming framing, ModbusClientOptions options, int baudRate = 0)
    {
        ArgumentNullException.ThrowIfNull(channel);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        ModbusTransport transport = framing == ModbusFraming.Tcp
            ? new MbapTransport(channel, options.TimeProvider)
            : new RtuTransport(channel, options.TimeProvider, baudRate > 0 ? ModbusRtuFraming.InterFrameDelay(baudRate) : TimeSpan.Zero);
        return new ModbusClient(transport, framing, options);
    }

    /// <summary>Traffic counters of one unit.</summary>
    public ModbusUnitStatistics GetStatistics(byte unit) => CountersFor(unit).Snapshot();

    /// <summary>Traffic counters of every unit this client has talked to.</summary>
    public IReadOnlyDictionary<byte, ModbusUnitStatistics> GetStatistics() =>
        _counters.ToDictionary(kv => kv.Key, kv => kv.Value.Snapshot());

    /// <summary>Function 01: reads <paramref name="count"/> coils.</summary>
    public Task<bool[]> ReadCoilsAsync(byte unit, ushort address, ushort count, CancellationToken cancellationToken) =>
        ReadBitsAsync(ModbusFunction.ReadCoils, unit, address, count, cancellationToken);

    /// <summary>Function 02: reads <paramref name="count"/> discrete inputs.</summary>
    public Task<bool[]> ReadDiscreteInputsAsync(byte unit, ushort address, ushort count, CancellationToken cancellationToken) =>
        ReadBitsAsync(ModbusFunction.ReadDiscreteInputs, unit, address, count, cancellationToken);

    /// <summary>Function 03: reads <paramref name="count"/> (1..125) holding registers.</summary>
    public Task<ushort[]> ReadHoldingRegistersAsync(byte unit, ushort address, ushort count, CancellationToken cancellationToken) =>
        ReadRegistersAsync(ModbusFunction.ReadHoldingRegisters, unit, address, count, null, cancellationToken);

    /// <summary>Function 04: reads <paramref name="count"/> (1..125) input registers.</summary>
    public Task<ushort[]> ReadInputRegistersAsync(byte unit, ushort address, ushort count, CancellationToken cancellationToken) =>
        ReadRegistersAsync(ModbusFunction.ReadInputRegisters, unit, address, count, null, cancellationToken);

    /// <summary>Function 05: writes one coil.</summary>
    public Task WriteSingleCoilAsync(byte unit, ushort address, bool value, CancellationToken cancellationToken) =>
        WriteAsync(unit, request => ModbusPdu.WriteSingleCoilRequest(request, address, value), cancellationToken);

    /// <summary>Function 06: writes one holding register.</summary>
    public Task WriteSingleRegisterAsync(byte unit, ushort address, ushort value, CancellationToken cancellationToken) =>
        WriteAsync(unit, request => ModbusPdu.WriteSingleRegisterRequest(request, address, value), cancellationToken);

    /// <summary>Function 15: writes consecutive coils.</summary>
    public Task WriteMultipleCoilsAsync(byte unit, ushort address, ReadOnlyMemory<bool> values, CancellationToken cancellationToken) =>
        WriteAsync(unit, request => ModbusPdu.WriteMultipleCoilsRequest(request, address, values.Span), cancellationToken);

    /// <summary>Function 16: writes consecutive holding registers (1..123).</summary>
    public Task WriteMultipleRegistersAsync(byte unit, ushort address, ReadOnlyMemory<ushort> values, CancellationToken cancellationToken) =>
        WriteAsync(unit, request => ModbusPdu.WriteMultipleRegistersRequest(request, address, values.Span), cancellationToken);

    /// <summary>
    /// Function 43/14: reads the device identification objects of <paramref name="code"/>, following
    /// "more follows" until the device has sent them all.
    /// </summary>
    public async Task<ModbusDeviceIdentification> ReadDeviceIdentificationAsync(byte unit, ModbusDeviceIdCode code, CancellationToken cancellationToken)
    {
        var objects = new SortedDictionary<byte, string>();
        byte conformity = 0;
        byte next = 0;
        await EnterAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            for (int round = 0; round < 64; round++)
            {
                int n = ModbusPdu.WriteDeviceIdentificationRequest(_request, code, next);
                int len = await ExecuteLockedAsync(unit, n, DefaultPolicy, cancellationToken).ConfigureAwait(false);
                var pdu = _response.AsSpan(0, len);
                ModbusPdu.ThrowIfError(pdu, (byte)ModbusFunction.EncapsulatedInterface, unit);
                if (pdu.Length < 7 || pdu[1] != 0x0E)
                {
                    throw new ModbusFrameException(ModbusFrameError.Mismatch, unit, "malformed device identification response");
                }

                conformity = pdu[3];
                bool more = pdu[4] == 0xFF;
                next = pdu[5];
                int count = pdu[6];
                int pos = 7;
                for (int i = 0; i < count; i++)
                {
                    if (pos + 2 > pdu.Length || pos + 2 + pdu[pos + 1] > pdu.Length)
                    {
                        throw new ModbusFrameException(ModbusFrameError.Mismatch, unit, "truncated device identification object list");
                    }

                    objects[pdu[pos]] = Encoding.ASCII.GetString(pdu.Slice(pos + 2, pdu[pos + 1]));
                    pos += 2 + pdu[pos + 1];
                }

                if (!more || code == ModbusDeviceIdCode.Specific)
                {
                    break;
                }
            }
        }
        finally
        {
            _gate.Release();
        }

        return new ModbusDeviceIdentification(conformity, objects);
    }

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        await _transport.DisposeAsync().ConfigureAwait(false);
        _gate.Dispose();
    }

    /// <summary>Reads registers with a per-call timeout and retry cap (the bus scheduler's per-device policy).</summary>
    internal async Task<ushort[]> ReadRegistersAsync(ModbusFunction function, byte unit, ushort address, ushort count,
        RequestPolicy? policy, CancellationToken cancellationToken)
    {
        var result = new ushort[count];
        await EnterAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            int n = ModbusPdu.WriteReadRequest(_request, function, address, count);
            int len = await ExecuteLockedAsync(unit, n, policy ?? DefaultPolicy, cancellationToken).ConfigureAwait(false);
            ParseChecked(unit, len, span => ModbusPdu.ParseRegisters(span, (byte)function, unit, result));
        }
        finally
        {
            _gate.Release();
        }

        return result;
    }

    private async Task<bool[]> ReadBitsAsync(ModbusFunction function, byte unit, ushort address, ushort count, CancellationToken cancellationToken)
    {
        var result = new bool[count];
        await EnterAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            int n = ModbusPdu.WriteReadRequest(_request, function, address, count);
            int len = await ExecuteLockedAsync(unit, n, DefaultPolicy, cancellationToken).ConfigureAwait(false);
            ParseChecked(unit, len, span => ModbusPdu.ParseBits(span, (byte)function, unit, result));
        }
        finally
        {
            _gate.Release();
        }

        return result;
    }

    /// <summary>One write request under the bus lock: <paramref name="build"/> fills the request PDU and returns its length.</summary>
    private async Task WriteAsync(byte unit, Func<byte[], int> build, CancellationToken cancellationToken)
    {
        await EnterAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            int n = build(_request);
            await WriteLockedAsync(unit, n, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _gate.Release();
        }
    }

    private async Task WriteLockedAsync(byte unit, int requestLength, CancellationToken cancellationToken)
    {
        int len = await ExecuteLockedAsync(unit, requestLength, DefaultPolicy, cancellationToken).ConfigureAwait(false);
        if (unit == 0 && Framing == ModbusFraming.Rtu)
        {
            return;
        }

        ParseChecked(unit, len, span => ModbusPdu.ParseWriteEcho(span, _request.AsSpan(0, requestLength), unit));
    }

    private delegate void SpanAction(ReadOnlySpan<byte> span);

    private void ParseChecked(byte unit, int length, SpanAction parse)
    {
        try
        {
            parse(_response.AsSpan(0, length));
        }
        catch (ModbusFrameException)
        {
            CountersFor(unit).AddFrameError();
            throw;
        }
    }

    private async Task EnterAsync(CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    private RequestPolicy DefaultPolicy => new(Options.Timeout, Options.MaxRetries, RetryTimeouts: true);

    private ModbusUnitCounters CountersFor(byte unit) => _counters.GetOrAdd(unit, static _ => new ModbusUnitCounters());

    // Caller holds the gate. Sends _request[..requestLength], leaves the response PDU in _response, returns its length.
    private async Task<int> ExecuteLockedAsync(byte unit, int requestLength, RequestPolicy policy, CancellationToken cancellationToken)
    {
        var (timeout, maxRetries, retryTimeouts) = policy;
        var counters = CountersFor(unit);
        var time = Options.TimeProvider;
        for (int attempt = 0; ; attempt++)
        {
            bool last = attempt >= maxRetries;
            if (_broken)
            {
                if (_reopen is null)
                {
                    throw new IOException($"{Description}: channel closed");
                }

                await _transport.ReplaceChannelAsync(await _reopen(cancellationToken).ConfigureAwait(false)).ConfigureAwait(false);
                _broken = false;
            }

            counters.AddRequest();
            long started = time.GetTimestamp();
            int len;
            try
            {
                len = await _transport.ExchangeAsync(unit, _request.AsMemory(0, requestLength), _response, timeout, counters, cancellationToken)
                    .ConfigureAwait(false);
            }
            catch (TimeoutException) when (!last && retryTimeouts)
            {
                counters.AddTimeout();
                continue;
            }
            catch (TimeoutException)
            {
                counters.AddTimeout();
                throw;
            }
            catch (ModbusFrameException e)
            {
                if (e.Error == ModbusFrameError.Crc)
                {
                    counters.AddCrcError();
                }
                else
                {
                    counters.AddFrameError();
                }

                // A TCP byte stream cannot be resynchronised after a bad header: start a new connection.
                _broken |= Framing == ModbusFraming.Tcp && e.Error == ModbusFrameError.Garbage;

                if (last)
                {
                    throw;
                }

                continue;
            }

            catch (IOException)
            {
                _broken = true;
                throw;
            }

            if (len == 0)
            {
                return 0;
            }

            counters.AddResponse(time.GetElapsedTime(started));
            if (len == 2 && _response[0] == (_request[0] | 0x80))
            {
                counters.AddException();
                var code = (ModbusExceptionCode)_response[1];
                if (!last && code is ModbusExceptionCode.ServerDeviceBusy or ModbusExceptionCode.Acknowledge)
                {
                    await Task.Delay(Options.BusyRetryDelay, time, cancellationToken).ConfigureAwait(false);
                    continue;
                }
            }

            return len;
        }
    }
}

/// <summary>Per-call timeout and retry policy (the bus scheduler sets it per device).</summary>
/// <param name="Timeout">Response timeout.</param>
/// <param name="MaxRetries">Extra attempts for Busy/Acknowledge, rejected frames and (if allowed) timeouts.</param>
/// <param name="RetryTimeouts">Whether a timeout is retried within the call.</param>
internal readonly record struct RequestPolicy(TimeSpan Timeout, int MaxRetries, bool RetryTimeouts);

/// <summary>The answer to Read Device Identification (43/14).</summary>
/// <param name="Conformity">The device's conformity level byte.</param>
/// <param name="Objects">Object id to ASCII value.</param>
public sealed record ModbusDeviceIdentification(byte Conformity, IReadOnlyDictionary<byte, string> Objects)
{
    /// <summary>Object 0x00.</summary>
    public string? VendorName => Objects.GetValueOrDefault((byte)0);

    /// <summary>Object 0x01.</summary>
    public string? ProductCode => Objects.GetValueOrDefault((byte)1);

    /// <summary>Object 0x02.</summary>
    public string? Revision => Objects.GetValueOrDefault((byte)2);

    /// <summary>Object 0x05 (regular).</summary>
    public string? ModelName => Objects.GetValueOrDefault((byte)5);
}
