using System.Diagnostics;
using System.Net;
using BenchmarkDotNet.Attributes;
using EdgeMeter.Protocols.Modbus;

namespace EdgeMeter.Benchmarks;

/// <summary>
/// Requests and wire bytes per full read of every shipped map, coalesced vs one request per quantity.
/// The numbers are exact (computed from the read plan) and printed once; the benchmark itself times planning.
/// </summary>
public class ModbusPlanBenchmarks
{
    public static IEnumerable<string> Maps => RegisterMapCatalog.BuiltinNames;

    [ParamsSource(nameof(Maps))]
    public string Map { get; set; } = "eastron-sdm630";

    private RegisterMap _map = null!;

    [GlobalSetup]
    public void Setup()
    {
        _map = RegisterMapCatalog.LoadBuiltin(Map);
        if (Map == RegisterMapCatalog.BuiltinNames[0])
        {
            Console.WriteLine(Report());
        }
    }

    [Benchmark]
    public int Plan() => ModbusReadPlan.Create(_map).Blocks.Count;

    /// <summary>Table: map, quantities, requests and RTU/TCP bytes coalesced vs naive.</summary>
    public static string Report()
    {
        var lines = new List<string> { $"{"map",-22} {"qty",4} {"req",4} {"naive",6} {"rtu B",6} {"naive",6} {"tcp B",6} {"naive",6}" };
        foreach (string name in RegisterMapCatalog.BuiltinNames)
        {
            var map = RegisterMapCatalog.LoadBuiltin(name);
            var plan = ModbusReadPlan.Create(map);
            // One request per quantity: every value and every scale-factor register on its own.
            int naiveRequests = map.Registers.Count + map.Registers.Count(r => r.ScaleFactorAddress is not null);
            int naiveRtu = map.Registers.Sum(r => Bytes(r.RegisterCount, 3) + (r.ScaleFactorAddress is null ? 0 : Bytes(1, 3)));
            int naiveTcp = map.Registers.Sum(r => Bytes(r.RegisterCount, 7) + (r.ScaleFactorAddress is null ? 0 : Bytes(1, 7)));
            lines.Add($"{name,-22} {map.Registers.Count,4} {plan.Blocks.Count,4} {naiveRequests,6} {plan.WireBytes(ModbusFraming.Rtu),6} {naiveRtu,6} {plan.WireBytes(ModbusFraming.Tcp),6} {naiveTcp,6}");
        }

        return string.Join(Environment.NewLine, lines);
    }

    private static int Bytes(int registers, int overhead) => 5 + overhead + 2 + (2 * registers) + overhead;
}

/// <summary>
/// Full meter reads against our Modbus TCP simulator on loopback: reads/s from the mean, CPU per read printed
/// from process CPU time over a fixed batch in the setup.
/// </summary>
[MemoryDiagnoser]
public class ModbusLoopbackBenchmarks
{
    [Params("eastron-sdm630", "sunspec-meter-203")]
    public string Map { get; set; } = "eastron-sdm630";

    private ModbusTcpServer _server = null!;
    private ModbusClient _client = null!;
    private MeterReader _reader = null!;
    private RegisterMap _map = null!;

    [GlobalSetup]
    public async Task SetupAsync()
    {
        _map = RegisterMapCatalog.LoadBuiltin(Map);
        var bank = ModbusRegisterBank.ForMap(_map);
        foreach (var r in _map.Registers)
        {
            decimal value = r.Quantity switch
            {
                var q when q.Contains("energy", StringComparison.Ordinal) => 1_234_500m,
                var q when q.StartsWith("voltage", StringComparison.Ordinal) => 230.1m,
                var q when q.StartsWith("current", StringComparison.Ordinal) => 5.12m,
                "frequency" => 50m,
                "power_factor" => 0.95m,
                _ => 2300m,
            };
            bank.SetQuantity(_map, r.Quantity, value);
        }

        _server = new ModbusTcpServer(new IPEndPoint(IPAddress.Loopback, 0), new Dictionary<byte, ModbusRegisterBank> { [1] = bank });
        _server.Start();
        _client = await ModbusClient.ConnectAsync(ModbusEndpoint.Tcp("127.0.0.1", _server.LocalEndPoint.Port), ModbusClientOptions.Default, CancellationToken.None);
        _reader = new MeterReader(_client, 1, _map);

        const int batch = 2000;
        for (int i = 0; i < 200; i++)
        {
            await _reader.ReadAsync(CancellationToken.None);
        }

        var cpu = Process.GetCurrentProcess().TotalProcessorTime;
        var wall = Stopwatch.StartNew();
        for (int i = 0; i < batch; i++)
        {
            await _reader.ReadAsync(CancellationToken.None);
        }

        wall.Stop();
        var used = Process.GetCurrentProcess().TotalProcessorTime - cpu;
        // Client and simulator share the process, so CPU per read includes the simulated meter's side.
        Console.WriteLine($"// {Map}: {batch / wall.Elapsed.TotalSeconds:0} reads/s, {used.TotalMicroseconds / batch:0.0} us CPU per read (client + simulator), {_reader.Plan.Blocks.Count} requests per read");
    }

    [Benchmark]
    public ValueTask<IReadOnlyList<QuantityReading>> FullRead() => _reader.ReadAsync(CancellationToken.None);

    [Benchmark]
    public async Task<int> OneRequestPerQuantity()
    {
        int n = 0;
        foreach (var r in _map.Registers)
        {
            var regs = r.Function == ModbusFunction.ReadInputRegisters
                ? await _client.ReadInputRegistersAsync(1, r.Address, (ushort)r.RegisterCount, CancellationToken.None)
                : await _client.ReadHoldingRegistersAsync(1, r.Address, (ushort)r.RegisterCount, CancellationToken.None);
            n += regs.Length;
            if (r.ScaleFactorAddress is ushort sf)
            {
                n += (await _client.ReadHoldingRegistersAsync(1, sf, 1, CancellationToken.None)).Length;
            }
        }

        return n;
    }

    [GlobalCleanup]
    public async Task CleanupAsync()
    {
        await _client.DisposeAsync();
        await _server.DisposeAsync();
    }
}
