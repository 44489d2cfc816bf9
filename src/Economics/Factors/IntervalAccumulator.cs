using System.Globalization;
using System.Text.Json;
using EdgeMeter.Crypto.Records;

namespace EdgeMeter.Economics;

/// <summary>
/// Turns cumulative energy registers from signed readings into per-interval consumption (the calculator's
/// <see cref="ConsumptionInterval"/> model) and computes the current month from them.
/// Thread-safe: the poller adds while the status page reads.
/// </summary>
/// <remarks>
/// Rules (README.md in this folder has the reasoning):
/// <list type="bullet">
/// <item>Electricity registers are OBIS <c>1-b:1.8.0</c> (+A) and <c>1-b:2.8.0</c> (−A). On a grid channel
/// (<see cref="EnergySource.GridImport"/>, <see cref="EnergySource.GridExport"/>) +A is drawn from the grid, −A fed into it.
/// On a generation channel (<see cref="EnergySource.Pv"/>, <see cref="EnergySource.Wind"/>, <see cref="EnergySource.Chp"/>)
/// +A is generation; −A is ignored.</item>
/// <item>Heat registers (<see cref="EnergySource.Heat"/>) are OBIS <c>6-b:1.c.0</c> (heat energy, total).</item>
/// <item>Battery and Other channels, tariff registers (E ≠ 0) and anything else are ignored.</item>
/// <item>A reading read back from the meter's memory (<see cref="RecordOrigin.MeterMemory"/>, a load-profile row) is
/// placed at the meter's capture time; any other at the gateway's time. Readings of a register are taken in time order,
/// so a row older than the register's last reading adds nothing.</item>
/// <item>A register difference is spread over the intervals between the two readings in proportion to time; a
/// difference over more than a day, or a decrease (meter reset), is not counted.</item>
/// <item>Per interval, with I import, X export, G generation, Gc its clean part (all of the interval):
/// elec = max(0, I − X + G); cleanElec = min(elec, max(0, Gc − X)) — export is taken from clean generation first,
/// so the clean share is never overstated; heat = heat registers, cleanHeat = those of clean channels.</item>
/// </list>
/// </remarks>
public sealed class IntervalAccumulator
{
    /// <summary>The longest gap between two readings of a register whose difference is still spread over intervals.</summary>
    public const long MaxSpreadTicks = TimeSpan.TicksPerDay;

    private readonly Lock _gate = new();
    private readonly Dictionary<ChannelKey, ChannelState> _channels = [];
    private readonly SortedDictionary<long, Bucket> _buckets = [];
    private readonly long _intervalTicks;
    private readonly long _retentionTicks;
    private long _latestTicks = long.MinValue;

    /// <summary>Creates an accumulator.</summary>
    /// <param name="intervalMinutes">Interval length; must divide a day (e.g. 15). Intervals are aligned to UTC midnight.</param>
    /// <param name="retention">How far back intervals are kept; at least 45 days, so a month can still be claimed after it ends with its 10-day history. Default 62 days.</param>
    public IntervalAccumulator(int intervalMinutes = 15, TimeSpan? retention = null)
    {
        if (intervalMinutes <= 0 || (24 * 60) % intervalMinutes != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(intervalMinutes), intervalMinutes, "must divide 1440");
        }
        var keep = retention ?? TimeSpan.FromDays(62);
        if (keep < TimeSpan.FromDays(45))
        {
            throw new ArgumentOutOfRangeException(nameof(retention), keep, "must be at least 45 days");
        }
        IntervalMinutes = intervalMinutes;
        _intervalTicks = intervalMinutes * TimeSpan.TicksPerMinute;
        _retentionTicks = keep.Ticks;
    }

    /// <summary>Interval length in minutes.</summary>
    public int IntervalMinutes { get; }

    /// <summary>Gateway time of the newest reading taken in; null before the first.</summary>
    public DateTimeOffset? LatestReadingTime
    {
        get
        {
            lock (_gate)
            {
                return _latestTicks == long.MinValue ? null : new DateTimeOffset(_latestTicks, TimeSpan.Zero);
            }
        }
    }

    /// <summary>Adds a signed reading; false when it is not an energy register the rules count (or is out of order).</summary>
    public bool Add(ReadingRecord reading)
    {
        ArgumentNullException.ThrowIfNull(reading);
        if (reading.Scaler is < -18 or > 18)
        {
            return false;
        }
        decimal wh = reading.Value;
        var scale = Pow10(Math.Abs((int)reading.Scaler));
        wh = reading.Scaler >= 0 ? wh * scale : wh / scale;
        switch (reading.Unit)
        {
            case "Wh":
                break;
            case "kWh":
                wh *= 1000m;
                break;
            default:
                return false;
        }
        // A row read back from the meter's memory belongs where the meter captured it, not where the gateway read it.
        var at = reading.Origin == RecordOrigin.MeterMemory ? reading.MeterTimeMs : reading.GatewayTimeMs;
        return Add(reading.MeterId, reading.Source, reading.Clean, reading.Obis, wh,
            DateTimeOffset.FromUnixTimeMilliseconds(at), reading.Sequence);
    }

    /// <summary>
    /// Adds one energy register value. Returns false when the register is not counted by the rules, or the reading is
    /// not newer than the channel's last one.
    /// </summary>
    /// <param name="meterId">Meter identity.</param>
    /// <param name="source">The channel's energy source.</param>
    /// <param name="clean">Whether the channel counts as clean.</param>
    /// <param name="obis">The register's OBIS code, e.g. <c>1-0:1.8.0*255</c>.</param>
    /// <param name="energyWh">Cumulative register value in Wh.</param>
    /// <param name="gatewayTime">When it was read.</param>
    /// <param name="sequence">The signed reading's sequence number, for the claim's reading ranges; 0 when unsigned.</param>
    public bool Add(string meterId, EnergySource source, bool clean, string obis, decimal energyWh, DateTimeOffset gatewayTime, ulong sequence = 0)
    {
        ArgumentNullException.ThrowIfNull(meterId);
        ArgumentNullException.ThrowIfNull(obis);
        if (Classify(source, obis) is not { } flow)
        {
            return false;
        }
        var key = new ChannelKey(meterId, obis);
        var t = gatewayTime.UtcTicks;
        lock (_gate)
        {
            if (_channels.TryGetValue(key, out var previous))
            {
                if (t <= previous.Ticks)
                {
                    return false;
                }
                var delta = energyWh - previous.ValueWh;
                // A smaller value means the meter was replaced or its register reset: restart from the new value, count nothing.
                // Over a gap longer than MaxSpreadTicks (an outage, a clock that jumped) the energy cannot be placed in
                // intervals honestly; it is left out rather than smeared into invented baseline history.
                if (delta >= 0 && t - previous.Ticks <= MaxSpreadTicks)
                {
                    Spread(key, flow, clean, previous.Ticks, t, delta, previous.Sequence, sequence);
                }
            }
            _channels[key] = new ChannelState(t, energyWh, sequence);
            if (t > _latestTicks)
            {
                _latestTicks = t;
                Prune();
            }
            return true;
        }
    }

    /// <summary>
    /// The complete intervals, oldest first: those that end at or before every active channel's newest reading
    /// (a channel is active when it reported within the hour before the newest reading of any channel).
    /// </summary>
    /// <param name="includeCurrent">Also the interval in progress, with what it holds so far (a provisional view).</param>
    public IReadOnlyList<ConsumptionInterval> CompleteIntervals(bool includeCurrent = false)
    {
        lock (_gate)
        {
            var end = includeCurrent ? long.MaxValue : CompleteBeforeTicks();
            var list = new List<ConsumptionInterval>(_buckets.Count);
            foreach (var (start, bucket) in _buckets)
            {
                if (start + _intervalTicks > end)
                {
                    break;
                }
                list.Add(bucket.ToInterval(new DateTimeOffset(start, TimeSpan.Zero), IntervalMinutes));
            }
            return list;
        }
    }

    /// <summary>The highest sequence number taken in; a restart replays stored records after it.</summary>
    public ulong ThroughSequence
    {
        get
        {
            lock (_gate)
                return _channels.Values.Select(c => c.Sequence).DefaultIfEmpty(0UL).Max();
        }
    }

    /// <summary>
    /// Writes the whole state (channels' last register values, interval sums, reading ranges) so that a restart does
    /// not forget the month: decimals as exact strings, ticks as numbers.
    /// </summary>
    public void WriteSnapshot(Utf8JsonWriter w)
    {
        lock (_gate)
        {
            w.WriteStartObject();
            w.WriteNumber("intervalMinutes", IntervalMinutes);
            w.WriteNumber("latestTicks", _latestTicks);
            w.WriteStartArray("channels");
            foreach (var (key, state) in _channels)
            {
                w.WriteStartObject();
                w.WriteString("meterId", key.MeterId);
                w.WriteString("obis", key.Obis);
                w.WriteNumber("ticks", state.Ticks);
                w.WriteString("valueWh", state.ValueWh.ToString(CultureInfo.InvariantCulture));
                w.WriteNumber("sequence", state.Sequence);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteStartArray("buckets");
            foreach (var (start, b) in _buckets)
            {
                w.WriteStartObject();
                w.WriteNumber("start", start);
                w.WriteString("import", b._import.ToString(CultureInfo.InvariantCulture));
                w.WriteString("export", b._export.ToString(CultureInfo.InvariantCulture));
                w.WriteString("generation", b._generation.ToString(CultureInfo.InvariantCulture));
                w.WriteString("cleanGeneration", b._cleanGeneration.ToString(CultureInfo.InvariantCulture));
                w.WriteString("heat", b._heat.ToString(CultureInfo.InvariantCulture));
                w.WriteString("cleanHeat", b._cleanHeat.ToString(CultureInfo.InvariantCulture));
                w.WriteStartArray("sequences");
                foreach (var (key, (first, last)) in b.Sequences)
                {
                    w.WriteStartObject();
                    w.WriteString("meterId", key.MeterId);
                    w.WriteString("obis", key.Obis);
                    w.WriteNumber("first", first);
                    w.WriteNumber("last", last);
                    w.WriteEndObject();
                }
                w.WriteEndArray();
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteEndObject();
        }
    }

    /// <summary>Restores a snapshot written by <see cref="WriteSnapshot"/>; false (state untouched) when it does not fit.</summary>
    public bool TryLoadSnapshot(JsonElement root)
    {
        try
        {
            if (root.GetProperty("intervalMinutes").GetInt32() != IntervalMinutes)
                return false;
            var channels = new Dictionary<ChannelKey, ChannelState>();
            foreach (var c in root.GetProperty("channels").EnumerateArray())
            {
                channels[new ChannelKey(c.GetProperty("meterId").GetString()!, c.GetProperty("obis").GetString()!)] =
                    new ChannelState(c.GetProperty("ticks").GetInt64(), Dec(c, "valueWh"), c.GetProperty("sequence").GetUInt64());
            }
            var buckets = new SortedDictionary<long, Bucket>();
            foreach (var e in root.GetProperty("buckets").EnumerateArray())
            {
                var b = new Bucket
                {
                    _import = Dec(e, "import"),
                    _export = Dec(e, "export"),
                    _generation = Dec(e, "generation"),
                    _cleanGeneration = Dec(e, "cleanGeneration"),
                    _heat = Dec(e, "heat"),
                    _cleanHeat = Dec(e, "cleanHeat"),
                };
                foreach (var q in e.GetProperty("sequences").EnumerateArray())
                {
                    b.Sequences[new ChannelKey(q.GetProperty("meterId").GetString()!, q.GetProperty("obis").GetString()!)] =
                        (q.GetProperty("first").GetUInt64(), q.GetProperty("last").GetUInt64());
                }
                buckets[e.GetProperty("start").GetInt64()] = b;
            }
            lock (_gate)
            {
                _channels.Clear();
                foreach (var (k, v) in channels)
                    _channels[k] = v;
                _buckets.Clear();
                foreach (var (k, v) in buckets)
                    _buckets[k] = v;
                _latestTicks = root.GetProperty("latestTicks").GetInt64();
            }
            return true;
        }
        catch (Exception e) when (e is KeyNotFoundException or InvalidOperationException or FormatException or OverflowException)
        {
            return false;
        }

        static decimal Dec(JsonElement e, string name) => decimal.Parse(e.GetProperty(name).GetString()!, NumberStyles.Float, CultureInfo.InvariantCulture);
    }

    /// <summary>Computes <paramref name="month"/> from the complete intervals.</summary>
    public FactorResult Compute(FactorMonth month, FactorParams p, IReadOnlyList<FactorEvent> events, decimal congestionCarryIn = 0m, bool includeCurrent = false) =>
        FactorCalculator.Compute(month, p, CompleteIntervals(includeCurrent), events, congestionCarryIn);

    /// <summary>
    /// This month's provisional tokens for the status page and LCD (the month of <paramref name="now"/>, default the newest
    /// reading, in the parameters' zone); null before the first reading. Quantities rounded to 6 places.
    /// </summary>
    public ProvisionalTokens? Provisional(FactorParams p, IReadOnlyList<FactorEvent> events, decimal congestionCarryIn = 0m, DateTimeOffset? now = null, bool includeCurrent = false)
    {
        ArgumentNullException.ThrowIfNull(p);
        if ((now ?? LatestReadingTime) is not { } at)
        {
            return null;
        }
        var r = Compute(FactorMonth.Of(at, p.TimeZone), p, events, congestionCarryIn, includeCurrent);
        return new ProvisionalTokens
        {
            Month = r.Month.ToString(),
            CleanShare = FactorDecimal.Round6(r.CleanShare),
            FDemand = FactorDecimal.Round6(r.FDemand),
            FSupply = r.FSupply is { } f ? FactorDecimal.Round6(f) : null,
            CongestionFactor = FactorDecimal.Round6(r.CongestionFactor),
            CarbonTokens = r.CarbonTokens,
            CongestionTokens = r.CongestionTokens,
            TotalTokens = r.TotalTokens,
        };
    }

    /// <summary>
    /// Computes <paramref name="month"/> and wraps it in a claim listing the readings that fed the intervals it looked at
    /// (the month, its 10-day baseline history and the fallback windows of its events). The claim counts the complete
    /// intervals (with <paramref name="includeCurrent"/>, also the one in progress); it is final once they reach the
    /// end of the month.
    /// </summary>
    public TokenClaim BuildClaim(string device, FactorMonth month, FactorParams p, IReadOnlyList<FactorEvent> events, decimal congestionCarryIn = 0m, bool includeCurrent = false)
    {
        ArgumentNullException.ThrowIfNull(p);
        long through;
        lock (_gate)
        {
            through = _latestTicks == long.MinValue ? 0 : includeCurrent ? _latestTicks + 1 : Floor(CompleteBeforeTicks());
        }
        var monthEnd = month.Next().StartIn(p.TimeZone).UtcTicks;
        return BuildClaimThrough(device, month, p, events, congestionCarryIn, new DateTimeOffset(Math.Clamp(through, DateTimeOffset.MinValue.UtcTicks, monthEnd), TimeSpan.Zero));
    }

    /// <summary>
    /// The claim over the intervals that start before <paramref name="through"/> (at most the end of the month), however
    /// complete they are: what a ledger recomputes from the readings a claim names, and what the gateway builds for a
    /// closed month once its intervals are complete (<see cref="CompleteThrough"/>).
    /// </summary>
    public TokenClaim BuildClaimThrough(string device, FactorMonth month, FactorParams p, IReadOnlyList<FactorEvent> events, decimal congestionCarryIn, DateTimeOffset through)
    {
        ArgumentNullException.ThrowIfNull(p);
        ArgumentNullException.ThrowIfNull(events);
        var monthStart = month.StartIn(p.TimeZone);
        var to = Math.Min(month.Next().StartIn(p.TimeZone).UtcTicks, through.UtcTicks);
        var intervals = IntervalsBefore(to);
        var result = FactorCalculator.Compute(month, p, intervals, events, congestionCarryIn);
        var from = monthStart.AddDays(-FactorCalculator.BaselineDays).UtcTicks;
        var windowTicks = FactorCalculator.WindowLengths * _intervalTicks;
        foreach (var b in result.Baselines)
        {
            if (b.Method == BaselineMethod.Window)
            {
                var ev = events.First(e => e.Id == b.EventId);
                from = Math.Min(from, ev.Start.UtcTicks - windowTicks);
            }
        }
        return TokenClaim.Create(device, p, result, events, ReadingRanges(from, to), IntervalMinutes,
            new DateTimeOffset(to, TimeSpan.Zero), InputsHash(intervals, from, to));
    }

    /// <summary>
    /// The instant up to which every interval is complete (see <see cref="CompleteIntervals"/>), on an interval edge;
    /// null before any reading.
    /// </summary>
    public DateTimeOffset? CompleteThrough
    {
        get
        {
            lock (_gate)
            {
                return _latestTicks == long.MinValue ? null : new DateTimeOffset(Floor(CompleteBeforeTicks()), TimeSpan.Zero);
            }
        }
    }

    /// <summary>Every interval (complete or not) that starts before <paramref name="toUtcTicks"/>, oldest first.</summary>
    public IReadOnlyList<ConsumptionInterval> IntervalsBefore(long toUtcTicks)
    {
        lock (_gate)
        {
            var list = new List<ConsumptionInterval>(_buckets.Count);
            foreach (var (start, bucket) in _buckets)
            {
                if (start >= toUtcTicks)
                {
                    break;
                }
                list.Add(bucket.ToInterval(new DateTimeOffset(start, TimeSpan.Zero), IntervalMinutes));
            }
            return list;
        }
    }

    /// <summary>
    /// Hex SHA-256 over the intervals starting in [<paramref name="fromUtcTicks"/>, <paramref name="toUtcTicks"/>): one
    /// line <c>start-ticks,minutes,elec,cleanElec,heat,cleanHeat</c> per interval, decimals in canonical text.
    /// </summary>
    public static string InputsHash(IReadOnlyList<ConsumptionInterval> intervals, long fromUtcTicks, long toUtcTicks)
    {
        ArgumentNullException.ThrowIfNull(intervals);
        var sha = new EdgeMeter.Crypto.Hashing.Sha256();
        foreach (var iv in intervals.OrderBy(i => i.Start.UtcTicks))
        {
            if (iv.Start.UtcTicks < fromUtcTicks || iv.Start.UtcTicks >= toUtcTicks)
            {
                continue;
            }
            sha.AppendData(System.Text.Encoding.UTF8.GetBytes(string.Create(CultureInfo.InvariantCulture,
                $"{iv.Start.UtcTicks},{iv.Minutes},{FactorDecimal.Format(iv.ElecKwh)},{FactorDecimal.Format(iv.CleanElecKwh)},{FactorDecimal.Format(iv.HeatKwh)},{FactorDecimal.Format(iv.CleanHeatKwh)}\n")));
        }
        return Convert.ToHexStringLower(sha.GetHashAndReset());
    }

    /// <summary>Per meter register, the first and last sequence number that fed intervals starting in [from, to) (UTC ticks).</summary>
    public IReadOnlyList<ReadingRange> ReadingRanges(long fromUtcTicks, long toUtcTicks)
    {
        lock (_gate)
        {
            var ranges = new Dictionary<ChannelKey, (ulong First, ulong Last)>();
            foreach (var (start, bucket) in _buckets)
            {
                if (start < fromUtcTicks || start >= toUtcTicks)
                {
                    continue;
                }
                foreach (var (key, seq) in bucket.Sequences)
                {
                    ranges[key] = ranges.TryGetValue(key, out var r)
                        ? (Math.Min(r.First, seq.First), Math.Max(r.Last, seq.Last))
                        : seq;
                }
            }
            return [.. ranges.Select(kv => new ReadingRange(kv.Key.MeterId, kv.Key.Obis, kv.Value.First, kv.Value.Last))
                .OrderBy(r => r.MeterId, StringComparer.Ordinal).ThenBy(r => r.Obis, StringComparer.Ordinal)];
        }
    }

    /// <summary>Which flow an energy register feeds; null when the rules do not count it.</summary>
    internal static Flow? Classify(EnergySource source, string obis)
    {
        if (!TryParseObis(obis, out var a, out var c, out var d, out var e) || e != 0)
        {
            return null;
        }
        return source switch
        {
            EnergySource.GridImport or EnergySource.GridExport when a == 1 && d == 8 => c switch
            {
                1 => Flow.Import,
                2 => Flow.Export,
                _ => null,
            },
            EnergySource.Pv or EnergySource.Wind or EnergySource.Chp when a == 1 && c == 1 && d == 8 => Flow.Generation,
            EnergySource.Heat when a == 6 && c == 1 => Flow.Heat,
            _ => null,
        };
    }

    /// <summary>Parses <c>A-B:C.D.E</c> with an optional <c>*F</c>; values 0..255.</summary>
    internal static bool TryParseObis(string text, out int a, out int c, out int d, out int e)
    {
        a = c = d = e = 0;
        var span = text.AsSpan();
        var star = span.IndexOf('*');
        if (star >= 0)
        {
            if (!Byte(span[(star + 1)..], out _))
            {
                return false;
            }
            span = span[..star];
        }
        var dash = span.IndexOf('-');
        var colon = span.IndexOf(':');
        if (dash <= 0 || colon <= dash)
        {
            return false;
        }
        if (!Byte(span[..dash], out a) || !Byte(span[(dash + 1)..colon], out _))
        {
            return false;
        }
        var rest = span[(colon + 1)..];
        var dot1 = rest.IndexOf('.');
        if (dot1 <= 0)
        {
            return false;
        }
        var tail = rest[(dot1 + 1)..];
        var dot2 = tail.IndexOf('.');
        return dot2 > 0
            && Byte(rest[..dot1], out c)
            && Byte(tail[..dot2], out d)
            && Byte(tail[(dot2 + 1)..], out e);

        static bool Byte(ReadOnlySpan<char> s, out int value) =>
            int.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out value) && value <= 255;
    }

    private void Spread(ChannelKey key, Flow flow, bool clean, long fromTicks, long toTicks, decimal deltaWh, ulong fromSeq, ulong toSeq)
    {
        var span = toTicks - fromTicks;
        var remaining = deltaWh;
        var bucketStart = Floor(fromTicks);
        while (bucketStart < toTicks)
        {
            var bucketEnd = bucketStart + _intervalTicks;
            decimal share;
            if (bucketEnd >= toTicks)
            {
                // The last piece takes what is left, so the pieces always add up to the register difference exactly.
                share = remaining;
            }
            else
            {
                var overlap = bucketEnd - Math.Max(fromTicks, bucketStart);
                share = deltaWh * overlap / span;
                remaining -= share;
            }
            if (!_buckets.TryGetValue(bucketStart, out var bucket))
            {
                bucket = new Bucket();
                _buckets.Add(bucketStart, bucket);
            }
            bucket.Add(flow, clean, share);
            bucket.Track(key, fromSeq, toSeq);
            bucketStart = bucketEnd;
        }
    }

    private long Floor(long ticks)
    {
        var r = ticks % _intervalTicks;
        return r < 0 ? ticks - r - _intervalTicks : ticks - r;
    }

    private long CompleteBeforeTicks()
    {
        if (_latestTicks == long.MinValue)
        {
            return long.MinValue;
        }
        var end = _latestTicks;
        foreach (var state in _channels.Values)
        {
            if (state.Ticks >= _latestTicks - TimeSpan.TicksPerHour)
            {
                end = Math.Min(end, state.Ticks);
            }
        }
        return end;
    }

    private void Prune()
    {
        var oldest = _latestTicks - _retentionTicks;
        while (_buckets.Count > 0)
        {
            var first = _buckets.Keys.First();
            if (first >= oldest)
            {
                break;
            }
            _buckets.Remove(first);
        }
    }

    private static decimal Pow10(int n)
    {
        var v = 1m;
        for (var i = 0; i < n; i++)
        {
            v *= 10m;
        }
        return v;
    }

    /// <summary>What an energy register contributes to.</summary>
    internal enum Flow
    {
        /// <summary>Drawn from the grid.</summary>
        Import,
        /// <summary>Fed into the grid.</summary>
        Export,
        /// <summary>Generated on site.</summary>
        Generation,
        /// <summary>Heat consumed.</summary>
        Heat,
    }

    private readonly record struct ChannelKey(string MeterId, string Obis);

    private readonly record struct ChannelState(long Ticks, decimal ValueWh, ulong Sequence);

    private sealed class Bucket
    {
        internal decimal _import;
        internal decimal _export;
        internal decimal _generation;
        internal decimal _cleanGeneration;
        internal decimal _heat;
        internal decimal _cleanHeat;

        public Dictionary<ChannelKey, (ulong First, ulong Last)> Sequences { get; } = [];

        public void Add(Flow flow, bool clean, decimal wh)
        {
            switch (flow)
            {
                case Flow.Import:
                    _import += wh;
                    break;
                case Flow.Export:
                    _export += wh;
                    break;
                case Flow.Generation:
                    _generation += wh;
                    if (clean)
                    {
                        _cleanGeneration += wh;
                    }
                    break;
                case Flow.Heat:
                    _heat += wh;
                    if (clean)
                    {
                        _cleanHeat += wh;
                    }
                    break;
            }
        }

        public void Track(ChannelKey key, ulong fromSeq, ulong toSeq)
        {
            // Sequence 0 marks an unsigned value (tests, replays without records): nothing to list.
            if (fromSeq == 0 || toSeq == 0)
            {
                return;
            }
            var (lo, hi) = (Math.Min(fromSeq, toSeq), Math.Max(fromSeq, toSeq));
            Sequences[key] = Sequences.TryGetValue(key, out var r) ? (Math.Min(r.First, lo), Math.Max(r.Last, hi)) : (lo, hi);
        }

        public ConsumptionInterval ToInterval(DateTimeOffset start, int minutes)
        {
            var elec = Math.Max(0m, _import - _export + _generation);
            var cleanElec = Math.Min(elec, Math.Max(0m, _cleanGeneration - _export));
            return new ConsumptionInterval(start, minutes, elec / 1000m, cleanElec / 1000m, _heat / 1000m, _cleanHeat / 1000m);
        }
    }
}
