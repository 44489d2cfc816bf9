using System.Text;
using EdgeMeter.Agent.Factors;
using EdgeMeter.Agent.Sync;
using EdgeMeter.Agent.Tests.Support;
using EdgeMeter.Crypto.Keys;
using EdgeMeter.Economics;

namespace EdgeMeter.Agent.Tests.Factors;

public sealed class OperatorMessageTests
{
    private static readonly byte[] OperatorSecret = Convert.FromHexString("4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318");
    private static readonly byte[] StrangerSecret = Convert.FromHexString("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef");

    private const string NewParams = """
        {"version":7,"timeZone":"Europe/Berlin","role":"consumer","alpha":1,"beta":1,"gamma":2,"delta":0.5,
         "efGridKgPerKwh":0.35,"f1":0.2,"f2":0.4,"mu":10,"lambda":20,"nMax":30,
         "congestionSteps":[{"minKw":1,"factor":1}],"congestionThreshold":2,"tokensPerCongestionThreshold":3}
        """;

    private sealed class Fixture : IDisposable
    {
        private readonly TempDir _dir = new();

        public Fixture(string? pairedOperator)
        {
            Log = new ListLogger<FactorService>();
            Service = new FactorService(_dir.Path, 15, includeCurrentInterval: false, () => pairedOperator, Log);
        }

        public FactorService Service { get; }
        public ListLogger<FactorService> Log { get; }
        public string Dir => _dir.Path;

        public void Dispose() => _dir.Dispose();
    }

    private static string OperatorAddress()
    {
        using var key = FileDeviceKey.FromSecret(OperatorSecret);
        return key.Address;
    }

    private static byte[] Signed(string payload, byte[] secret)
    {
        using var key = FileDeviceKey.FromSecret(secret);
        return SignedEnvelope.Create(Encoding.UTF8.GetBytes(payload), key);
    }

    [Fact]
    public void Parameters_signed_by_the_paired_operator_are_accepted_and_kept()
    {
        using var f = new Fixture(OperatorAddress());

        Assert.True(f.Service.HandleOperatorMessage("params", Signed(NewParams, OperatorSecret)));

        Assert.Equal(7, f.Service.Params.Version);
        Assert.Equal(2m, f.Service.Params.Gamma);
        Assert.Equal("Europe/Berlin", f.Service.Params.TimeZoneId);
        Assert.Contains("Information: Accepted operator parameters version 7", f.Log.Lines);
        // A restart reads the accepted parameters back, not the defaults.
        var again = new FactorService(f.Dir, 15, false, OperatorAddress, new ListLogger<FactorService>());
        Assert.Equal(7, again.Params.Version);
    }

    [Fact]
    public void Unsigned_parameters_change_nothing_and_the_log_says_so()
    {
        using var f = new Fixture(OperatorAddress());
        var before = f.Service.Params;

        Assert.False(f.Service.HandleOperatorMessage("params", Encoding.UTF8.GetBytes(NewParams)));

        Assert.Same(before, f.Service.Params);
        Assert.Equal(["Warning: Rejected operator params message: not a signed envelope (needs string fields payload and signature); nothing changed"], f.Log.Lines);
        Assert.False(File.Exists(Path.Combine(f.Dir, FactorService.ParamsFile)));
    }

    [Fact]
    public void Parameters_signed_by_another_key_change_nothing_and_the_log_names_the_signer()
    {
        using var f = new Fixture(OperatorAddress());
        var before = f.Service.Params;
        using var stranger = FileDeviceKey.FromSecret(StrangerSecret);

        Assert.False(f.Service.HandleOperatorMessage("params", Signed(NewParams, StrangerSecret)));

        Assert.Same(before, f.Service.Params);
        Assert.Equal([$"Warning: Rejected operator params message: signed by {stranger.Address}, not by the paired operator {OperatorAddress()}; nothing changed"], f.Log.Lines);
    }

    [Fact]
    public void A_tampered_payload_no_longer_recovers_to_the_operator()
    {
        using var f = new Fixture(OperatorAddress());
        var envelope = Encoding.UTF8.GetString(Signed(NewParams, OperatorSecret)).Replace("\"gamma\\\":2", "\"gamma\\\":9", StringComparison.Ordinal);
        Assert.Contains("gamma\\\":9", envelope, StringComparison.Ordinal);

        Assert.False(f.Service.HandleOperatorMessage("params", Encoding.UTF8.GetBytes(envelope)));

        Assert.Equal(0, f.Service.Params.Version);
        Assert.Single(f.Log.Lines, l => l.StartsWith("Warning: Rejected operator params message: signed by 0x", StringComparison.Ordinal));
    }

    [Fact]
    public void A_replayed_older_version_is_rejected()
    {
        using var f = new Fixture(OperatorAddress());
        Assert.True(f.Service.HandleOperatorMessage("params", Signed(NewParams, OperatorSecret)));

        Assert.False(f.Service.HandleOperatorMessage("params", Signed(NewParams.Replace("\"version\":7", "\"version\":3", StringComparison.Ordinal), OperatorSecret)));

        Assert.Equal(7, f.Service.Params.Version);
        Assert.Contains("Warning: Rejected operator params message: version 3 is not newer than the current 7; nothing changed", f.Log.Lines);
    }

    [Fact]
    public void Before_pairing_no_operator_message_is_trusted()
    {
        using var f = new Fixture(pairedOperator: null);
        Assert.False(f.Service.HandleOperatorMessage("params", Signed(NewParams, OperatorSecret)));
        Assert.Equal(0, f.Service.Params.Version);
        Assert.Equal(["Warning: Rejected operator params message: the gateway is not paired, so no operator key is known; nothing changed"], f.Log.Lines);
    }

    [Fact]
    public void Signed_events_are_added_once_and_survive_a_restart()
    {
        using var f = new Fixture(OperatorAddress());
        const string events = """[{"id":"dr-1","kind":"demand-response","start":"2026-11-24T17:00:00Z","end":"2026-11-24T18:00:00Z"}]""";

        Assert.True(f.Service.HandleOperatorMessage("events", Signed(events, OperatorSecret)));
        Assert.True(f.Service.HandleOperatorMessage("events", Signed(events, OperatorSecret)));

        var e = Assert.Single(f.Service.Events);
        Assert.Equal(("dr-1", FactorEventKind.DemandResponse), (e.Id, e.Kind));
        Assert.Equal(new DateTimeOffset(2026, 11, 24, 17, 0, 0, TimeSpan.Zero), e.Start);
        var again = new FactorService(f.Dir, 15, false, OperatorAddress, new ListLogger<FactorService>());
        Assert.Equal(e, Assert.Single(again.Events));
    }
}
