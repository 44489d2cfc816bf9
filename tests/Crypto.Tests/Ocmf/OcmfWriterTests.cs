using System.Text.Json;
using EdgeMeter.Crypto.Keys;
using EdgeMeter.Crypto.Ocmf;
using EdgeMeter.Crypto.Records;
using EdgeMeter.Crypto.Signing;

namespace EdgeMeter.Crypto.Tests.Ocmf;

public class OcmfWriterTests
{
    private static readonly OcmfContext Context = new("0x" + new string('a', 40), "GW-0001", "0.1.0");

    [Fact]
    public void Public_key_is_written_with_the_named_curve_as_rfc_5480_requires()
    {
        var key = OcmfKey.FromSecret(TestRecords.Secret(0x21));
        var q = key.PublicKey.Q.Normalize();

        // SEQUENCE { SEQUENCE { id-ecPublicKey, secp256r1 }, BIT STRING 04 || X || Y }: no explicit curve parameters.
        Assert.Equal(
            "3059301306072a8648ce3d020106082a8648ce3d030107034200" + "04"
            + Convert.ToHexStringLower(q.AffineXCoord.GetEncoded()) + Convert.ToHexStringLower(q.AffineYCoord.GetEncoded()),
            key.PublicKeyDerHex);
    }

    [Fact]
    public void The_public_key_der_is_what_the_platform_reads_and_writes_and_a_point_off_the_curve_is_refused()
    {
        var key = OcmfKey.FromSecret(TestRecords.Secret(0x21));
        using var platform = System.Security.Cryptography.ECDsa.Create();
        platform.ImportSubjectPublicKeyInfo(Convert.FromHexString(key.PublicKeyDerHex), out int read);
        var p = platform.ExportParameters(false);
        var q = key.PublicKey.Q.Normalize();
        Assert.Equal(91, read);
        Assert.Equal("1.2.840.10045.3.1.7", p.Curve.Oid.Value);
        Assert.Equal(q.AffineXCoord.GetEncoded(), p.Q.X);
        Assert.Equal(q.AffineYCoord.GetEncoded(), p.Q.Y);

        using var other = System.Security.Cryptography.ECDsa.Create(System.Security.Cryptography.ECCurve.NamedCurves.nistP256);
        var otherDer = Convert.ToHexStringLower(other.ExportSubjectPublicKeyInfo());
        Assert.True(OcmfKey.TryParsePublicKey(otherDer, out var parsed));
        Assert.Equal(other.ExportParameters(false).Q.X, parsed!.Q.Normalize().AffineXCoord.GetEncoded());

        var offCurve = Convert.FromHexString(key.PublicKeyDerHex);
        offCurve[^1] ^= 1;
        Assert.False(OcmfKey.TryParsePublicKey(Convert.ToHexStringLower(offCurve), out _));
        using var p384 = System.Security.Cryptography.ECDsa.Create(System.Security.Cryptography.ECCurve.NamedCurves.nistP384);
        Assert.False(OcmfKey.TryParsePublicKey(Convert.ToHexStringLower(p384.ExportSubjectPublicKeyInfo()), out _));
    }

    [Fact]
    public void Formats_a_signed_ocmf_record_that_verifies_and_fails_when_altered()
    {
        var key = OcmfKey.FromSecret(TestRecords.Secret(0x21));
        var record = TestRecords.Reading(Context.GatewayId, 17, new byte[32], value: 123_456_789);
        string ocmf = OcmfWriter.Format(record, Context, key);

        Assert.StartsWith("OCMF|{", ocmf, StringComparison.Ordinal);
        Assert.Contains("|{\"SA\":\"ECDSA-secp256r1-SHA256\",\"SD\":\"30", ocmf, StringComparison.Ordinal);
        Assert.True(OcmfWriter.Verify(ocmf, key.PublicKey));
        Assert.False(OcmfWriter.Verify(ocmf.Replace("123456.789", "123456.788", StringComparison.Ordinal), key.PublicKey));
        Assert.False(OcmfWriter.Verify(ocmf, OcmfKey.FromSecret(TestRecords.Secret(0x22)).PublicKey));
    }

    [Fact]
    public void Payload_carries_value_unit_obis_pagination_and_time_status()
    {
        var record = TestRecords.Reading(Context.GatewayId, 17, new byte[32], value: -1_234) with { TimeStatus = TimeStatus.Unsynchronised, GatewayTimeMs = 1_532_438_524_000 };
        using var doc = JsonDocument.Parse(OcmfWriter.Payload(record, Context));
        var root = doc.RootElement;
        Assert.Equal("F17", root.GetProperty("PG").GetString());
        Assert.Equal("EM-3PH-0042", root.GetProperty("MS").GetString());
        var reading = root.GetProperty("RD")[0];
        Assert.Equal("-1.234", reading.GetProperty("RV").GetRawText());
        Assert.Equal("Wh", reading.GetProperty("RU").GetString());
        Assert.Equal("1-0:1.8.0", reading.GetProperty("RI").GetString());
        Assert.Equal("2018-07-24T13:22:04,000+0000 U", reading.GetProperty("TM").GetString());
    }

    [Fact]
    public void A_reading_from_the_meters_memory_is_timed_by_the_meters_clock_as_informative()
    {
        var live = TestRecords.Reading(Context.GatewayId, 17, new byte[32]) with { GatewayTimeMs = 1_532_438_524_000, MeterTimeMs = 1_532_430_000_000 };
        using var liveDoc = JsonDocument.Parse(OcmfWriter.Payload(live, Context));
        Assert.Equal("2018-07-24T13:22:04,000+0000 S", liveDoc.RootElement.GetProperty("RD")[0].GetProperty("TM").GetString());

        using var doc = JsonDocument.Parse(OcmfWriter.Payload(live with { Origin = RecordOrigin.MeterMemory }, Context));
        Assert.Equal("2018-07-24T11:00:00,000+0000 I", doc.RootElement.GetProperty("RD")[0].GetProperty("TM").GetString());
    }

    [Fact]
    public void Old_key_signs_the_rotation_to_the_new_address()
    {
        using var oldKey = FileDeviceKey.FromSecret(TestRecords.Secret(0x31));
        using var newKey = FileDeviceKey.FromSecret(TestRecords.Secret(0x32));
        var domain = Eip712Domain.ForReadings(1);
        var statement = KeyRotation.Create(oldKey, newKey, domain, 1_767_225_600_000, 4711);

        Assert.Equal((oldKey.Address, newKey.Address), (statement.Previous, statement.Next));
        Assert.True(KeyRotation.Verify(statement, domain));
        Assert.False(KeyRotation.Verify(statement with { Next = oldKey.Address }, domain));
        Assert.False(KeyRotation.Verify(statement with { LastSequence = 4712 }, domain));
    }
}
