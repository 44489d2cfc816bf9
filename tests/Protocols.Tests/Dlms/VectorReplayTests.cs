using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using EdgeMeter.Protocols.Dlms;

namespace EdgeMeter.Protocols.Tests.Dlms;

/// <summary>
/// Our client replays each recorded session against the recorded server frames: it must write the recorded client
/// frames byte for byte (with the pinned invoke-id, conformance, max PDU, range bounds, challenge and IC) and decode
/// every server answer to the recorded <c>expected</c> values.
/// </summary>
public sealed partial class VectorReplayTests
{
    [Theory]
    [InlineData("01")]
    [InlineData("02")]
    [InlineData("03")]
    [InlineData("05")]
    [InlineData("06")]
    [InlineData("07")]
    [InlineData("08")]
    [InlineData("09")]
    [InlineData("10")]
    [InlineData("11")]
    public async Task Client_replays_the_recorded_session_byte_for_byte_and_decodes_every_value(string prefix)
    {
        var vector = DlmsVector.Load(prefix);
        var counters = vector.Root.TryGetProperty("keys", out JsonElement unused) ? RecordedCounters(vector) : null;
        var (client, channel) = vector.CreateClient(counters);
        await using var _ = client;
        int checkedValues = await RunAsync(vector, client);

        Assert.True(channel.Finished, $"{vector.Name}: the session ended before the recording did");
        Assert.Equal(vector.Exchanges.Count(e => e.FromClient), channel.ClientFramesMatched);
        Assert.True(checkedValues >= 2, $"{vector.Name}: only {checkedValues} values compared");
    }

    [Fact]
    public async Task Hls_session_refuses_a_server_counter_that_goes_backwards()
    {
        // The recorded AARE carries server IC 0; a client that has seen IC 5 from this server before must refuse it.
        var vector = DlmsVector.Load("05");
        await using var client = new DlmsClient(
            new DlmsWrapperTransport(new ScriptedChannel(vector), 1, 1, TimeSpan.FromSeconds(5)),
            HlsSettings(vector, vector.Key("block_cipher_key"), vector.Key("authentication_key")) with { LastServerInvocationCounter = 5 });

        var error = await Assert.ThrowsAsync<DlmsException>(() => client.ConnectAsync(CancellationToken.None));

        Assert.Equal("the server's invocation counter went from 5 to 0: a replay, refused", error.Message);
        Assert.Null(client.Association);
    }

    [Theory]
    [InlineData("block_cipher_key")]
    [InlineData("authentication_key")]
    public async Task Hls_session_with_a_wrong_key_is_refused_without_a_value(string wrong)
    {
        var vector = DlmsVector.Load("05");
        byte[] ek = vector.Key("block_cipher_key");
        byte[] ak = vector.Key("authentication_key");
        (wrong == "block_cipher_key" ? ek : ak)[0] ^= 0x01;

        // The recorded server answers whatever we send: our AARQ, ciphered under another key, differs from the recording.
        var channel = new ScriptedChannel(vector, checkClientFrames: false);
        await using var client = new DlmsClient(new DlmsWrapperTransport(channel, 1, 1, TimeSpan.FromSeconds(5)), HlsSettings(vector, ek, ak));

        var error = await Assert.ThrowsAsync<DlmsException>(() => client.ConnectAsync(CancellationToken.None));

        Assert.Equal("ciphered APDU failed authentication (wrong keys or altered bytes)", error.Message);
        Assert.Null(client.Association);
        var noValue = await Assert.ThrowsAsync<DlmsException>(() => client.GetAsync(new CosemAttribute(3, ObisCode.Parse("1.0.1.8.0.255"), 2), CancellationToken.None));
        Assert.Equal("replay://05-ln-wrapper-hls-gmac.json: not associated; connect first", noValue.Message);
    }

    private static DlmsClientSettings HlsSettings(DlmsVector vector, byte[] ek, byte[] ak) => new()
    {
        ClientAddress = 1,
        Authentication = DlmsAuthentication.HlsGmac,
        BlockCipherKey = ek,
        AuthenticationKey = ak,
        ClientSystemTitle = vector.Key("client_system_title"),
        ChallengeFactory = () => vector.Key("ctos_challenge"),
        InvocationCounters = RecordedCounters(vector),
    };

    /// <summary>The client ICs of the recording: every ciphered APDU's and the one inside f(StoC).</summary>
    private static ScriptedCounter RecordedCounters(DlmsVector vector)
    {
        var keys = vector.Root.GetProperty("keys");
        var seen = keys.GetProperty("invocation_counters_seen").GetProperty("client->server").EnumerateArray().Select(e => e.GetUInt32());
        uint hls = keys.GetProperty("hls_pass").GetProperty("client").GetProperty("ic").GetUInt32();
        return new ScriptedCounter([.. seen.Append(hls).Order()]);
    }

    [Fact]
    public async Task Wrong_password_is_refused_with_authentication_failure()
    {
        var vector = DlmsVector.Load("04");
        var (client, channel) = vector.CreateClient();
        await using var _ = client;

        var error = await Assert.ThrowsAsync<DlmsAssociationException>(() => client.ConnectAsync(CancellationToken.None));

        var association = vector.Expected.GetProperty("association");
        Assert.Equal(CodeIn(association.GetProperty("result").GetString()!), (int)error.Result);
        Assert.Equal(CodeIn(association.GetProperty("result_source_diagnostic").GetString()!), error.Diagnostic);
        Assert.Equal("association refused: rejected-permanent, acse-service-user authentication-failure", error.Message);
        Assert.Null(client.Association);
        Assert.True(channel.Finished);
    }

    private static async Task<int> RunAsync(DlmsVector vector, DlmsClient client)
    {
        var ct = CancellationToken.None;
        var expected = vector.Expected;
        var association = await client.ConnectAsync(ct);
        var expectedAssociation = expected.GetProperty("association");
        Assert.Equal(Convert.ToUInt32(expectedAssociation.GetProperty("negotiated_conformance").GetString()!, 16), association.NegotiatedConformance);
        Assert.Equal(expectedAssociation.GetProperty("server_max_receive_pdu").GetInt32(), association.ServerMaxReceivePduSize);
        int compared = 2;
        var pendingValues = new Dictionary<ObisCode, DlmsValue>();

        foreach (var (fromClient, _, rawMeaning) in vector.Exchanges)
        {
            if (!fromClient)
            {
                continue;
            }

            string meaning = rawMeaning;
            var segment = SegmentLabel().Match(meaning);
            if (segment.Success)
            {
                if (segment.Groups[1].Value != "1")
                {
                    continue;
                }

                meaning = segment.Groups[2].Value;
            }

            var ciphered = CipheredLabel().Match(meaning);
            if (ciphered.Success)
            {
                meaning = ciphered.Groups[1].Value;
            }

            if (meaning.StartsWith("SNRM", StringComparison.Ordinal) || meaning.StartsWith("AARQ", StringComparison.Ordinal) ||
                meaning.StartsWith("RR", StringComparison.Ordinal) || meaning.StartsWith("GET.request-next", StringComparison.Ordinal) ||
                meaning.StartsWith("glo-action-request", StringComparison.Ordinal) || meaning.StartsWith("ACTION", StringComparison.Ordinal))
            {
                continue;
            }

            if (meaning.StartsWith("RLRQ", StringComparison.Ordinal))
            {
                await client.ReleaseAsync(ct);
                continue;
            }

            if (meaning.StartsWith("DISC", StringComparison.Ordinal))
            {
                await client.CloseAsync(ct);
                continue;
            }

            var get = GetLabel().Match(meaning);
            Assert.True(get.Success, $"{vector.Name}: unhandled client frame '{rawMeaning}'");
            string kind = get.Groups[1].Value;
            var obis = ObisCode.Parse(get.Groups[2].Value);
            sbyte attribute = sbyte.Parse(get.Groups[3].Value, CultureInfo.InvariantCulture);
            var want = expected.GetProperty(obis.ToString());

            if (kind == "Clock")
            {
                var time = await client.ReadClockAsync(ct);
                compared += CompareClock(want, time);
            }
            else if (kind == "Register" && want.TryGetProperty($"attribute_{attribute}", out var error))
            {
                var refused = await Assert.ThrowsAsync<DlmsDataAccessException>(() => client.GetAsync(new CosemAttribute(3, obis, attribute), ct));
                Assert.Equal(error.GetProperty("data_access_result").GetInt32(), (int)refused.Result);
                Assert.Contains("data-access-result " + error.GetProperty("name").GetString(), refused.Message, StringComparison.Ordinal);
                compared++;
            }
            else if (kind == "Register" && attribute == 2)
            {
                var value = await client.GetAsync(new CosemAttribute(3, obis, 2), ct);
                Assert.Equal(want.GetProperty("type").GetString(), DlmsValue.Name(value.Type));
                Assert.Equal(want.GetProperty("raw").GetInt64(), value.ToInt64());
                pendingValues[obis] = value;
                compared++;
            }
            else if (kind == "Register" && attribute == 3)
            {
                var scalerUnit = await client.GetAsync(new CosemAttribute(3, obis, 3), ct);
                var quantity = DlmsClient.ToQuantity(pendingValues[obis], scalerUnit);
                Assert.Equal(want.GetProperty("scaler").GetInt32(), quantity.Scaler);
                Assert.Equal(CodeIn(want.GetProperty("unit").GetString()!), (int)quantity.Unit);
                Assert.Equal(want.GetProperty("physical").GetDecimal(), quantity.Value);
                Assert.Equal(want.GetProperty("physical_text").GetString(), quantity.ToString());
                compared += 3;
            }
            else if (kind == "Profile generic")
            {
                compared += await CompareProfileAsync(client, obis, attribute, meaning, want);
            }
            else
            {
                Assert.Fail($"{vector.Name}: unhandled client frame '{rawMeaning}'");
            }
        }

        return compared;
    }

    private static int CompareClock(JsonElement want, CosemDateTime time)
    {
        Assert.Equal(want.GetProperty("raw_hex").GetString(), Convert.ToHexString(time.Encode()));
        var decoded = want.GetProperty("decoded");
        Assert.Equal(decoded.GetProperty("year").GetInt32(), time.Year);
        Assert.Equal(decoded.GetProperty("month").GetInt32(), time.Month);
        Assert.Equal(decoded.GetProperty("day").GetInt32(), time.Day);
        Assert.Equal(decoded.GetProperty("day_of_week").GetInt32(), time.DayOfWeek);
        Assert.Equal(decoded.GetProperty("hour").GetInt32(), time.Hour);
        Assert.Equal(decoded.GetProperty("minute").GetInt32(), time.Minute);
        Assert.Equal(decoded.GetProperty("second").GetInt32(), time.Second);
        Assert.Equal(decoded.GetProperty("hundredths").GetInt32(), time.Hundredths);
        Assert.Equal(decoded.GetProperty("deviation").GetInt32(), time.Deviation);
        Assert.Equal(Convert.ToByte(decoded.GetProperty("clock_status").GetString()!, 16), time.ClockStatus);
        string text = decoded.GetProperty("text").GetString()!;
        Assert.Equal(DateTimeOffset.Parse(text[..19] + "Z", CultureInfo.InvariantCulture), time.ToDateTimeOffset());
        return 10;
    }

    private static async Task<int> CompareProfileAsync(DlmsClient client, ObisCode profile, sbyte attribute, string meaning, JsonElement want)
    {
        var ct = CancellationToken.None;
        switch (attribute)
        {
            case 3:
                {
                    var objects = await client.ReadCaptureObjectsAsync(profile, ct);
                    var expected = want.GetProperty("capture_objects").EnumerateArray().Select(o => new CaptureObject(
                        (ushort)o.GetProperty("class_id").GetInt32(), ObisCode.Parse(o.GetProperty("logical_name").GetString()!),
                        (sbyte)o.GetProperty("attribute_index").GetInt32(), (ushort)o.GetProperty("data_index").GetInt32())).ToArray();
                    Assert.Equal(expected, objects);
                    return expected.Length;
                }

            case 4:
                Assert.Equal(want.GetProperty("capture_period_s").GetUInt32(), await client.ReadCapturePeriodAsync(profile, ct));
                return 1;
            case 7:
                Assert.Equal(want.GetProperty("entries_in_use").GetUInt32(), await client.ReadEntriesInUseAsync(profile, ct));
                return 1;
            case 2 when meaning.EndsWith("by entry", StringComparison.Ordinal):
                {
                    var buffer = want.GetProperty("buffer_by_entry");
                    var selection = buffer.GetProperty("access_selection");
                    var rows = await client.ReadProfileByEntryAsync(profile, selection.GetProperty("from_entry").GetUInt32(), selection.GetProperty("to_entry").GetUInt32(), ct);
                    return CompareRows(buffer, rows);
                }

            case 2 when meaning.EndsWith("by range", StringComparison.Ordinal):
                {
                    var buffer = want.GetProperty("buffer_by_range");
                    var selection = buffer.GetProperty("access_selection");
                    var from = CosemDateTime.Decode(Convert.FromHexString(selection.GetProperty("from_value_hex").GetString()!));
                    var to = CosemDateTime.Decode(Convert.FromHexString(selection.GetProperty("to_value_hex").GetString()!));

                    // The recorded bounds are what our own encoder makes of the instants the user types.
                    Assert.Equal(from, CosemDateTime.FromUtc(from.ToDateTimeOffset()!.Value));
                    Assert.Equal(to, CosemDateTime.FromUtc(to.ToDateTimeOffset()!.Value));
                    var rows = await client.ReadProfileByRangeAsync(profile, from, to, ct);
                    return CompareRows(buffer, rows);
                }

            default:
                Assert.Fail($"unhandled profile request '{meaning}'");
                return 0;
        }
    }

    private static int CompareRows(JsonElement buffer, IReadOnlyList<ProfileRow> rows)
    {
        var expected = buffer.GetProperty("rows").EnumerateArray().ToArray();
        Assert.Equal(buffer.GetProperty("row_count").GetInt32(), rows.Count);
        Assert.Equal(expected.Length, rows.Count);
        for (int i = 0; i < rows.Count; i++)
        {
            string stamp = expected[i][0].GetString()!;
            var time = CosemDateTime.From(rows[i].Values[0]);
            Assert.Equal(DateTimeOffset.Parse(stamp[..19] + "Z", CultureInfo.InvariantCulture), time.ToDateTimeOffset());
            Assert.Equal(stamp.Contains("deviation not specified", StringComparison.Ordinal), !time.HasDeviation);
            Assert.Equal(expected[i][1].GetInt64(), rows[i].Values[1].ToInt64());
        }

        return rows.Count * 2;
    }

    internal static int CodeIn(string label) => int.Parse(CodeLabel().Match(label).Groups[1].Value, CultureInfo.InvariantCulture);

    [GeneratedRegex(@"^I-frame segment (\d+)/\d+ of: (.*)$")]
    private static partial Regex SegmentLabel();

    [GeneratedRegex(@"^glo-get-request \[ciphered (.*)\]$")]
    private static partial Regex CipheredLabel();

    [GeneratedRegex(@"^GET\.request (Clock|Register|Profile generic) ([\d.]+) attr (\d+)")]
    private static partial Regex GetLabel();

    [GeneratedRegex(@"\((\d+)\)")]
    private static partial Regex CodeLabel();
}

/// <summary>Hands out a recorded, increasing sequence of invocation counters.</summary>
internal sealed class ScriptedCounter(uint[] values) : IInvocationCounterStore
{
    private int _index;

    public uint Next() => _index < values.Length ? values[_index++] : throw new InvalidOperationException("no more scripted counters");
}
