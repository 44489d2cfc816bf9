using System.Globalization;
using EdgeMeter.Agent.Pairing;
using EdgeMeter.Agent.Status;
using EdgeMeter.Crypto.Records;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using static EdgeMeter.Agent.Display.LcdCharset;

namespace EdgeMeter.Agent.Display;

/// <summary>One two-line screenful of information, with a stable id naming what it shows.</summary>
/// <param name="Id">What the page shows: "balance", "power".</param>
/// <param name="Line1">The first row.</param>
/// <param name="Line2">The second row.</param>
/// <param name="Live">Its values move with every reading.</param>
internal sealed record DisplayPage(string Id, string Line1, string Line2, bool Live = false);

/// <summary>What the pages are built from, read once per render.</summary>
/// <param name="Status">The agent status.</param>
/// <param name="Code">The pairing code to show, if any.</param>
/// <param name="Pairing">The pairing state (lockout).</param>
/// <param name="AwaitingPresence">A re-pairing waits for a press of the button.</param>
/// <param name="Now">The time.</param>
/// <param name="Today">Today's energy by source.</param>
internal sealed record PageInput(AgentStatus Status, PairingCode? Code, PairingState Pairing, bool AwaitingPresence, DateTimeOffset Now, EnergyToday Today);

/// <summary>
/// Renders the agent status to the character display as rotating two-line pages, in English (the LCD's ROM has no
/// Chinese): pairing (code, lockout, or a request to press the button), disk and memory alarms, the confirmed
/// balance with the month's provisional tokens, live power with the clean share, today's energy by source, sync
/// state and backlog, and the time status. A 4-row display shows two pages at a time.
/// </summary>
/// <remarks>
/// The button: a short press shows the next page, or confirms a re-pairing while one waits for it; a long press shows
/// the device address, IP address and web page. The backlight goes off <c>backlightTimeout</c> after the last press
/// and the first press wakes it, unless a pairing page needs it on. Thread-safe: the button calls in from its own
/// thread.
/// </remarks>
internal sealed partial class DisplayPresenter
{
    /// <summary>How long each page stays before the next one, unless overridden.</summary>
    public static readonly TimeSpan DefaultPagePeriod = TimeSpan.FromSeconds(4);

    /// <summary>How long the information pages of a long press stay without another press.</summary>
    public static readonly TimeSpan InfoPeriod = TimeSpan.FromSeconds(30);

    private readonly ITextDisplay _display;
    private readonly IAgentStatusSource _status;
    private readonly IPairingService _pairing;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly TimeSpan _pagePeriod;
    private readonly TimeSpan _backlightTimeout;
    private readonly Func<string?> _ipAddress;
    private readonly Func<string?> _webUrl;
    private readonly DailyEnergy _today;
    private readonly Lock _gate = new();
    private string? _currentId;
    private DateTimeOffset _shownAt;
    private DateTimeOffset _lastPress;
    private DateTimeOffset? _infoUntil;
    private bool _advance;
    private bool _displayFailing;

    /// <summary>Creates the presenter; it does not own <paramref name="display"/>.</summary>
    /// <param name="display">The LCD or its console mirror.</param>
    /// <param name="status">The agent status snapshot.</param>
    /// <param name="pairing">Source of the pairing code, which is deliberately not part of <see cref="AgentStatus"/>.</param>
    /// <param name="time">Clock for page rotation, code expiry and the backlight.</param>
    /// <param name="logger">Reports a display that stopped answering (once) and when it is back.</param>
    /// <param name="pagePeriod">How long each page stays; <see cref="DefaultPagePeriod"/> when null.</param>
    /// <param name="backlightTimeout">Backlight off this long after the last press; null or zero: always on.</param>
    /// <param name="ipAddress">The gateway's IP address for the long press; none when null.</param>
    /// <param name="webUrl">The local web page for the long press, asked at the press: the address may come later than the agent.</param>
    public DisplayPresenter(ITextDisplay display, IAgentStatusSource status, IPairingService pairing, TimeProvider time,
        ILogger<DisplayPresenter>? logger = null, TimeSpan? pagePeriod = null, TimeSpan? backlightTimeout = null,
        Func<string?>? ipAddress = null, Func<string?>? webUrl = null)
    {
        _display = display;
        _status = status;
        _pairing = pairing;
        _time = time;
        _logger = logger ?? NullLogger<DisplayPresenter>.Instance;
        _pagePeriod = pagePeriod ?? DefaultPagePeriod;
        _backlightTimeout = backlightTimeout ?? TimeSpan.Zero;
        _ipAddress = ipAddress ?? (static () => null);
        _webUrl = webUrl ?? (static () => null);
        _today = new DailyEnergy(time.LocalTimeZone);
        _lastPress = time.GetUtcNow();
    }

    /// <summary>Shows the current page (advancing when its period is over) with fresh values.</summary>
    /// <exception cref="IOException">The display stopped answering.</exception>
    public void Render()
    {
        lock (_gate)
        {
            RenderLocked();
        }
    }

    /// <summary>
    /// Every page the LCD rotates through now, for the local page's mirror: built like the LCD's own, but never with
    /// the pairing code, which no web response may carry.
    /// </summary>
    public IReadOnlyList<(string Line1, string Line2)> MirrorPages()
    {
        lock (_gate)
        {
            var status = _status.Current;
            var now = _time.GetUtcNow();
            var input = new PageInput(status, null, _pairing.GetState(), _pairing.AwaitingPresence, now, _today.Update(status.Meters, now));
            return [.. BuildPages(input, _display.Columns).Select(p => (p.Line1, p.Line2))];
        }
    }

    /// <summary>
    /// A short press of the button: confirms a re-pairing that waits for one, else wakes the backlight, else shows the
    /// next page. The display is updated at once.
    /// </summary>
    public void ShortPress()
    {
        lock (_gate)
        {
            var now = _time.GetUtcNow();
            bool asleep = BacklightAsleep(now);
            _lastPress = now;
            if (_pairing.AwaitingPresence)
            {
                LogPresenceConfirmed(_logger);
                _pairing.ConfirmPresence();
                _currentId = null;
                _infoUntil = null;
            }
            else if (!asleep)
            {
                _advance = true;
                if (_infoUntil is not null)
                {
                    _infoUntil = now + InfoPeriod;
                }
            }

            TryRenderLocked();
        }
    }

    /// <summary>A long press: shows the device address, the IP address and the web page, one after the other.</summary>
    public void LongPress()
    {
        lock (_gate)
        {
            var now = _time.GetUtcNow();
            _lastPress = now;
            _infoUntil = now + InfoPeriod;
            _currentId = null;
            TryRenderLocked();
        }
    }

    /// <summary>
    /// The last screen, when the agent stops: the LCD keeps showing it after the process ended, so it says that the
    /// agent is not running, and the confirmed balance.
    /// </summary>
    /// <exception cref="IOException">The display stopped answering.</exception>
    public void ShowStopped()
    {
        lock (_gate)
        {
            var status = _status.Current;
            _display.Backlight = true;
            var balance = Balance(status.ConfirmedBalance);
            var lines = new List<string> { Fit(_display.Columns, "EdgeMeter stopped", "Agent stopped"), Fit(_display.Columns, $"{Token}{balance} confirmed", $"{Token}{balance} conf", $"{Token}{balance}") };
            _display.Show(lines, "stopped");
        }
    }

    /// <summary>Calls <see cref="Render"/> every <paramref name="tick"/> until cancelled; display errors are logged, not thrown.</summary>
    public async Task RunAsync(TimeSpan tick, CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(tick, _time);
        do
        {
            lock (_gate)
            {
                TryRenderLocked();
            }
        }
        while (await WaitAsync(timer, cancellationToken).ConfigureAwait(false));
    }

    private void TryRenderLocked()
    {
        try
        {
            RenderLocked();
            if (_displayFailing)
            {
                _displayFailing = false;
                LogDisplayBack(_logger);
            }
        }
        catch (IOException e)
        {
            // Log once per outage: an unplugged LCD must not flood the journal every second.
            if (!_displayFailing)
            {
                _displayFailing = true;
                LogDisplayFailed(_logger, e.Message);
            }
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // A bug in a status source must not stop the display for good; log it once per outage, like above.
            if (!_displayFailing)
            {
                _displayFailing = true;
                LogRenderFailed(_logger, e);
            }
        }
    }

    private void RenderLocked()
    {
        var code = _pairing.CodeForDisplay();
        var state = _pairing.GetState();
        bool awaiting = _pairing.AwaitingPresence;
        var status = _status.Current;

        // Read the clock after the pairing service may have issued a code, or a fresh code would show "11 min".
        var now = _time.GetUtcNow();
        var today = _today.Update(status.Meters, now);
        List<DisplayPage> pages;
        if (_infoUntil is { } until && now < until)
        {
            pages = InfoPages(status.DeviceAddress, _ipAddress(), _webUrl(), _display.Columns);
        }
        else
        {
            _infoUntil = null;
            pages = BuildPages(new PageInput(status, code, state, awaiting, now, today), _display.Columns);
        }

        int perScreen = Math.Max(1, _display.Rows / 2);
        int index = _currentId is null ? -1 : pages.FindIndex(p => p.Id == _currentId);
        if (index < 0)
        {
            index = 0;
            _shownAt = now;
        }
        else if (_advance || now - _shownAt >= _pagePeriod)
        {
            index += perScreen;
            if (index >= pages.Count)
            {
                index = 0;
            }

            _shownAt = now;
        }

        _advance = false;
        var lines = new List<string>(perScreen * 2);
        var ids = new List<string>(perScreen);
        bool live = false;
        for (int i = index; i < Math.Min(pages.Count, index + perScreen); i++)
        {
            lines.Add(pages[i].Line1);
            lines.Add(pages[i].Line2);
            ids.Add(pages[i].Id);
            live |= pages[i].Live;
        }

        _currentId = pages[index].Id;

        // Someone must read a pairing code or press the button: the light stays on while such a page is up.
        bool pairingUp = pages[0].Id == "pairing";
        _display.Backlight = pairingUp || !BacklightAsleep(now);
        _display.Show(lines, string.Join('+', ids), live);
    }

    private bool BacklightAsleep(DateTimeOffset now) => _backlightTimeout > TimeSpan.Zero && now - _lastPress >= _backlightTimeout;

    private static async Task<bool> WaitAsync(PeriodicTimer timer, CancellationToken cancellationToken)
    {
        try
        {
            return await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    /// <summary>The pages for one status snapshot, in rotation order; never empty.</summary>
    internal static List<DisplayPage> BuildPages(PageInput input, int columns)
    {
        var status = input.Status;
        var now = input.Now;
        var pages = new List<DisplayPage>(8);
        if (input.Pairing.LockedUntil is { } until)
        {
            pages.Add(new DisplayPage("pairing", "Pairing locked", $"retry in {Minutes(until - now)} min"));
        }
        else if (input.AwaitingPresence)
        {
            pages.Add(new DisplayPage("pairing", "Press button", "to pair"));
        }
        else if (input.Code is { } code)
        {
            pages.Add(new DisplayPage("pairing", Fit(columns, $"Pair code {code.Code}", $"Code {code.Code}", code.Code), $"valid {Minutes(code.ExpiresAt - now)} min"));
        }

        if (status.Health is { } health && (health.DiskLow || health.MemoryHigh))
        {
            var disk = Fit(columns, $"! Disk low {health.DiskFreeMegabytes}MB", $"! Disk {health.DiskFreeMegabytes}MB");
            var memory = Fit(columns, $"! Memory {health.MemoryMegabytes}MB", $"! RAM {health.MemoryMegabytes}MB");
            pages.Add(health.DiskLow && health.MemoryHigh
                ? new DisplayPage("alarm", disk, memory)
                : health.DiskLow
                    ? new DisplayPage("alarm", disk, "old data pruned")
                    : new DisplayPage("alarm", memory, "agent restart?"));
        }

        if (status.Counters.DroppedUnsigned is > 0 and var dropped)
        {
            // Readings that were never signed because the disk kept failing (or signing waited too long): they are not
            // in the chain, and the owner should know.
            pages.Add(new DisplayPage("alarm", Fit(columns, $"! Dropped {dropped}", $"!Drop {dropped}"), Fit(columns, "unsigned reads", "unsigned")));
        }

        var pending = status.Counters.OutboxPending;
        var sync = status.UplinkConnected
            ? new DisplayPage("sync", $"{Signal} Sync ok", Fit(columns, $"backlog {pending}", $"q {pending}"), Live: true)
            : new DisplayPage("sync", "! Uplink down", Fit(columns, $"queued {pending}", $"q {pending}"), Live: true);
        if (!status.UplinkConnected)
        {
            pages.Add(sync);
        }

        var balance = Balance(status.ConfirmedBalance);
        var month = status.Provisional is { } p ? p.TotalTokens.ToString("+0;-0;+0", CultureInfo.InvariantCulture) : "--";
        pages.Add(new DisplayPage("balance",
            Fit(columns, $"{Token}{balance} confirmed", $"{Token}{balance} conf", $"{Token}{balance}"),
            Fit(columns, $"Month {month} provisional", $"Month {month} prov.", $"Mon {month} prov", $"{month} prov")));

        pages.Add(PowerPage(status.Meters, columns));
        pages.Add(TodayPage(input.Today, columns));
        if (status.UplinkConnected)
        {
            pages.Add(sync);
        }

        pages.Add(TimePage(status, now, columns));
        return pages;
    }

    /// <summary>The pages of a long press.</summary>
    internal static List<DisplayPage> InfoPages(string deviceAddress, string? ip, string? webUrl, int columns)
    {
        // 0x and 40 hex digits do not fit a row: the first and last digits, as wallets shorten addresses.
        int keep = (columns - 4) / 2;
        var address = deviceAddress.Length <= columns ? deviceAddress : $"{deviceAddress[..(2 + keep)]}..{deviceAddress[^keep..]}";
        var web = webUrl is null ? "none" : webUrl.Replace("http://", "", StringComparison.Ordinal).TrimEnd('/');
        return
        [
            new DisplayPage("device", "Device address", address),
            new DisplayPage("ip", "IP address", ip ?? "no network"),
            new DisplayPage("web", "Web page", web),
        ];
    }

    private static DisplayPage PowerPage(IReadOnlyList<MeterStatus> meters, int columns)
    {
        if (meters.Count == 0)
        {
            return new DisplayPage("power", "No meters", "check config");
        }

        decimal? grid = null;
        decimal? clean = null;
        bool hasClean = false;
        int online = 0;
        foreach (var m in meters)
        {
            hasClean |= m.Clean && m.Source != EnergySource.GridExport;
            if (!m.Online)
            {
                continue;
            }

            online++;
            if (m.ActivePowerW is not { } w)
            {
                continue;
            }

            // Net grid power: import counts up, export down; a stale value from an offline meter is not shown.
            switch (m.Source)
            {
                case EnergySource.GridImport:
                    grid = (grid ?? 0) + w;
                    break;
                case EnergySource.GridExport:
                    grid = (grid ?? 0) - w;
                    break;
                default:
                    if (m.Clean)
                    {
                        clean = (clean ?? 0) + w;
                    }

                    break;
            }
        }

        var g = grid is { } x ? Kw(x) : "--";
        var line1 = hasClean ? $"{Plug}{g} {Sun}{(clean is { } c ? Kw(c) : "--")}" : $"{Plug}{g}";
        string line2;
        if (online < meters.Count)
        {
            line2 = $"Meters up {online}/{meters.Count}";
        }
        else if (hasClean && grid is { } net && clean is { } generated && net + generated > 0)
        {
            // What the house uses now is the net grid power plus what it generates; exporting means all of it is clean.
            var share = Math.Clamp(generated / (net + generated), 0m, 1m);
            line2 = Fit(columns, $"clean share {Percent(share)}", $"clean {Percent(share)} now", $"clean {Percent(share)}");
        }
        else
        {
            line2 = hasClean ? "clean --" : "clean 0%";
        }

        return new DisplayPage("power", line1, line2, Live: true);
    }

    private static DisplayPage TodayPage(EnergyToday today, int columns)
    {
        var title = today.FromMidnight
            ? Fit(columns, "Today's energy", "Today kWh")
            : Fit(columns, $"Since {today.Since:HH:mm} kWh", $"Since {today.Since:HH:mm}");
        var grid = today.GridKwh is { } g ? Kwh(g) : "--";
        var clean = today.CleanKwh is { } c ? Kwh(c) : "--";
        return new DisplayPage("today", title, Fit(columns, $"{Plug}{grid} {Sun}{clean} kWh", $"{Plug}{grid} {Sun}{clean}"), Live: true);
    }

    private static DisplayPage TimePage(AgentStatus status, DateTimeOffset now, int columns)
    {
        var title = status.TimeStatus switch
        {
            TimeStatus.Synchronised => "Clock NTP sync",
            TimeStatus.Informative when status.TimeFromRtc => "Clock from RTC",
            TimeStatus.Informative => "Clock free-run",
            TimeStatus.Relative => "Clock jumped",
            _ => "Clock not set",
        };
        var utc = now.UtcDateTime;
        return new DisplayPage("time", title, Fit(columns, $"{utc:yyyy-MM-dd HH:mm}Z", $"{utc:yyyy-MM-dd HH:mm}"), Live: true);
    }

    /// <summary>The first candidate that fits in <paramref name="columns"/>, else the last one (the display cuts it).</summary>
    private static string Fit(int columns, params ReadOnlySpan<string> candidates)
    {
        foreach (var c in candidates)
        {
            if (c.Length <= columns)
            {
                return c;
            }
        }

        return candidates[^1];
    }

    private static string Balance(decimal? value) => value is { } v ? v.ToString("0.##", CultureInfo.InvariantCulture) : "--";

    private static string Percent(decimal share) => (share * 100m).ToString("0", CultureInfo.InvariantCulture) + "%";

    private static string Kw(decimal watts) => Short(watts / 1000m) + "kW";

    private static string Kwh(decimal kwh) => Short(kwh);

    private static string Short(decimal value)
    {
        var abs = Math.Abs(value);
        var format = abs < 10m ? "0.##" : abs < 100m ? "0.#" : "0";
        return value.ToString(format, CultureInfo.InvariantCulture);
    }

    private static int Minutes(TimeSpan left) => Math.Max(0, (int)Math.Ceiling(left.TotalMinutes));

    [LoggerMessage(Level = LogLevel.Warning, Message = "The display stopped answering ({Reason}); retrying quietly")]
    private static partial void LogDisplayFailed(ILogger logger, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "Rendering the display failed; retrying quietly")]
    private static partial void LogRenderFailed(ILogger logger, Exception exception);

    [LoggerMessage(Level = LogLevel.Information, Message = "The display answers again")]
    private static partial void LogDisplayBack(ILogger logger);

    [LoggerMessage(Level = LogLevel.Information, Message = "Button pressed while a re-pairing waited for it: pairing window opened")]
    private static partial void LogPresenceConfirmed(ILogger logger);
}
