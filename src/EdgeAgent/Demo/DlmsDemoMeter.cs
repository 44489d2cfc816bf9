using EdgeMeter.Crypto.Entropy;
using EdgeMeter.Agent.Configuration;
using EdgeMeter.Crypto.Records;
using EdgeMeter.Protocols.Dlms;
using EdgeMeter.Protocols.Dlms.Simulator;

namespace EdgeMeter.Agent.Demo;

/// <summary>
/// The demo's third meter: our simulated DLMS/COSEM meter on a loopback TCP wrapper port, read with HLS-GMAC
/// (authenticated and encrypted APDUs) like a utility meter. The keys are demo keys, printed nowhere.
/// </summary>
internal sealed class DlmsDemoMeter : IAsyncDisposable
{
    private const string BlockCipherKey = "000102030405060708090A0B0C0D0E0F";
    private const string AuthenticationKey = "D0D1D2D3D4D5D6D7D8D9DADBDCDDDEDF";

    private readonly DlmsSimulatorServer _server;

    public DlmsDemoMeter()
    {
        var meter = SimulatedDlmsMeter.Typical(new SimulatedMeterSecurity
        {
            AllowNoAuthentication = false,
            BlockCipherKey = Convert.FromHexString(BlockCipherKey),
            AuthenticationKey = Convert.FromHexString(AuthenticationKey),
        }, wattHoursPerHour: 3600 * 2);
        meter.ChallengeFactory = () => KernelRandom.GetBytes(16);
        _server = DlmsSimulatorServer.Start(meter, DlmsFraming.Wrapper);
    }

    public string Endpoint => $"tcp://127.0.0.1:{_server.Port}";

    public MeterOptions Options => new()
    {
        Id = "grid-dlms",
        Endpoint = Endpoint,
        Protocol = "dlms",
        Source = EnergySource.GridImport,
        TimeoutMs = 5000,
        Dlms = new DlmsMeterOptions
        {
            Client = 1,
            Authentication = "hls-gmac",
            BlockCipherKey = BlockCipherKey,
            AuthenticationKey = AuthenticationKey,
            SystemTitle = "4544474D45544552",
            LoadProfile = "1.0.99.1.0.255",
        },
    };

    public ValueTask DisposeAsync() => _server.DisposeAsync();
}
