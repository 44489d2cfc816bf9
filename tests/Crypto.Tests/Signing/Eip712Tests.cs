using System.Text;
using System.Text.Json;
using EdgeMeter.Crypto.Hashing;
using EdgeMeter.Crypto.Keys;
using EdgeMeter.Crypto.Records;
using EdgeMeter.Crypto.Signing;

namespace EdgeMeter.Crypto.Tests.Signing;

public class Eip712Tests
{
    // The example of EIP-712 itself ("Ether Mail"), with its published digest and signature by keccak256("cow").
    private const string MailExample = """
        {
          "types": {
            "EIP712Domain": [
              { "name": "name", "type": "string" }, { "name": "version", "type": "string" },
              { "name": "chainId", "type": "uint256" }, { "name": "verifyingContract", "type": "address" }
            ],
            "Person": [ { "name": "name", "type": "string" }, { "name": "wallet", "type": "address" } ],
            "Mail": [ { "name": "from", "type": "Person" }, { "name": "to", "type": "Person" }, { "name": "contents", "type": "string" } ]
          },
          "primaryType": "Mail",
          "domain": { "name": "Ether Mail", "version": "1", "chainId": 1, "verifyingContract": "0xCcCCccccCCCCcCCCCCCcCcCccCcCCCcCcccccccC" },
          "message": {
            "from": { "name": "Cow", "wallet": "0xCD2a3d9F938E13CD947Ec05AbC7FE734Df8DD826" },
            "to": { "name": "Bob", "wallet": "0xbBbBBBBbbBBBbbbBbbBbbbbBBbBbbbbBbBbbBBbB" },
            "contents": "Hello, Bob!"
          }
        }
        """;

    [Fact]
    public void Encodes_the_mail_example_of_the_eip()
    {
        using var doc = JsonDocument.Parse(MailExample);
        var types = doc.RootElement.GetProperty("types");
        Assert.Equal("Mail(Person from,Person to,string contents)Person(string name,address wallet)", Eip712.EncodeType("Mail", types));

        var domainHash = new byte[32];
        Eip712.HashStruct("EIP712Domain", types, doc.RootElement.GetProperty("domain"), domainHash);
        Assert.Equal("f2cee375fa42b42143804025fc449deafd50cc031ca257e0b194a650a912090f", Convert.ToHexStringLower(domainHash));

        var digest = new byte[32];
        Eip712.HashTypedData(doc.RootElement, digest);
        Assert.Equal("be609aee343fb3c4b28e1df9e632fca64fcfaede20f02e86244efddf30957bd2", Convert.ToHexStringLower(digest));
    }

    [Fact]
    public void Signs_the_mail_example_as_the_eip_publishes_it()
    {
        using var doc = JsonDocument.Parse(MailExample);
        var digest = new byte[32];
        Eip712.HashTypedData(doc.RootElement, digest);
        using var cow = FileDeviceKey.FromSecret(Keccak256.Hash(Encoding.ASCII.GetBytes("cow")));
        Assert.Equal("0xcd2a3d9f938e13cd947ec05abc7fe734df8dd826", cow.Address);

        var signature = new byte[65];
        cow.SignDigest(digest, signature);
        Assert.Equal("4355c47d63924e8a72e509b65029052eb6c299d53a04e167c5775fd466751c9d", Convert.ToHexStringLower(signature.AsSpan(0, 32)));
        Assert.Equal("07299936d304c153f6443dfa05f40ff007d72911b6f72307f996231605b91562", Convert.ToHexStringLower(signature.AsSpan(32, 32)));
        Assert.Equal(28, signature[64]);
    }

    [Fact]
    public void Reading_digest_equals_the_general_encoder_over_the_export_json()
    {
        using var key = FileDeviceKey.FromSecret(TestRecords.Secret(0x11));
        var domain = Eip712Domain.ForReadings(100);
        var prev = Keccak256.Hash("previous"u8);
        var records = new[]
        {
            TestRecords.Reading(key.Address, 7, prev),
            TestRecords.Reading(key.Address, ulong.MaxValue, new byte[32], value: long.MinValue) with { Scaler = sbyte.MinValue, MeterTimeMs = -5, MeterId = "Zähler ✓", Source = EnergySource.Other, Clean = false, TimeStatus = TimeStatus.Relative },
            TestRecords.Reading(key.Address, 1, new byte[32], value: long.MaxValue) with { Scaler = sbyte.MaxValue, GatewayTimeMs = long.MaxValue, MeterTimeMs = 0, Unit = "" },
            TestRecords.Reading(key.Address, 8, prev) with { Origin = RecordOrigin.MeterMemory, MeterTimeMs = 1_767_220_000_000 },
        };
        foreach (var record in records)
        {
            var signed = new RecordSigner(key, domain).Sign(record);
            using var doc = JsonDocument.Parse(ExportLine(signed, domain));
            var general = new byte[32];
            Eip712.HashTypedData(doc.RootElement, general);
            Assert.Equal(signed.Digest.ToArray(), general);
        }
    }

    [Fact]
    public void Digest_depends_on_every_field_and_on_the_domain()
    {
        var device = "0x" + new string('a', 40);
        var baseRecord = TestRecords.Reading(device, 5, new byte[32]);
        var variants = new[]
        {
            baseRecord with { Device = "0x" + new string('b', 40) }, baseRecord with { Sequence = 6 }, baseRecord with { MeterId = "x" },
            baseRecord with { Obis = "1-0:2.8.0*255" }, baseRecord with { Value = 1 }, baseRecord with { Scaler = 0 },
            baseRecord with { Unit = "W" }, baseRecord with { Source = EnergySource.Wind }, baseRecord with { Clean = false },
            baseRecord with { GatewayTimeMs = 1 }, baseRecord with { MeterTimeMs = 1 }, baseRecord with { TimeStatus = TimeStatus.Informative },
            baseRecord with { PrevHash = Enumerable.Repeat((byte)1, 32).ToArray() }, baseRecord with { Origin = RecordOrigin.MeterMemory },
        };
        var digests = new HashSet<string>();
        var buffer = new byte[32];
        ReadingTypedData.Digest(Eip712Domain.ForReadings(1), baseRecord, buffer);
        digests.Add(Convert.ToHexStringLower(buffer));
        ReadingTypedData.Digest(Eip712Domain.ForReadings(2), baseRecord, buffer);
        digests.Add(Convert.ToHexStringLower(buffer));
        foreach (var variant in variants)
        {
            ReadingTypedData.Digest(Eip712Domain.ForReadings(1), variant, buffer);
            digests.Add(Convert.ToHexStringLower(buffer));
        }
        Assert.Equal(variants.Length + 2, digests.Count);
    }

    [Fact]
    public void Type_strings_are_the_encode_type_of_the_fields_the_exports_declare()
    {
        Assert.Equal(
            "Reading(address device,uint64 seq,string meterId,string obis,int256 value,int8 scaler,string unit,uint8 source,bool clean,uint64 gatewayTime,int64 meterTime,uint8 timeStatus,uint8 origin,bytes32 prev)",
            ReadingTypedData.TypeString);
        Assert.Equal(
            "Gap(address device,uint64 seq,uint64 fromSeq,uint64 toSeq,uint8 reason,uint64 gatewayTime,uint8 timeStatus,bytes32 prev)",
            GapTypedData.TypeString);
        using var key = FileDeviceKey.FromSecret(TestRecords.Secret(0x12));
        var domain = Eip712Domain.ForReadings(100);
        foreach (var (record, typeString) in new (ChainRecord, string)[]
                 {
                     (TestRecords.Reading(key.Address, 1, new byte[32]), ReadingTypedData.TypeString),
                     (TestRecords.Gap(key.Address, 1, 4, new byte[32]), GapTypedData.TypeString),
                 })
        {
            using var doc = JsonDocument.Parse(ExportLine(new RecordSigner(key, domain).Sign(record), domain));
            var primaryType = doc.RootElement.GetProperty("primaryType").GetString()!;
            Assert.Equal(typeString, Eip712.EncodeType(primaryType, doc.RootElement.GetProperty("types")));
        }
    }

    [Fact]
    public void Gap_digest_equals_the_general_encoder_and_depends_on_every_field()
    {
        using var key = FileDeviceKey.FromSecret(TestRecords.Secret(0x13));
        var domain = Eip712Domain.ForReadings(100);
        var gap = TestRecords.Gap(key.Address, 81, 100, Keccak256.Hash("head"u8));
        var variants = new ChainRecord[]
        {
            gap, gap with { Device = "0x" + new string('b', 40) }, gap with { FromSequence = 82 },
            gap with { ToSequence = 101, Sequence = 102 }, gap with { Sequence = 102 }, gap with { Reason = GapReason.StoreLost },
            gap with { GatewayTimeMs = 1 }, gap with { TimeStatus = TimeStatus.Relative }, gap with { PrevHash = new byte[32] },
            gap with { FromSequence = ulong.MaxValue - 1, ToSequence = ulong.MaxValue - 1, Sequence = ulong.MaxValue, GatewayTimeMs = long.MaxValue },
        };
        var digests = new HashSet<string>();
        foreach (var variant in variants)
        {
            var digest = new byte[32];
            ReadingTypedData.Digest(domain, variant, digest);
            digests.Add(Convert.ToHexStringLower(digest));
            // The general encoder reads the export JSON: the hand-written encoding must say the same.
            var signed = new SignedReading(variant, digest, new byte[65]);
            using var doc = JsonDocument.Parse(ExportLine(signed, domain));
            Assert.Equal("Gap", doc.RootElement.GetProperty("primaryType").GetString());
            var general = new byte[32];
            Eip712.HashTypedData(doc.RootElement, general);
            Assert.Equal(digest, general);
        }
        Assert.Equal(variants.Length, digests.Count);

        // A gap and a reading never share a digest even where their common fields agree: the type hashes differ.
        var reading = new byte[32];
        ReadingTypedData.Digest(domain, TestRecords.Reading(key.Address, 101, gap.PrevHash), reading);
        Assert.DoesNotContain(Convert.ToHexStringLower(reading), digests);
    }

    [Fact]
    public void Signer_refuses_a_malformed_gap_declaration()
    {
        using var key = FileDeviceKey.FromSecret(TestRecords.Secret(0x14));
        var signer = new RecordSigner(key, Eip712Domain.ForReadings(1));
        var good = TestRecords.Gap(key.Address, 5, 9, new byte[32]);
        Assert.Equal(10UL, signer.Sign(good).Record.Sequence);
        Assert.Contains("directly follow", Assert.Throws<ArgumentException>(() => signer.Sign(good with { Sequence = 11 })).Message, StringComparison.Ordinal);
        Assert.Contains("empty", Assert.Throws<ArgumentException>(() => signer.Sign(good with { FromSequence = 10 })).Message, StringComparison.Ordinal);
        Assert.Contains("seq 0", Assert.Throws<ArgumentException>(() => signer.Sign(good with { FromSequence = 0 })).Message, StringComparison.Ordinal);
        Assert.Contains("reason", Assert.Throws<ArgumentException>(() => signer.Sign(good with { Reason = 0 })).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Same_reading_always_encodes_to_the_same_digest_and_signature()
    {
        using var key = FileDeviceKey.FromSecret(TestRecords.Secret(0x22));
        var signer = new RecordSigner(key, Eip712Domain.ForReadings(1));
        var a = signer.Sign(TestRecords.Reading(key.Address, 3, new byte[32]));
        var b = signer.Sign(TestRecords.Reading(key.Address, 3, new byte[32]));
        Assert.Equal(a.Digest.ToArray(), b.Digest.ToArray());
        Assert.Equal(a.Signature.ToArray(), b.Signature.ToArray());
    }

    [Fact]
    public void Personal_message_hash_matches_ethers_hashMessage()
    {
        // ethers.hashMessage("hello world")
        var digest = new byte[32];
        Eip191.HashPersonalMessage("hello world"u8, digest);
        Assert.Equal("d9eba16ed0ecae432b71fe008c98cc872bb4cc214d3220a36f365326cf807d68", Convert.ToHexStringLower(digest));
    }

    internal static string ExportLine(SignedReading signed, Eip712Domain domain)
    {
        using var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream))
            ReadingJson.WriteExport(writer, signed, domain);
        return Encoding.UTF8.GetString(stream.ToArray());
    }
}
