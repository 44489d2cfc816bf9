using System.Net;
using EdgeMeter.Protocols.Modbus;

namespace EdgeMeter.Agent.Demo;

/// <summary>
/// Two simulated meters behind one real Modbus TCP socket on loopback: unit 1 a three-phase grid meter
/// (Eastron SDM630 map), unit 2 a PV meter (Eastron SDM120 map). Their registers follow a household load and a
/// sunny-day PV curve compressed so that a demo minute shows a day; the energy registers integrate the power.
/// </summary>
internal sealed class SimulatedMeters : IAsyncDisposable
{
    public const byte GridUnit = 1;
    public const byte PvUnit = 2;
    public const string GridMap = "eastron-sdm630";
    public const string PvMap = "eastron-sdm630";

    private readonly RegisterMap _gridMap = RegisterMapCatalog.LoadBuiltin(GridMap);
    private readonly RegisterMap _pvMap = RegisterMapCatalog.LoadBuiltin(PvMap);
    private readonly ModbusRegisterBank _grid = new();
    private readonly ModbusRegisterBank _pv = new();
    private readonly ModbusTcpServer _server;
    private readonly CancellationTokenSource _stop = new();
    private readonly TimeProvider _time;
    private Task? _loop;
    private readonly DateTimeOffset _started;
    private decimal _gridImportWh = 1_234_567m;
    private decimal _gridExportWh = 345_678m;
    private decimal _pvWh = 456_789m;

    public SimulatedMeters(TimeProvider? time = null)
    {
        _time = time ?? TimeProvider.System;
        _started = _time.GetUtcNow();
        _server = new ModbusTcpServer(new IPEndPoint(IPAddress.Loopback, 0), new Dictionary<byte, ModbusRegisterBank> { [GridUnit] = _grid, [PvUnit] = _pv });
    }

    /// <summary><c>tcp://127.0.0.1:PORT</c> of the simulated meters.</summary>
    public string Endpoint => $"tcp://127.0.0.1:{((IPEndPoint)_server.LocalEndPoint).Port}";

    public void Start()
    {
        // Real meters answer reads across the unused addresses between their registers (with zeros); so must
        // these, or the coalesced requests of the read plan would get "illegal data address".
        var zeros = new ushort[512];
        foreach (var bank in new[] { _grid, _pv })
        {
            bank.SetInputRegisters(0, zeros);
            bank.SetHoldingRegisters(0, zeros);
        }
        Update(TimeSpan.Zero);
        _server.Start();
        _loop = Task.Run(() => RunAsync(_stop.Token));
    }

    private async Task RunAsync(CancellationToken ct)
    {
        var step = TimeSpan.FromMilliseconds(200);
        using var timer = new PeriodicTimer(step, _time);
        try
        {
            while (await timer.WaitForNextTickAsync(ct).ConfigureAwait(false))
                Update(step);
        }
        catch (OperationCanceledException)
        {
        }
    }

    private void Update(TimeSpan elapsed)
    {
        // One demo minute is one day: the sun rises, peaks and sets; the household's load wanders around 800 W.
        // The demo day starts mid-morning, so the first minute shows the sun's effect rather than a night.
        var now = _time.GetUtcNow();
        var dayPhase = ((now - _started).TotalMilliseconds + 21_000) % 60_000 / 60_000.0;
        var pvW = (decimal)Math.Round(Math.Max(0, Math.Sin((dayPhase - 0.25) * 2 * Math.PI)) * 3200, 1);
        var loadW = (decimal)Math.Round(800 + 400 * Math.Sin(now.ToUnixTimeMilliseconds() / 7000.0), 1);
        var gridW = loadW - pvW;
        var hours = (decimal)elapsed.TotalHours * 1440m; // compressed time: energy moves as fast as the demo day
        if (gridW >= 0)
            _gridImportWh += gridW * hours;
        else
            _gridExportWh += -gridW * hours;
        _pvWh += pvW * hours;

        var perPhase = gridW / 3m;
        _grid.SetQuantity(_gridMap, "active_power", gridW);
        foreach (var phase in new[] { "l1", "l2", "l3" })
        {
            _grid.SetQuantity(_gridMap, "active_power_" + phase, perPhase);
            _grid.SetQuantity(_gridMap, "voltage_" + phase, 230.1m);
            _grid.SetQuantity(_gridMap, "current_" + phase, Math.Round(Math.Abs(perPhase) / 230.1m, 3));
        }
        _grid.SetQuantity(_gridMap, "frequency", 50.01m);
        _grid.SetQuantity(_gridMap, "import_active_energy", Math.Round(_gridImportWh, 0));
        _grid.SetQuantity(_gridMap, "export_active_energy", Math.Round(_gridExportWh, 0));

        _pv.SetQuantity(_pvMap, "active_power", pvW);
        _pv.SetQuantity(_pvMap, "voltage_l1", 231.4m);
        _pv.SetQuantity(_pvMap, "current_l1", Math.Round(pvW / 231.4m, 3));
        _pv.SetQuantity(_pvMap, "frequency", 50.01m);
        _pv.SetQuantity(_pvMap, "import_active_energy", Math.Round(_pvWh, 0));
        _pv.SetQuantity(_pvMap, "export_active_energy", 0m);
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        if (_loop is not null)
            await _loop.ConfigureAwait(false);
        await _server.DisposeAsync().ConfigureAwait(false);
        _stop.Dispose();
    }
}
