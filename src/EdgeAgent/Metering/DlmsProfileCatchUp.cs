using EdgeMeter.Agent.Configuration;
using EdgeMeter.Agent.Storage;
using EdgeMeter.Protocols.Dlms;

namespace EdgeMeter.Agent.Metering;

/// <summary>A register value read back from a meter's load profile: what the meter captured, at the meter's time.</summary>
internal sealed record ReadBackValue(string Quantity, string Obis, long Mantissa, sbyte Scaler, string Unit, DateTimeOffset MeterTime);

/// <summary>
/// Reads the rows a DLMS meter captured in its load profile since the last row the gateway signed: at the first
/// poll after start and then once a day. Each captured register that the meter records becomes a value with the
/// meter's own timestamp, which the poller signs as read back from the meter's memory; so an outage of the gateway
/// leaves no hole in the energy series as long as the meter's buffer reaches back that far.
/// </summary>
/// <remarks>
/// Where the last signed row is kept: <see cref="DlmsProfileMark"/> (<c>dlms-ID.profile</c>), written after the commit
/// that holds the rows. A power cut between the two is covered by the store itself: at start the mark is the later
/// of the file and the newest read-back row of this meter in the store's last block, which is the block that commit
/// wrote. So a row is signed once. The very first start reads nothing back: it only marks its time, so the series
/// begins when the gateway was installed (history from before then could fill a month the gateway never claimed).
/// </remarks>
internal sealed class DlmsProfileCatchUp(MeterChannel channel, ObisCode profile, DlmsProfileMark mark, TimeProvider time)
{
    /// <summary>How often the profile is read while the gateway runs.</summary>
    public static readonly TimeSpan Period = TimeSpan.FromDays(1);

    /// <summary>After a failed read-back, the next try (the live readings go on meanwhile).</summary>
    public static readonly TimeSpan RetryAfterFailure = TimeSpan.FromHours(1);

    private long? _nextDueTicks;

    /// <summary>The capture time of the newest row handed to the poller (signed or about to be).</summary>
    public DateTimeOffset? Through { get; private set; } = mark.Through;

    public ObisCode Profile => profile;

    /// <summary>Whether a read-back is due now: at the first poll, then every <see cref="Period"/>.</summary>
    public bool Due => _nextDueTicks is not { } due || time.GetTimestamp() >= due;

    /// <summary>
    /// Reads the rows captured after <see cref="Through"/> up to now, and returns the recorded registers of each row,
    /// oldest first. Without a mark (the meter's first start) it only checks the profile and marks now.
    /// </summary>
    /// <param name="client">An open association with the meter.</param>
    /// <param name="scalerOf">The scaler and unit of a register (attribute 3), cached by the caller per association.</param>
    /// <param name="ct">Cancels the reads.</param>
    public async Task<IReadOnlyList<ReadBackValue>> ReadAsync(DlmsClient client, Func<ObisCode, CancellationToken, Task<(sbyte Scaler, DlmsUnit Unit)>> scalerOf, CancellationToken ct)
    {
        var now = time.GetUtcNow();
        var columns = await client.ReadCaptureObjectsAsync(profile, ct).ConfigureAwait(false);
        int clockColumn = -1;
        var wanted = new List<(int Column, string Quantity, ObisCode Obis)>();
        for (int i = 0; i < columns.Count; i++)
        {
            var c = columns[i];
            if (c.ClassId == 8 && c.AttributeIndex == 2 && clockColumn < 0)
                clockColumn = i;
            else if (c.ClassId is 3 or 4 && c.AttributeIndex == 2 && QuantityOf(c.LogicalName) is { } quantity)
                wanted.Add((i, quantity, c.LogicalName));
        }
        if (clockColumn < 0)
            throw new DlmsException($"load profile {profile}: no clock among its capture objects");
        if (Through is not { } from)
        {
            mark.Save(now);
            Through = now;
            _nextDueTicks = time.GetTimestamp() + (long)(Period.TotalSeconds * time.TimestampFrequency);
            LastError = null;
            return [];
        }

        var values = new List<ReadBackValue>();
        if (wanted.Count > 0)
        {
            var rows = await client.ReadProfileByRangeAsync(profile, CosemDateTime.FromUtc(from), CosemDateTime.FromUtc(now), ct,
                columns[clockColumn].LogicalName).ConfigureAwait(false);
            var scalers = new (sbyte Scaler, DlmsUnit Unit)[wanted.Count];
            for (int w = 0; w < wanted.Count; w++)
                scalers[w] = await scalerOf(wanted[w].Obis, ct).ConfigureAwait(false);
            var newest = Through;
            foreach (var row in rows)
            {
                if (row.Values.Count != columns.Count)
                    throw new DlmsException($"load profile {profile}: a row has {row.Values.Count} values for {columns.Count} capture objects");
                // A row without a valid time cannot be placed; the range is inclusive, so the last signed row comes again.
                if (CosemDateTime.From(row.Values[clockColumn]).ToDateTimeOffset() is not { } at || (Through is { } t && at <= t) || at > now)
                    continue;
                for (int w = 0; w < wanted.Count; w++)
                {
                    var v = row.Values[wanted[w].Column];
                    if (v.Type == DlmsDataType.NullData || !v.IsInteger)
                        continue;
                    values.Add(new ReadBackValue(wanted[w].Quantity, wanted[w].Obis.ToReducedId(), v.ToInt64(), scalers[w].Scaler,
                        DlmsUnits.Symbol(scalers[w].Unit), at));
                }
                if (newest is null || at > newest)
                    newest = at;
            }
            Through = newest;
        }

        LastError = null;
        _nextDueTicks = time.GetTimestamp() + (long)(Period.TotalSeconds * time.TimestampFrequency);
        return values;
    }

    /// <summary>
    /// The meter refused the read-back (no such profile, access denied): the live readings go on, the read-back is
    /// tried again after <see cref="RetryAfterFailure"/>. So is a read-back the link dropped in (a timeout): a profile too
    /// slow to read must not keep the live readings away.
    /// </summary>
    public void Failed(string reason)
    {
        LastError = reason;
        _nextDueTicks = time.GetTimestamp() + (long)(RetryAfterFailure.TotalSeconds * time.TimestampFrequency);
    }

    /// <summary>Why the last read-back failed; null after one succeeded.</summary>
    public string? LastError { get; private set; }

    /// <summary>The poller stored read-back rows of this meter up to <paramref name="meterTime"/>: the mark moves on disk.</summary>
    public void Stored(DateTimeOffset meterTime)
    {
        if (mark.Through is not { } on || meterTime > on)
            mark.Save(meterTime);
    }

    private string? QuantityOf(ObisCode obis)
    {
        foreach (var quantity in channel.Recorded)
        {
            if (ObisCode.TryParse(DlmsQuantities.ObisOf(channel.Options, quantity), out var code) && code == obis)
                return quantity;
        }
        return null;
    }
}
