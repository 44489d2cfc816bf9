using EdgeMeter.Protocols.Modbus;
using EdgeMeter.Protocols.Transport;

namespace EdgeMeter.Protocols.Tests.Modbus;

public sealed class MbapClientTests
{
    private static async Task<byte[]> ReadAsync(InMemoryByteChannel line, int length)
    {
        var buffer = new byte[length];
        int have = 0;
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        while (have < length)
        {
            have += await line.ReadAsync(buffer.AsMemory(have), cts.Token);
        }

        return buffer;
    }

    [Fact]
    public async Task Stale_transaction_and_wrong_unit_are_discarded_and_the_matching_answer_is_used()
    {
        var (master, slave) = InMemoryByteChannel.CreatePair();
        await using var client = ModbusClient.Create(master, ModbusFraming.Tcp, new ModbusClientOptions { Timeout = TimeSpan.FromSeconds(2), MaxRetries = 0 });
        var read = client.ReadHoldingRegistersAsync(0x11, 107, 3, CancellationToken.None);
        var request = await ReadAsync(slave, 12);
        Assert.Equal(Convert.FromHexString("000100000006110" + "3006B0003"), request);

        await slave.WriteAsync(Convert.FromHexString("0000000000091103060001000200 03".Replace(" ", "", StringComparison.Ordinal)), CancellationToken.None);
        await slave.WriteAsync(Convert.FromHexString("000100000009120306000100020003"), CancellationToken.None);
        await slave.WriteAsync(Convert.FromHexString("0001000000091103060" + "22B00000064"), CancellationToken.None);

        Assert.Equal(new ushort[] { 555, 0, 100 }, await read);
        Assert.Equal(2, client.GetStatistics(0x11).Discarded);
    }

    [Fact]
    public async Task Invalid_mbap_header_is_garbage_and_yields_no_value()
    {
        var (master, slave) = InMemoryByteChannel.CreatePair();
        await using var client = ModbusClient.Create(master, ModbusFraming.Tcp, new ModbusClientOptions { Timeout = TimeSpan.FromSeconds(2), MaxRetries = 0 });
        var read = client.ReadHoldingRegistersAsync(1, 0, 1, CancellationToken.None);
        await ReadAsync(slave, 12);
        await slave.WriteAsync(Convert.FromHexString("00010001000501030200"), CancellationToken.None);
        var e = await Assert.ThrowsAsync<ModbusFrameException>(() => read);
        Assert.Equal(ModbusFrameError.Garbage, e.Error);
    }

    [Fact]
    public async Task Server_answers_writes_coils_and_device_identification()
    {
        var bank = new ModbusRegisterBank();
        bank.SetHoldingRegisters(10, 0, 0, 0);
        bank.SetCoil(3, false);
        bank.SetCoil(4, false);
        bank.SetDiscreteInput(0, true);
        bank.SetDeviceIdentification("EdgeMeter", "SIM-3P", "1.0");
        await using var server = new ModbusTcpServer(new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, 0), new Dictionary<byte, ModbusRegisterBank> { [1] = bank });
        server.Start();
        await using var client = await ModbusClient.ConnectAsync(ModbusEndpoint.Tcp("127.0.0.1", server.LocalEndPoint.Port), ModbusClientOptions.Default, CancellationToken.None);

        await client.WriteMultipleRegistersAsync(1, 10, new ushort[] { 1, 2, 3 }, CancellationToken.None);
        await client.WriteSingleRegisterAsync(1, 11, 0xBEEF, CancellationToken.None);
        Assert.Equal(new ushort[] { 1, 0xBEEF, 3 }, await client.ReadHoldingRegistersAsync(1, 10, 3, CancellationToken.None));
        await client.WriteMultipleCoilsAsync(1, 3, new[] { true, true }, CancellationToken.None);
        await client.WriteSingleCoilAsync(1, 4, false, CancellationToken.None);
        Assert.Equal(new[] { true, false }, await client.ReadCoilsAsync(1, 3, 2, CancellationToken.None));
        Assert.Equal(new[] { true }, await client.ReadDiscreteInputsAsync(1, 0, 1, CancellationToken.None));
        var id = await client.ReadDeviceIdentificationAsync(1, ModbusDeviceIdCode.Basic, CancellationToken.None);
        Assert.Equal(("EdgeMeter", "SIM-3P", "1.0"), (id.VendorName, id.ProductCode, id.Revision));
        var e = await Assert.ThrowsAsync<ModbusException>(() => client.ReadHoldingRegistersAsync(1, 12, 2, CancellationToken.None));
        Assert.Equal(ModbusExceptionCode.IllegalDataAddress, e.Code);
    }

    [Theory]
    [InlineData("tcp://10.0.0.5:1502", ModbusTransportKind.Tcp, "tcp://10.0.0.5:1502")]
    [InlineData("tcp://meter.local", ModbusTransportKind.Tcp, "tcp://meter.local:502")]
    [InlineData("rtu+tcp://[::1]:4001", ModbusTransportKind.RtuOverTcp, "rtu+tcp://[::1]:4001")]
    [InlineData("serial:///dev/ttyUSB0?baud=9600&parity=N&stop=1", ModbusTransportKind.Serial, "serial:///dev/ttyUSB0?baud=9600&parity=N&stop=1")]
    [InlineData("serial:///dev/ttyAMA0", ModbusTransportKind.Serial, "serial:///dev/ttyAMA0?baud=19200&parity=E&stop=1")]
    public void Parses_endpoints(string uri, ModbusTransportKind kind, string canonical)
    {
        var e = ModbusEndpoint.Parse(uri);
        Assert.Equal(kind, e.Kind);
        Assert.Equal(canonical, e.ToString());
    }

    [Theory]
    [InlineData("", "empty")]
    [InlineData("10.0.0.5:502", "no scheme")]
    [InlineData("udp://h:1", "unknown scheme 'udp'")]
    [InlineData("tcp://h:70000", "port '70000'")]
    [InlineData("serial:///dev/ttyUSB0?baud=fast", "baud 'fast'")]
    [InlineData("serial:///dev/ttyUSB0?parity=X", "parity 'X'")]
    [InlineData("serial:///dev/ttyUSB0?speed=9600", "unknown setting 'speed'")]
    public void Bad_endpoint_gives_a_clear_format_error(string uri, string fragment)
    {
        var e = Assert.Throws<FormatException>(() => ModbusEndpoint.Parse(uri));
        Assert.Contains(fragment, e.Message, StringComparison.Ordinal);
    }
}

public sealed class ReconnectTests
{
    [Fact]
    public async Task Client_reconnects_after_the_gateway_drops_the_connection()
    {
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        int port = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
        var gateway = Task.Run(async () =>
        {
            var request = new byte[12];
            using (var first = await listener.AcceptSocketAsync())
            {
                await first.ReceiveAsync(request); // read the request, then drop the line without answering
            }

            using var second = await listener.AcceptSocketAsync();
            int n = 0;
            while (n < 12)
            {
                n += await second.ReceiveAsync(request.AsMemory(n));
            }

            // Same transaction id, unit 1, function 3, one register = 0x1234.
            byte[] response = [request[0], request[1], 0, 0, 0, 5, 1, 3, 2, 0x12, 0x34];
            await second.SendAsync(response);
            await Task.Delay(200);
        });

        await using var client = await ModbusClient.ConnectAsync(ModbusEndpoint.Tcp("127.0.0.1", port),
            new ModbusClientOptions { Timeout = TimeSpan.FromSeconds(2), MaxRetries = 0 }, CancellationToken.None);

        await Assert.ThrowsAsync<IOException>(() => client.ReadHoldingRegistersAsync(1, 0, 1, CancellationToken.None));
        Assert.Equal(new ushort[] { 0x1234 }, await client.ReadHoldingRegistersAsync(1, 0, 1, CancellationToken.None));
        await gateway;
    }
}
