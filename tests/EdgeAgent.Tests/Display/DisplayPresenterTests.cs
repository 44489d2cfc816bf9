using EdgeMeter.Agent.Display;
using EdgeMeter.Agent.Pairing;
using EdgeMeter.Agent.Status;
using EdgeMeter.Agent.Tests.Pairing;
using EdgeMeter.Agent.Tests.Web;
using EdgeMeter.Crypto.Records;
using Xunit;
using static EdgeMeter.Agent.Display.LcdCharset;

namespace EdgeMeter.Agent.Tests.Display;

/// <summary>A display that keeps what it was last shown, padded as a real 16x2 would show it.</summary>
internal sealed class ScreenRecorder(int columns = 16, int rows = 2) : ITextDisplay
{
    public int Rows => rows;

    public int Columns => columns;

    public bool Backlight { get; set; } = true;

    public List<(string Page, string[] Lines, bool Live)> Shown { get; } = [];

    public string[] Screen => Shown[^1].Lines;

    public string Page => Shown[^1].Page;

    public void Show(IReadOnlyList<string> lines, string page = "", bool live = false) =>
        Shown.Add((page, Enumerable.Range(0, rows).Select(r => (r < lines.Count ? lines[r] : "").PadRight(columns)[..columns]).ToArray(), live));

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

    public bool AwaitingPresence { get; set; }

    public int PresenceConfirmations { get; private set; }

    public PairingState GetState() => State;

    public PairingCode? CodeForDisplay() => Code;

    public DateTimeOffset? RequestCode() => Code?.ExpiresAt;

    public void ConfirmPresence()
    {
        PresenceConfirmations++;
        AwaitingPresence = false;
        Code = new PairingCode("314159", TestStatus.At.AddMinutes(10));
    }

    public PairingOutcome TryPair(string? code, string? operatorAddress, string? label) => throw new NotSupportedException();
}

public sealed class DisplayPresenterTests
{
    private readonly ManualTimeProvider _time = new(TestStatus.At);
    private readonly ScreenRecorder _screen = new();
    private readonly StubPairing _pairing = new();

    private DisplayPresenter Create(AgentStatus status, TimeSpan? backlight = null) =>
        new(_screen, new FakeStatusSource(status), _pairing, _time, pagePeriod: TimeSpan.FromSeconds(4), backlightTimeout: backlight,
            ipAddress: () => "192.168.1.23", webUrl: () => "http://192.168.1.23:8080/");

    private static PageInput Input(AgentStatus status, DateTimeOffset? since = null) =>
        new(status, null, new PairingState(true, null, null, null, null, null, 5), false, TestStatus.At,
            new EnergyToday(3.25m, 12.5m, since ?? TestStatus.At.Date, since is null));

    /// <summary>Renders once per page period and returns each screen in order.</summary>
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
    public void Paired_household_rotates_balance_power_today_sync_and_time()
    {
        var presenter = Create(TestStatus.Household());

        var screens = Rotate(presenter, 6);

        Assert.Equal([$"{Token}123 confirmed  ", "Month +12 prov. "], screens[0]);
        Assert.Equal([$"{Plug}2.34kW {Sun}1.2kW  ", "clean share 34% "], screens[1]);
        Assert.Equal("Since 09:30 kWh ", screens[2][0]);
        Assert.Equal([$"{Signal} Sync ok       ", "backlog 19      "], screens[3]);
        Assert.Equal(["Clock NTP sync  ", "2025-06-14 09:30"], screens[4]);
        Assert.Equal(screens[0], screens[5]);
    }

    [Fact]
    public void Live_pages_say_so_and_the_balance_page_does_not()
    {
        var presenter = Create(TestStatus.Household());

        Rotate(presenter, 5);

        Assert.Equal([("balance", false), ("power", true), ("today", true), ("sync", true), ("time", true)], _screen.Shown.Select(s => (s.Page, s.Live)));
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

        Assert.Equal("power", _screen.Page);
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
    public void A_re_pairing_that_waits_for_the_button_asks_for_a_press_and_the_press_opens_the_window()
    {
        _pairing.AwaitingPresence = true;
        var presenter = Create(TestStatus.Household(), backlight: TimeSpan.FromMinutes(5));
        _time.Advance(TimeSpan.FromMinutes(6));

        presenter.Render();
        Assert.Equal(["Press button    ", "to pair         "], _screen.Screen);
        Assert.True(_screen.Backlight); // someone must read it, whatever the timeout says

        presenter.ShortPress();

        Assert.Equal(1, _pairing.PresenceConfirmations);
        Assert.Equal(["Pair code 314159", "valid 4 min     "], _screen.Screen);
    }

    [Fact]
    public void Short_press_shows_the_next_page_at_once()
    {
        var presenter = Create(TestStatus.Household());
        presenter.Render();

        presenter.ShortPress();
        Assert.Equal("power", _screen.Page);
        presenter.ShortPress();

        Assert.Equal("today", _screen.Page);
        Assert.Equal(0, _pairing.PresenceConfirmations);
    }

    [Fact]
    public void Long_press_shows_device_address_ip_and_web_page_then_returns_to_the_rotation()
    {
        var presenter = Create(TestStatus.Household());
        presenter.Render();

        presenter.LongPress();
        var device = _screen.Screen;
        presenter.ShortPress();
        var ip = _screen.Screen;
        presenter.ShortPress();
        var web = _screen.Screen;
        _time.Advance(DisplayPresenter.InfoPeriod);
        presenter.Render();

        Assert.Equal(["Device address  ", "0x90f8bf..a8c9c1"], device);
        Assert.Equal(["IP address      ", "192.168.1.23    "], ip);
        Assert.Equal(["Web page        ", "192.168.1.23:808"], web);
        Assert.Equal("balance", _screen.Page);
    }

    [Fact]
    public void Backlight_goes_off_after_the_timeout_and_the_first_press_only_wakes_it()
    {
        var presenter = Create(TestStatus.Household(), backlight: TimeSpan.FromMinutes(5));
        presenter.Render();
        Assert.True(_screen.Backlight);

        _time.Advance(TimeSpan.FromMinutes(5));
        presenter.Render();
        Assert.False(_screen.Backlight);
        var page = _screen.Page;

        presenter.ShortPress();
        Assert.True(_screen.Backlight);
        Assert.Equal(page, _screen.Page);
    }

    [Fact]
    public void Uplink_down_comes_first_with_the_queue_length()
    {
        var presenter = Create(TestStatus.Household(uplink: false));

        var screens = Rotate(presenter, 2);

        Assert.Equal(["! Uplink down   ", "queued 19       "], screens[0]);
        Assert.Equal($"{Token}123 confirmed   "[..16], screens[1][0]);
    }

    [Fact]
    public void Disk_and_memory_alarms_come_before_the_balance()
    {
        var disk = TestStatus.Household() with { Health = new HealthStatus(12, true, 40, false) };
        var both = TestStatus.Household() with { Health = new HealthStatus(12, true, 250, true) };
        var fine = TestStatus.Household() with { Health = new HealthStatus(9000, false, 40, false) };

        Assert.Equal(new DisplayPage("alarm", "! Disk low 12MB", "old data pruned"), DisplayPresenter.BuildPages(Input(disk), 16)[0]);
        Assert.Equal(new DisplayPage("alarm", "! Disk low 12MB", "! Memory 250MB"), DisplayPresenter.BuildPages(Input(both), 16)[0]);
        Assert.DoesNotContain(DisplayPresenter.BuildPages(Input(fine), 16), p => p.Id == "alarm");
    }

    [Fact]
    public void Dropped_unsigned_readings_are_an_alarm_before_the_balance()
    {
        var household = TestStatus.Household();
        var dropped = household with { Counters = household.Counters with { DroppedUnsigned = 13 } };

        var pages = DisplayPresenter.BuildPages(Input(dropped), 16);
        Assert.Equal(new DisplayPage("alarm", "! Dropped 13", "unsigned reads"), pages[0]);
        Assert.Equal("balance", pages[1].Id);
        Assert.Equal(new DisplayPage("alarm", "!Drop 13", "unsigned"), DisplayPresenter.BuildPages(Input(dropped), 8)[0]);
        Assert.DoesNotContain(DisplayPresenter.BuildPages(Input(household), 16), p => p.Id == "alarm");
    }

    [Fact]
    public void Missing_balance_and_estimate_are_dashes_not_zero()
    {
        var status = TestStatus.Household(balance: null) with { Provisional = null };

        var balance = DisplayPresenter.BuildPages(Input(status), 16).Single(p => p.Id == "balance");

        Assert.Equal(new DisplayPage("balance", $"{Token}-- confirmed", "Month -- prov."), balance);
    }

    [Fact]
    public void Fractional_balance_keeps_two_decimals_and_a_long_one_drops_the_label()
    {
        Assert.Equal($"{Token}1234.57 conf", DisplayPresenter.BuildPages(Input(TestStatus.Household(balance: 1234.567m)), 16).Single(p => p.Id == "balance").Line1);
        Assert.Equal($"{Token}12345678.25", DisplayPresenter.BuildPages(Input(TestStatus.Household(balance: 12345678.25m)), 16).Single(p => p.Id == "balance").Line1);
    }

    [Fact]
    public void Offline_pv_meter_shows_dashes_and_the_count_of_meters_up()
    {
        var power = DisplayPresenter.BuildPages(Input(TestStatus.Household(pvOnline: false)), 16).Single(p => p.Id == "power");

        Assert.Equal(new DisplayPage("power", $"{Plug}2.34kW {Sun}--", "Meters up 1/2", Live: true), power);
    }

    [Fact]
    public void Exporting_household_runs_on_clean_power_only()
    {
        var status = TestStatus.Household() with
        {
            Meters =
            [
                new MeterStatus { MeterId = "imp", Source = EnergySource.GridImport, Clean = false, Online = true, ActivePowerW = 200m },
                new MeterStatus { MeterId = "exp", Source = EnergySource.GridExport, Clean = false, Online = true, ActivePowerW = 1700m },
                new MeterStatus { MeterId = "pv", Source = EnergySource.Pv, Clean = true, Online = true, ActivePowerW = 2500m },
            ],
        };

        var power = DisplayPresenter.BuildPages(Input(status), 16).Single(p => p.Id == "power");

        Assert.Equal(new DisplayPage("power", $"{Plug}-1.5kW {Sun}2.5kW", "clean share 100%", Live: true), power);
    }

    [Fact]
    public void Clean_share_is_generation_over_what_the_house_uses_now()
    {
        // 2.34 kW from the grid and 1.2 kW from the roof: 1.2 / 3.54 = 34 %.
        var power = DisplayPresenter.BuildPages(Input(TestStatus.Household()), 16).Single(p => p.Id == "power");

        Assert.Equal("clean share 34%", power.Line2);
    }

    [Fact]
    public void Today_page_names_the_energy_by_source_and_when_counting_began()
    {
        var fromMidnight = DisplayPresenter.BuildPages(Input(TestStatus.Household()), 16).Single(p => p.Id == "today");
        var sinceStart = DisplayPresenter.BuildPages(Input(TestStatus.Household(), since: TestStatus.At), 16).Single(p => p.Id == "today");

        Assert.Equal(new DisplayPage("today", "Today's energy", $"{Plug}3.25 {Sun}12.5 kWh", Live: true), fromMidnight);
        Assert.Equal("Since 09:30 kWh", sinceStart.Line1);
    }

    [Theory]
    [InlineData(TimeStatus.Synchronised, false, "Clock NTP sync")]
    [InlineData(TimeStatus.Informative, true, "Clock from RTC")]
    [InlineData(TimeStatus.Informative, false, "Clock free-run")]
    [InlineData(TimeStatus.Relative, false, "Clock jumped")]
    [InlineData(TimeStatus.Unsynchronised, false, "Clock not set")]
    public void Time_page_says_where_the_time_comes_from(TimeStatus status, bool fromRtc, string title)
    {
        var page = DisplayPresenter.BuildPages(Input(TestStatus.Household() with { TimeStatus = status, TimeFromRtc = fromRtc }), 16).Single(p => p.Id == "time");

        Assert.Equal(new DisplayPage("time", title, "2025-06-14 09:30", Live: true), page);
    }

    [Fact]
    public void Wider_display_uses_the_long_labels()
    {
        var pages = DisplayPresenter.BuildPages(Input(TestStatus.Household()), 20);

        Assert.Equal($"{Token}123 confirmed", pages.Single(p => p.Id == "balance").Line1);
        Assert.Equal("Month +12 prov.", pages.Single(p => p.Id == "balance").Line2);
        Assert.Equal("2025-06-14 09:30Z", pages.Single(p => p.Id == "time").Line2);
    }

    [Fact]
    public void Four_row_display_shows_two_pages_at_a_time()
    {
        var screen = new ScreenRecorder(20, 4);
        var presenter = new DisplayPresenter(screen, new FakeStatusSource(TestStatus.Household()), _pairing, _time, pagePeriod: TimeSpan.FromSeconds(4));

        presenter.Render();
        _time.Advance(TimeSpan.FromSeconds(4));
        presenter.Render();

        Assert.Equal("balance+power", screen.Shown[0].Page);
        Assert.Equal([$"{Token}123 confirmed", "Month +12 prov.", $"{Plug}2.34kW {Sun}1.2kW", "clean share 34%"], screen.Shown[0].Lines.Select(l => l.TrimEnd()));
        Assert.Equal("today+sync", screen.Page);
    }

    [Fact]
    public void Page_that_disappears_restarts_the_rotation_at_the_first_page()
    {
        var source = new FakeStatusSource(TestStatus.Household(uplink: false));
        var presenter = new DisplayPresenter(_screen, source, _pairing, _time, pagePeriod: TimeSpan.FromSeconds(4));
        presenter.Render();
        _time.Advance(TimeSpan.FromSeconds(4));
        presenter.Render();
        Assert.Equal("balance", _screen.Page);

        source.Current = TestStatus.Household(uplink: true) with { Meters = [] };
        presenter.Render();

        Assert.Equal("balance", _screen.Page);
    }

    [Fact]
    public void Stopped_screen_keeps_the_confirmed_balance_on_the_glass()
    {
        var presenter = Create(TestStatus.Household(balance: 50m), backlight: TimeSpan.FromMinutes(5));
        _time.Advance(TimeSpan.FromMinutes(6));
        presenter.Render();

        presenter.ShowStopped();

        Assert.Equal(["Agent stopped   ", $"{Token}50 confirmed   "], _screen.Screen);
        Assert.True(_screen.Backlight);
    }
}

public sealed class DailyEnergyTests
{
    private static MeterStatus Meter(string id, EnergySource source, bool clean, decimal kwh) =>
        new() { MeterId = id, Source = source, Clean = clean, Online = true, EnergyKwh = kwh };

    [Fact]
    public void Counts_from_start_on_the_first_day_and_from_midnight_after_the_day_turned()
    {
        var today = new DailyEnergy(TimeZoneInfo.Utc);
        var start = new DateTimeOffset(2025, 6, 14, 9, 30, 0, TimeSpan.Zero);

        today.Update([Meter("grid", EnergySource.GridImport, false, 100m), Meter("pv", EnergySource.Pv, true, 50m)], start);
        var morning = today.Update([Meter("grid", EnergySource.GridImport, false, 101.5m), Meter("pv", EnergySource.Pv, true, 53m)], start.AddHours(2));
        var nextDay = today.Update([Meter("grid", EnergySource.GridImport, false, 104m), Meter("pv", EnergySource.Pv, true, 60m)], start.AddHours(15));
        var later = today.Update([Meter("grid", EnergySource.GridImport, false, 105m), Meter("pv", EnergySource.Pv, true, 60.5m)], start.AddHours(16));

        Assert.Equal(new EnergyToday(1.5m, 3m, start, false), morning);
        Assert.Equal(new EnergyToday(0m, 0m, new DateTimeOffset(2025, 6, 15, 0, 0, 0, TimeSpan.Zero), true), nextDay);
        Assert.Equal((1m, 0.5m), (later.GridKwh, later.CleanKwh));
    }

    [Fact]
    public void Export_registers_are_not_energy_used()
    {
        var today = new DailyEnergy(TimeZoneInfo.Utc);
        var at = new DateTimeOffset(2025, 6, 14, 9, 30, 0, TimeSpan.Zero);

        today.Update([Meter("exp", EnergySource.GridExport, false, 10m)], at);
        var result = today.Update([Meter("exp", EnergySource.GridExport, false, 20m)], at.AddHours(1));

        Assert.Equal((null, null), (result.GridKwh, result.CleanKwh));
    }
}

public sealed class DisplayPresenterLoopTests
{
    private sealed class FailingDisplay : ITextDisplay
    {
        public int Rows => 2;

        public int Columns => 16;

        public bool Backlight { get; set; }

        public int Calls { get; private set; }

        public void Show(IReadOnlyList<string> lines, string page = "", bool live = false)
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
