using System.Globalization;
using EdgeMeter.Agent.Pairing;
using EdgeMeter.Agent.Status;
using EdgeMeter.Crypto.Records;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace EdgeMeter.Agent.Display;

/// <summary>One two-line screenful of information, with a stable id naming what it shows.</summary>
internal sealed record DisplayPage(string Id, string Line1, string Line2);

/// <summary>
/// Renders the agent status to the character display as rotating two-line pages: the pairing code while unpaired,
/// an uplink alarm, the chain's confirmed balance, this month's provisional estimate and factors, and live power.
/// The confirmed balance ("Bal … / confirmed chain") and the local estimate ("Est … / prov.") are never on the
/// same line, and each says which it is. A 4-row display shows two pages at a time.
/// </summary>
/// <remarks>
/// Call <see cref="Render"/> periodically (about once a second), or run <see cref="RunAsync"/> from a hosted service;
/// the display only receives changed characters, so frequent calls are cheap. Not thread-safe: call it from one loop.
/// </remarks>
internal sealed partial class DisplayPresenter
{
    /// <summary>How long each page stays before the next one, unless overridden.</summary>
    public static readonly TimeSpan DefaultPagePeriod = TimeSpan.FromSeconds(4);

    private readonly ITextDisplay _display;
    private readonly IAgentStatusSource _status;
    private readonly IPairingService _pairing;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly TimeSpan _pagePeriod;
    private string? _currentId;
    private DateTimeOffset _shownAt;
    private bool _displayFailing;

    /// <summary>Creates the presenter; it does not own <paramref name="display"/>.</summary>
    /// <param name="display">The LCD or its console mirror.</param>
    /// <param name="status">The agent status snapshot.</param>
    /// <param name="pairing">Source of the pairing code, which is deliberately not part of <see cref="AgentStatus"/>.</param>
    /// <param name="time">Clock for page rotation and code expiry.</param>
    /// <param name="logger">Reports a display that stopped answering (once) and when it is back.</param>
    /// <param name="pagePeriod">How long each page stays; <see cref="DefaultPagePeriod"/> when null.</param>
    public DisplayPresenter(ITextDisplay display, IAgentStatusSource status, IPairingService pairing, TimeProvider time,
        ILogger<DisplayPresenter>? logger = null, TimeSpan? pagePeriod = null)
    {
        _display = display;
        _status = status;
        _pairing = pairing;
        _time = time;
        _logger = logger ?? NullLogger<DisplayPresenter>.Instance;
        _pagePeriod = pagePeriod ?? DefaultPagePeriod;
    }

    /// <summary>Shows the current page (advancing when its period is over) with fresh values.</summary>
    /// <exception cref="IOException">The display stopped answering.</exception>
    public void Render()
    {
        var code = _pairing.CodeForDisplay();
        var state = _pairing.GetState();
        var status = _status.Current;

        // Read the clock after the pairing service may have issued a code, or a fresh code would show "11 min".
        var now = _time.GetUtcNow();
        var pages = BuildPages(status, code, state, now, _display.Columns);
        int perScreen = Math.Max(1, _display.Rows / 2);

        int index = _currentId is null ? -1 : pages.FindIndex(p => p.Id == _currentId);
        if (index < 0)
        {
            index = 0;
            _shownAt = now;
        }
        else if (now - _shownAt >= _pagePeriod)
        {
            index += perScreen;
            if (index >= pages.Count)
            {
                index = 0;
            }

            _shownAt = now;
        }

        var lines = new List<string>(perScreen * 2);
        var ids = new List<string>(perScreen);
        for (int i = index; i < Math.Min(pages.Count, index + perScreen); i++)
        {
            lines.Add(pages[i].Line1);
            lines.Add(pages[i].Line2);
            ids.Add(pages[i].Id);
        }

        _currentId = pages[index].Id;
        _display.Show(lines, string.Join('+', ids));
    }

    /// <summary>Calls <see cref="Render"/> every <paramref name="tick"/> until cancelled; display errors are logged, not thrown.</summary>
    public async Task RunAsync(TimeSpan tick, CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(tick, _time);
        do
        {
            try
            {
                Render();
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
        while (await WaitAsync(timer, cancellationToken).ConfigureAwait(false));
    }

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
    internal static List<DisplayPage> BuildPages(AgentStatus status, PairingCode? code, PairingState pairing, DateTimeOffset now, int columns)
    {
        var pages = new List<DisplayPage>(6);
        if (pairing.LockedUntil is { } until)
        {
            pages.Add(new DisplayPage("pairing", "Pairing locked", $"retry in {Minutes(until - now)} min"));
        }
        else if (code is not null)
        {
            pages.Add(new DisplayPage("pairing", Fit(columns, $"Pair code {code.Code}", $"Code {code.Code}", code.Code), $"valid {Minutes(code.ExpiresAt - now)} min"));
        }

        if (!status.UplinkConnected)
        {
            pages.Add(new DisplayPage("uplink", "! Uplink down", Fit(columns, $"queued {status.Counters.OutboxPending}", $"q {status.Counters.OutboxPending}")));
        }

        var balance = status.ConfirmedBalance is { } b ? Tokens(b) : "--";
        pages.Add(new DisplayPage("balance",
            Fit(columns, $"Bal {balance} tok", $"Bal {balance}", $"Bal {Whole(status.ConfirmedBalance)}"),
            Fit(columns, "confirmed chain", "confirmed")));

        if (status.Provisional is { } p)
        {
            var total = p.TotalTokens.ToString("+0;-0;+0", CultureInfo.InvariantCulture);
            pages.Add(new DisplayPage("estimate",
                Fit(columns, $"Est {total} tok", $"Est {total}"),
                Fit(columns, $"provisional {p.Month}", $"prov. {p.Month}", "provisional")));
            var fs = p.FSupply is { } f ? Factor(f) : "--";
            pages.Add(new DisplayPage("factors",
                Fit(columns, $"Fd {Factor(p.FDemand)} Fs {fs}", $"Fd{Factor(p.FDemand)} Fs{fs}"),
                Fit(columns, $"Fc {Factor(p.CongestionFactor)} clean {Percent(p.CleanShare)}", $"Fc {Factor(p.CongestionFactor)} cln {Percent(p.CleanShare)}")));
        }
        else
        {
            pages.Add(new DisplayPage("estimate", "Est -- tok", "provisional"));
        }

        pages.Add(PowerPage(status.Meters, columns));
        return pages;
    }

    private static DisplayPage PowerPage(IReadOnlyList<MeterStatus> meters, int columns)
    {
        if (meters.Count == 0)
        {
            return new DisplayPage("power", "No meters", "check config");
        }

        decimal? grid = null;
        decimal? pv = null;
        bool hasPv = false;
        int online = 0;
        foreach (var m in meters)
        {
            hasPv |= m.Source == EnergySource.Pv;
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
                case EnergySource.Pv:
                    pv = (pv ?? 0) + w;
                    break;
            }
        }

        var p = grid is { } g ? Kw(g) : "--";
        string line1;
        if (hasPv)
        {
            var v = pv is { } x ? Kw(x) : "--";
            line1 = Fit(columns, $"P {p} PV {v}", $"P {p} PV{v}", $"P{p} PV{v}");
        }
        else
        {
            line1 = $"P {p}";
        }

        return new DisplayPage("power", line1, $"Meters up {online}/{meters.Count}");
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

    private static string Tokens(decimal value) => value.ToString("0.##", CultureInfo.InvariantCulture);

    private static string Whole(decimal? value) => value is { } v ? decimal.Round(v, MidpointRounding.AwayFromZero).ToString("0", CultureInfo.InvariantCulture) : "--";

    private static string Factor(decimal value) => value.ToString("0.00", CultureInfo.InvariantCulture);

    private static string Percent(decimal share) => (share * 100m).ToString("0", CultureInfo.InvariantCulture) + "%";

    private static string Kw(decimal watts)
    {
        var kw = watts / 1000m;
        var abs = Math.Abs(kw);
        var format = abs < 10m ? "0.##" : abs < 100m ? "0.#" : "0";
        return kw.ToString(format, CultureInfo.InvariantCulture) + "kW";
    }

    private static int Minutes(TimeSpan left) => Math.Max(0, (int)Math.Ceiling(left.TotalMinutes));

    [LoggerMessage(Level = LogLevel.Warning, Message = "The display stopped answering ({Reason}); retrying quietly")]
    private static partial void LogDisplayFailed(ILogger logger, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "Rendering the display failed; retrying quietly")]
    private static partial void LogRenderFailed(ILogger logger, Exception exception);

    [LoggerMessage(Level = LogLevel.Information, Message = "The display answers again")]
    private static partial void LogDisplayBack(ILogger logger);
}
