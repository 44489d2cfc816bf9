using System.Text;
using System.Text.Json;
using EdgeMeter.Crypto.Keys;
using EdgeMeter.Crypto.Records;
using EdgeMeter.Crypto.Signing;
using EdgeMeter.Crypto.Tests.Signing;

namespace EdgeMeter.Crypto.Tests.Records;

public class ReadingJsonTests
{
    [Fact]
    public void Writes_message_fields_with_wide_integers_as_strings()
    {
        var record = TestRecords.Reading("0x" + new string('A', 40), 42, new byte[32], value: -7);
        using var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream))
            ReadingJson.WriteMessage(writer, record);
        Assert.Equal(
            "{\"device\":\"0x" + new string('a', 40) + "\",\"seq\":\"42\",\"meterId\":\"EM-3PH-0042\",\"obis\":\"1-0:1.8.0*255\",\"value\":\"-7\",\"scaler\":-3," +
            "\"unit\":\"Wh\",\"source\":2,\"clean\":true,\"gatewayTime\":\"1767225642000\",\"meterTime\":\"1767225641250\",\"timeStatus\":2,\"origin\":0,\"prev\":\"0x" + new string('0', 64) + "\"}",
            Encoding.UTF8.GetString(stream.ToArray()));
    }

    [Fact]
    public void Export_line_round_trips_with_the_same_digest_and_signature()
    {
        using var key = FileDeviceKey.FromSecret(TestRecords.Secret(0x44));
        var domain = Eip712Domain.ForReadings(31337);
        var signed = new RecordSigner(key, domain).Sign(TestRecords.Reading(key.Address, 9, Enumerable.Range(0, 32).Select(i => (byte)i).ToArray()));

        using var doc = JsonDocument.Parse(Eip712Tests.ExportLine(signed, domain));
        var (read, readDomain, signer) = ReadingJson.ReadExport(doc.RootElement);

        Assert.Equal(domain, readDomain);
        Assert.Equal(key.Address, signer);
        Assert.Equal(signed.Digest.ToArray(), read.Digest.ToArray());
        Assert.Equal(signed.Signature.ToArray(), read.Signature.ToArray());
        Assert.Equal(signed.Record with { PrevHash = default }, read.Record with { PrevHash = default });
        Assert.Equal(signed.Record.PrevHash.ToArray(), read.Record.PrevHash.ToArray());
    }

    [Theory]
    [InlineData("\"seq\":\"9\"", "\"seq\":\"-9\"", "seq")]
    [InlineData("\"scaler\":-3", "\"scaler\":300", "scaler")]
    [InlineData("\"clean\":true", "\"clean\":1", "clean")]
    [InlineData("\"primaryType\":\"Reading\"", "\"primaryType\":\"Mail\"", "primaryType")]
    public void Names_the_field_that_cannot_be_read(string original, string replacement, string field)
    {
        using var key = FileDeviceKey.FromSecret(TestRecords.Secret(0x45));
        var domain = Eip712Domain.ForReadings(1);
        var line = Eip712Tests.ExportLine(new RecordSigner(key, domain).Sign(TestRecords.Reading(key.Address, 9, new byte[32])), domain);
        Assert.Contains(original, line, StringComparison.Ordinal);
        using var doc = JsonDocument.Parse(line.Replace(original, replacement, StringComparison.Ordinal));
        var e = Assert.Throws<FormatException>(() => ReadingJson.ReadExport(doc.RootElement));
        Assert.StartsWith(field, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Gap_export_line_round_trips_with_the_same_digest_and_signature()
    {
        using var key = FileDeviceKey.FromSecret(TestRecords.Secret(0x45));
        var domain = Eip712Domain.ForReadings(31337);
        var signed = new RecordSigner(key, domain).Sign(TestRecords.Gap(key.Address, 81, 100, Enumerable.Range(0, 32).Select(i => (byte)i).ToArray(), GapReason.StoreLost));
        var line = Eip712Tests.ExportLine(signed, domain);
        Assert.Contains("\"primaryType\":\"Gap\"", line, StringComparison.Ordinal);
        Assert.Contains("\"message\":{\"device\":\"" + key.Address + "\",\"seq\":\"101\",\"fromSeq\":\"81\",\"toSeq\":\"100\",\"reason\":2,", line, StringComparison.Ordinal);

        using var doc = JsonDocument.Parse(line);
        var (read, _, signer) = ReadingJson.ReadExport(doc.RootElement);
        Assert.Equal(signed.Record.PrevHash.ToArray(), read.Record.PrevHash.ToArray());
        Assert.Equal(signed.Record, read.Record with { PrevHash = signed.Record.PrevHash });
        Assert.Equal(key.Address, signer);
        Assert.Equal(signed.Digest.ToArray(), read.Digest.ToArray());
    }

    [Fact]
    public void Meter_memory_origin_round_trips_and_an_export_without_origin_is_refused()
    {
        using var key = FileDeviceKey.FromSecret(TestRecords.Secret(0x46));
        var domain = Eip712Domain.ForReadings(1);
        var record = TestRecords.Reading(key.Address, 3, new byte[32]) with { Origin = RecordOrigin.MeterMemory };
        var line = Eip712Tests.ExportLine(new RecordSigner(key, domain).Sign(record), domain);
        Assert.Contains("\"timeStatus\":2,\"origin\":1,\"prev\"", line, StringComparison.Ordinal);
        using (var doc = JsonDocument.Parse(line))
            Assert.Equal(RecordOrigin.MeterMemory, ((ReadingRecord)ReadingJson.ReadExport(doc.RootElement).Reading.Record).Origin);

        // A message stored before the field existed reads as live; an export line for ethers must carry it.
        var withoutOrigin = line.Replace("\"origin\":1,", "", StringComparison.Ordinal);
        using (var doc = JsonDocument.Parse(withoutOrigin))
        {
            Assert.Equal(RecordOrigin.Live, ReadingJson.ReadMessage(doc.RootElement.GetProperty("message")).Origin);
            Assert.Contains("origin", Assert.Throws<FormatException>(() => ReadingJson.ReadExport(doc.RootElement)).Message, StringComparison.Ordinal);
        }
    }
}
