using EdgeMeter.Protocols.Modbus;
using EdgeMeter.Protocols.Transport;

namespace EdgeMeter.Protocols.Tests.Modbus;

/// <summary>
/// The RTU client against a scripted slave on an in-memory line: the test reads the request bytes the client
/// sent and writes back exactly the bytes it wants the client to see.
/// </summary>
public sealed class RtuClientTests : IAsyncDisposable
{
    private static readonly byte[] ValidResponse = WithCrc("010306022B00000064"); // unit 1: 555, 0, 100
    private readonly InMemoryByteChannel _line;
    private readonly ModbusClient _client;

    public RtuClientTests()
    {
        var (master, slave) = InMemoryByteChannel.CreatePair();
        _line = slave;
        // Generous: only the truncated-frame case waits it out; every other case answers or fails fast.
        _client = ModbusClient.Create(master, ModbusFraming.Rtu, new ModbusClientOptions
        {
            Timeout = TimeSpan.FromSeconds(1),
            MaxRetries = 0,
            BusyRetryDelay = TimeSpan.Zero,
        });
    }

    public async ValueTask DisposeAsync()
    {
        await _client.DisposeAsync();
        await _line.DisposeAsync();
    }

    internal static byte[] WithCrc(string hex)
    {
        var body = Convert.FromHexString(hex);
        var frame = new byte[body.Length + 2];
        body.CopyTo(frame, 0);
        ModbusCrc.Write(body, frame.AsSpan(body.Length));
        return frame;
    }

    private async Task<byte[]> ReadRequestAsync(int length)
    {
        var buffer = new byte[length];
        int have = 0;
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        while (have < length)
        {
            have += await _line.ReadAsync(buffer.AsMemory(have), cts.Token);
        }

        return buffer;
    }

    private Task<ushort[]> ReadThreeAsync() => _client.ReadHoldingRegistersAsync(1, 107, 3, CancellationToken.None);

    [Fact]
    public async Task Sends_crc_framed_request_and_reads_values_from_valid_response()
    {
        var read = ReadThreeAsync();
        var request = await ReadRequestAsync(8);
        Assert.Equal(WithCrc("0103006B0003"), request);
        await _line.WriteAsync(ValidResponse, CancellationToken.None);
        Assert.Equal(new ushort[] { 555, 0, 100 }, await read);
        Assert.Equal(1, _client.GetStatistics(1).Responses);
    }

    [Fact]
    public async Task Reads_response_that_arrives_one_byte_at_a_time()
    {
        var read = ReadThreeAsync();
        await ReadRequestAsync(8);
        foreach (byte b in ValidResponse)
        {
            await _line.WriteAsync(new[] { b }, CancellationToken.None);
        }

        Assert.Equal(new ushort[] { 555, 0, 100 }, await read);
    }

    [Fact]
    public async Task Crc_error_is_counted_and_yields_no_value()
    {
        var read = ReadThreeAsync();
        await ReadRequestAsync(8);
        var corrupt = (byte[])ValidResponse.Clone();
        corrupt[^1] ^= 0xFF;
        await _line.WriteAsync(corrupt, CancellationToken.None);
        var e = await Assert.ThrowsAsync<ModbusFrameException>(() => read);
        Assert.Equal(ModbusFrameError.Crc, e.Error);
        Assert.Equal(1, _client.GetStatistics(1).CrcErrors);
        Assert.Equal(0, _client.GetStatistics(1).Responses);
    }

    [Fact]
    public async Task Truncated_frame_times_out_and_yields_no_value()
    {
        var read = ReadThreeAsync();
        await ReadRequestAsync(8);
        await _line.WriteAsync(ValidResponse.AsMemory(0, 7), CancellationToken.None);
        var e = await Assert.ThrowsAsync<TimeoutException>(() => read);
        Assert.Contains("truncated frame (7 bytes)", e.Message, StringComparison.Ordinal);
        Assert.Equal(1, _client.GetStatistics(1).Timeouts);
    }

    [Fact]
    public async Task Garbage_is_rejected_as_garbage()
    {
        var read = ReadThreeAsync();
        await ReadRequestAsync(8);
        await _line.WriteAsync(Convert.FromHexString("0165123456789A"), CancellationToken.None);
        var e = await Assert.ThrowsAsync<ModbusFrameException>(() => read);
        Assert.Equal(ModbusFrameError.Garbage, e.Error);
        Assert.Equal(1, _client.GetStatistics(1).FrameErrors);
    }

    [Fact]
    public async Task Frame_from_another_unit_is_skipped_and_the_right_one_is_used()
    {
        var read = ReadThreeAsync();
        await ReadRequestAsync(8);
        await _line.WriteAsync(WithCrc("0203060001000200 03".Replace(" ", "", StringComparison.Ordinal)), CancellationToken.None);
        await _line.WriteAsync(ValidResponse, CancellationToken.None);
        Assert.Equal(new ushort[] { 555, 0, 100 }, await read);
        Assert.Equal(1, _client.GetStatistics(1).Discarded);
    }

    [Fact]
    public async Task Answer_of_a_different_register_count_is_a_mismatch_not_data()
    {
        var read = ReadThreeAsync();
        await ReadRequestAsync(8);
        await _line.WriteAsync(WithCrc("010304022B0000"), CancellationToken.None);
        var e = await Assert.ThrowsAsync<ModbusFrameException>(() => read);
        Assert.Equal(ModbusFrameError.Mismatch, e.Error);
    }

    [Fact]
    public async Task Exception_response_is_thrown_with_code()
    {
        var read = ReadThreeAsync();
        await ReadRequestAsync(8);
        await _line.WriteAsync(WithCrc("018302"), CancellationToken.None);
        var e = await Assert.ThrowsAsync<ModbusException>(() => read);
        Assert.Equal(ModbusExceptionCode.IllegalDataAddress, e.Code);
        Assert.Equal(3, e.Function);
        Assert.Equal(1, e.Unit);
        Assert.Equal(1, _client.GetStatistics(1).Exceptions);
    }

    [Fact]
    public async Task Every_single_bit_error_in_a_response_is_rejected_never_read_as_data()
    {
        // Short timeout: flips that enlarge the byte count leave the client waiting for bytes that never come.
        var (master, line) = InMemoryByteChannel.CreatePair();
        await using var client = ModbusClient.Create(master, ModbusFraming.Rtu, new ModbusClientOptions { Timeout = TimeSpan.FromMilliseconds(100), MaxRetries = 0 });
        int rejected = 0;
        for (int position = 0; position < ValidResponse.Length; position++)
        {
            for (int bit = 0; bit < 8; bit++)
            {
                var corrupt = (byte[])ValidResponse.Clone();
                corrupt[position] ^= (byte)(1 << bit);
                var read = client.ReadHoldingRegistersAsync(1, 107, 3, CancellationToken.None);
                var request = new byte[8];
                for (int have = 0; have < 8;)
                {
                    have += await line.ReadAsync(request.AsMemory(have), CancellationToken.None);
                }

                await line.WriteAsync(corrupt, CancellationToken.None);
                var e = await Record.ExceptionAsync(() => read);
                Assert.True(e is ModbusFrameException or TimeoutException or ModbusException,
                    $"flip bit {bit} of byte {position}: {(e is null ? "values returned" : e.GetType().Name)}");
                rejected++;
            }
        }

        Assert.Equal(ValidResponse.Length * 8, rejected);
        var stats = client.GetStatistics(1);
        Assert.Equal(0, stats.Responses - stats.Exceptions);
    }
}

public sealed class RtuClientRetryTests
{
    [Fact]
    public async Task Busy_exception_is_retried_up_to_the_cap_then_thrown()
    {
        var (master, slave) = InMemoryByteChannel.CreatePair();
        var bank = new ModbusRegisterBank();
        bank.SetHoldingRegisters(0, 42);
        bank.FailNext(ModbusExceptionCode.ServerDeviceBusy, 3);
        await using var server = new ModbusRtuServer(slave, new Dictionary<byte, ModbusRegisterBank> { [5] = bank });
        server.Start();
        await using var client = ModbusClient.Create(master, ModbusFraming.Rtu, new ModbusClientOptions
        {
            Timeout = TimeSpan.FromSeconds(2), MaxRetries = 2, BusyRetryDelay = TimeSpan.Zero,
        });

        var e = await Assert.ThrowsAsync<ModbusException>(() => client.ReadHoldingRegistersAsync(5, 0, 1, CancellationToken.None));
        Assert.Equal(ModbusExceptionCode.ServerDeviceBusy, e.Code);
        Assert.Equal(3, client.GetStatistics(5).Requests);

        bank.FailNext(ModbusExceptionCode.ServerDeviceBusy, 2);
        Assert.Equal(new ushort[] { 42 }, await client.ReadHoldingRegistersAsync(5, 0, 1, CancellationToken.None));
        Assert.Equal(6, client.GetStatistics(5).Requests);
    }

    [Fact]
    public async Task Illegal_address_is_not_retried()
    {
        var (master, slave) = InMemoryByteChannel.CreatePair();
        var bank = new ModbusRegisterBank();
        await using var server = new ModbusRtuServer(slave, new Dictionary<byte, ModbusRegisterBank> { [5] = bank });
        server.Start();
        await using var client = ModbusClient.Create(master, ModbusFraming.Rtu, new ModbusClientOptions { MaxRetries = 3 });

        var e = await Assert.ThrowsAsync<ModbusException>(() => client.ReadInputRegistersAsync(5, 100, 2, CancellationToken.None));
        Assert.Equal(ModbusExceptionCode.IllegalDataAddress, e.Code);
        Assert.Equal(1, client.GetStatistics(5).Requests);
    }

    [Fact]
    public async Task Timeout_is_retried_up_to_the_cap()
    {
        var (master, slave) = InMemoryByteChannel.CreatePair();
        await using var server = new ModbusRtuServer(slave, new Dictionary<byte, ModbusRegisterBank>());
        server.Start();
        await using var client = ModbusClient.Create(master, ModbusFraming.Rtu, new ModbusClientOptions
        {
            Timeout = TimeSpan.FromMilliseconds(30), MaxRetries = 2,
        });

        await Assert.ThrowsAsync<TimeoutException>(() => client.ReadHoldingRegistersAsync(9, 0, 1, CancellationToken.None));
        var stats = client.GetStatistics(9);
        Assert.Equal(3, stats.Requests);
        Assert.Equal(3, stats.Timeouts);
    }
}

public sealed class InterFrameSilenceTests
{
    /// <summary>A clock that stands still (so no silence has elapsed yet) and records every delay asked of it.</summary>
    private sealed class FrozenClock : TimeProvider
    {
        public List<TimeSpan> Delays { get; } = [];

        public override long GetTimestamp() => 1_000_000;

        public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
        {
            lock (Delays)
            {
                Delays.Add(dueTime);
            }

            return System.CreateTimer(callback, state, dueTime, period);
        }
    }

    [Theory]
    [InlineData(9600)]
    [InlineData(115200)]
    public async Task Rtu_client_keeps_3_5_character_silence_before_every_request(int baud)
    {
        var (master, slave) = InMemoryByteChannel.CreatePair();
        var bank = new ModbusRegisterBank();
        bank.SetHoldingRegisters(0, 7);
        await using var server = new ModbusRtuServer(slave, new Dictionary<byte, ModbusRegisterBank> { [1] = bank });
        server.Start();
        var clock = new FrozenClock();
        await using var client = ModbusClient.Create(master, ModbusFraming.Rtu, new ModbusClientOptions { TimeProvider = clock }, baud);

        Assert.Equal(new ushort[] { 7 }, await client.ReadHoldingRegistersAsync(1, 0, 1, CancellationToken.None));
        Assert.Equal(new ushort[] { 7 }, await client.ReadHoldingRegistersAsync(1, 0, 1, CancellationToken.None));

        // 3.5 characters, rounded up to the timer's whole milliseconds (4.01 ms -> 5 ms, 1.75 ms -> 2 ms).
        var silence = TimeSpan.FromMilliseconds(Math.Ceiling(ModbusRtuFraming.InterFrameDelay(baud).TotalMilliseconds));
        lock (clock.Delays)
        {
            Assert.Equal(2, clock.Delays.Count(d => d == silence));
            Assert.Equal(2, clock.Delays.Count(d => d == TimeSpan.FromSeconds(1)));
        }
    }
}
