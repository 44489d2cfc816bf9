using EdgeMeter.Agent.Display;
using EdgeMeter.Agent.Pairing;
using EdgeMeter.Agent.Status;
using EdgeMeter.Agent.Tests.Pairing;
using EdgeMeter.Agent.Tests.Web;
using EdgeMeter.Crypto.Records;
using Xunit;

namespace EdgeMeter.Agent.Tests.Display;

/// <summary>A display that keeps what it was last shown, padded as a real 16x2 would show it.</summary>
internal sealed class ScreenRecorder(int columns = 16, int rows = 2) : ITextDisplay
{
    public int Rows => rows;

    public int Columns => columns;

    public List<(string Page, string[] Lines)> Shown { get; } = [];

    public string[] Screen => Shown[^1].Lines;

    public string Page => Shown[^1].Page;

    public void Show(IReadOnlyList<string> lines, string page = "") =>
        Shown.Add((page, Enumerable.Range(0, rows).Select(r => (r < lines.Count ? lines[r] : "").PadRight(columns)[..columns]).ToArray()));

    public void Dispose()
    {
    }
}

/// <summary>A pairing service whose answers the test sets.</summary>
internal sealed class StubPairing : IPairingService
{
    public PairingCode? Code { get; set; }

    public PairingState State { get; set; } = new(true, "0xabcdef0123456789abcdef0123456789abcdef01", null, null, null, null, 5);

    public PairingStatus Status => new(State.Paired, State.OperatorAddress, State.Label, State.PairedAt);

    public PairingState GetState() => State;

    public PairingCode? CodeForDisplay() => Code;

    public DateTimeOffset? RequestCode() => Code?.ExpiresAt;

    public bool AwaitingPresence { get; set; }

    public void ConfirmPresence() => AwaitingPresence = false;

    public PairingOutcome TryPair(string? code, string? operatorAddress, string? label) => throw new NotSupportedException();
}

public sealed class DisplayPresenterTests
{
    private readonly ManualTimeProvider _time = new(TestStatus.At);
    private readonly ScreenRecorder _screen = new();
    private readonly StubPairing _pairing = new();

    private DisplayPresenter Create(AgentStatus status) => new(_screen, new FakeStatusSource(status), _pairing, _time, pagePeriod: TimeSpan.FromSeconds(4));

    /// <summary>Renders once per page period and returns each distinct screen in order.</summary>
    private List<string[]> Rotate(DisplayPresenter presenter, int screens)
    {
        var result = new List<string[]>();
        for (int i = 0; i < screens; i++)
        {
            presenter.Render();
            result.Add(_screen.Screen);
            _time.Advance(TimeSpan.FromSeconds(4));
        }

        return result;
    }

    [Fact]
    public void Paired_household_rotates_balance_estimate_factors_and_power()
    {
        var presenter = Create(TestStatus.Household());

        var screens = Rotate(presenter, 5);

        Assert.Equal(["Bal 123 tok     ", "confirmed chain "], screens[0]);
        Assert.Equal(["Est +12 tok     ", "prov. 2025-06   "], screens[1]);
        Assert.Equal(["Fd 0.82 Fs 1.10 ", "Fc 0.95 cln 64% "], screens[2]);
        Assert.Equal(["P 2.34kW PV1.2kW", "Meters up 2/2   "], screens[3]);
        Assert.Equal(screens[0], screens[4]);
    }

    [Fact]
    public void Page_stays_until_its_period_is_over_and_ids_name_the_page()
    {
        var presenter = Create(TestStatus.Household());

        presenter.Render();
        _time.Advance(TimeSpan.FromSeconds(3.9));
        presenter.Render();
        Assert.Equal("balance", _screen.Page);
        _time.Advance(TimeSpan.FromSeconds(0.1));
        presenter.Render();

        Assert.Equal("estimate", _screen.Page);
    }

    [Fact]
    public void Unpaired_gateway_shows_the_pairing_code_first_with_minutes_left()
    {
        _pairing.State = new PairingState(false, null, null, null, TestStatus.At.AddMinutes(10), null, 5);
        _pairing.Code = new PairingCode("042917", TestStatus.At.AddMinutes(9).AddSeconds(30));
        var presenter = Create(TestStatus.Household(paired: false));

        presenter.Render();

        Assert.Equal(["Pair code 042917", "valid 10 min    "], _screen.Screen);
        Assert.Equal("pairing", _screen.Page);
    }

    [Fact]
    public void Locked_pairing_says_when_to_retry()
    {
        _pairing.State = new PairingState(false, null, null, null, null, TestStatus.At.AddMinutes(14).AddSeconds(1), 0);
        var presenter = Create(TestStatus.Household(paired: false));

        presenter.Render();

        Assert.Equal(["Pairing locked  ", "retry in 15 min "], _screen.Screen);
    }

    [Fact]
    public void Uplink_down_adds_an_alarm_page_with_the_queue_length()
    {
        var presenter = Create(TestStatus.Household(uplink: false));

        var screens = Rotate(presenter, 2);

        Assert.Equal(["! Uplink down   ", "queued 19       "], screens[0]);
        Assert.Equal(["Bal 123 tok     ", "confirmed chain "], screens[1]);
    }

    [Fact]
    public void Missing_balance_and_estimate_are_dashes_not_zero()
    {
        var status = TestStatus.Household(balance: null) with { Provisional = null };
        var presenter = Create(status);

        var screens = Rotate(presenter, 3);

        Assert.Equal(["Bal -- tok      ", "confirmed chain "], screens[0]);
        Assert.Equal(["Est -- tok      ", "provisional     "], screens[1]);
        Assert.Equal("P 2.34kW PV1.2kW", screens[2][0]);
    }

    [Fact]
    public void Fractional_balance_keeps_two_decimals_and_a_huge_one_drops_them()
    {
        Assert.Equal("Bal 1234.57 tok", DisplayPresenter.BuildPages(TestStatus.Household(balance: 1234.567m), null, _pairing.State, TestStatus.At, 16)[0].Line1);
        Assert.Equal("Bal 12345678.25", DisplayPresenter.BuildPages(TestStatus.Household(balance: 12345678.25m), null, _pairing.State, TestStatus.At, 16)[0].Line1);
        Assert.Equal("Bal 123456789012", DisplayPresenter.BuildPages(TestStatus.Household(balance: 123456789012.4m), null, _pairing.State, TestStatus.At, 16)[0].Line1);
    }

    [Fact]
    public void Offline_pv_meter_shows_dashes_and_the_count_of_meters_up()
    {
        var pages = DisplayPresenter.BuildPages(TestStatus.Household(pvOnline: false), null, _pairing.State, TestStatus.At, 16);

        var power = pages.Single(p => p.Id == "power");
        Assert.Equal(new DisplayPage("power", "P 2.34kW PV --", "Meters up 1/2"), power);
    }

    [Fact]
    public void Net_export_is_negative_grid_power()
    {
        var status = TestStatus.Household() with
        {
            Meters =
            [
                new MeterStatus { MeterId = "imp", Source = EnergySource.GridImport, Clean = false, Online = true, ActivePowerW = 200m },
                new MeterStatus { MeterId = "exp", Source = EnergySource.GridExport, Clean = false, Online = true, ActivePowerW = 1700m },
            ],
        };

        var power = DisplayPresenter.BuildPages(status, null, _pairing.State, TestStatus.At, 16).Single(p => p.Id == "power");

        Assert.Equal(new DisplayPage("power", "P -1.5kW", "Meters up 2/2"), power);
    }

    [Fact]
    public void Wider_display_uses_the_long_labels()
    {
        var pages = DisplayPresenter.BuildPages(TestStatus.Household(), null, _pairing.State, TestStatus.At, 20);

        Assert.Equal("provisional 2025-06", pages.Single(p => p.Id == "estimate").Line2);
        Assert.Equal("Fc 0.95 clean 64%", pages.Single(p => p.Id == "factors").Line2);
        Assert.Equal("P 2.34kW PV 1.2kW", pages.Single(p => p.Id == "power").Line1);
    }

    [Fact]
    public void Four_row_display_shows_two_pages_at_a_time()
    {
        var screen = new ScreenRecorder(20, 4);
        var presenter = new DisplayPresenter(screen, new FakeStatusSource(TestStatus.Household()), _pairing, _time, pagePeriod: TimeSpan.FromSeconds(4));

        presenter.Render();
        _time.Advance(TimeSpan.FromSeconds(4));
        presenter.Render();

        Assert.Equal("balance+estimate", screen.Shown[0].Page);
        Assert.Equal(["Bal 123 tok", "confirmed chain", "Est +12 tok", "provisional 2025-06"], screen.Shown[0].Lines.Select(l => l.TrimEnd()));
        Assert.Equal("factors+power", screen.Page);
    }

    [Fact]
    public void Page_that_disappears_restarts_the_rotation_at_the_first_page()
    {
        var source = new FakeStatusSource(TestStatus.Household(uplink: false));
        var presenter = new DisplayPresenter(_screen, source, _pairing, _time, pagePeriod: TimeSpan.FromSeconds(4));
        presenter.Render();
        Assert.Equal("uplink", _screen.Page);

        source.Current = TestStatus.Household(uplink: true);
        presenter.Render();

        Assert.Equal("balance", _screen.Page);
    }
}

public sealed class DisplayPresenterLoopTests
{
    private sealed class FailingDisplay : ITextDisplay
    {
        public int Rows => 2;

        public int Columns => 16;

        public int Calls { get; private set; }

        public void Show(IReadOnlyList<string> lines, string page = "")
        {
            Calls++;
            throw new IOException("Error 121 performing I2C data transfer.");
        }

        public void Dispose()
        {
        }
    }

    [Fact]
    public async Task Run_loop_survives_a_failing_display_and_stops_on_cancellation()
    {
        var display = new FailingDisplay();
        var presenter = new DisplayPresenter(display, new FakeStatusSource(TestStatus.Household()), new StubPairing(), TimeProvider.System);
        using var cts = new CancellationTokenSource();
        cts.Cancel();

        // Already cancelled: one render attempt (which fails quietly), then a clean return instead of an exception.
        await presenter.RunAsync(TimeSpan.FromSeconds(1), cts.Token);

        Assert.Equal(1, display.Calls);
    }
}

public sealed class DisplayPresenterPairingTests : IDisposable
{
    /// <summary>A clock that moves a millisecond every time it is read, like a real one between two calls.</summary>
    private sealed class TickingTimeProvider(DateTimeOffset start) : TimeProvider
    {
        private DateTimeOffset _now = start;

        public override DateTimeOffset GetUtcNow() => _now += TimeSpan.FromMilliseconds(1);
    }

    private readonly string _dir = Path.Combine(Path.GetTempPath(), "edgemeter-presenter-" + Guid.NewGuid().ToString("N"));

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void Freshly_issued_code_shows_ten_minutes_not_eleven()
    {
        var time = new TickingTimeProvider(TestStatus.At);
        var pairing = new FilePairingService(_dir, time, Microsoft.Extensions.Logging.Abstractions.NullLogger<FilePairingService>.Instance);
        var screen = new ScreenRecorder();
        var presenter = new DisplayPresenter(screen, new FakeStatusSource(TestStatus.Household(paired: false)), pairing, time);

        presenter.Render();

        var code = pairing.CodeForDisplay()!.Code;
        Assert.Equal([$"Pair code {code}", "valid 10 min    "], screen.Screen);
    }
}
