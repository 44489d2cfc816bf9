using EdgeMeter.Crypto.Records;
using EdgeMeter.Crypto.Keys;
using EdgeMeter.Crypto.Signing;
using EdgeMeter.Crypto.Verification;

namespace EdgeMeter.Crypto.Tests.Verification;

public class DeviceChainStateTests
{
    private static readonly Eip712Domain Domain = Eip712Domain.ForReadings(1);

    [Fact]
    public void Accepts_consecutive_records_and_tracks_the_head()
    {
        using var key = FileDeviceKey.FromSecret(TestRecords.Secret(0x71));
        var chain = ChainVerifierTests.Chain(key, 3);
        var state = new DeviceChainState(key.Address, Domain);
        foreach (var reading in chain)
        {
            Assert.Null(state.Check(reading));
            state.Accept(reading);
        }
        Assert.Equal(3UL, state.LastSequence);
        Assert.Equal(chain[2].Digest.ToArray(), state.LastDigest.ToArray());
    }

    [Fact]
    public void Resumes_from_a_stored_head()
    {
        using var key = FileDeviceKey.FromSecret(TestRecords.Secret(0x72));
        var chain = ChainVerifierTests.Chain(key, 3);
        var state = new DeviceChainState(key.Address, Domain, 2, chain[1].Digest);
        Assert.Null(state.Check(chain[2]));
    }

    [Fact]
    public void Names_gap_duplicate_reorder_broken_link_wrong_signer_and_alteration()
    {
        using var key = FileDeviceKey.FromSecret(TestRecords.Secret(0x73));
        using var other = FileDeviceKey.FromSecret(TestRecords.Secret(0x74));
        var chain = ChainVerifierTests.Chain(key, 5);
        var state = new DeviceChainState(key.Address, Domain);
        state.Accept(chain[0]);
        state.Accept(chain[1]);

        Assert.Equal((FindingKind.Gap, 3UL), Kind(state.Check(chain[3])));
        Assert.Equal((FindingKind.Duplicate, 2UL), Kind(state.Check(chain[1])));
        Assert.Equal((FindingKind.Reorder, 1UL), Kind(state.Check(chain[0])));
        var relinked = new RecordSigner(key, Domain).Sign(chain[2].Record with { PrevHash = chain[0].Digest });
        Assert.Equal((FindingKind.BrokenChain, 3UL), Kind(state.Check(relinked)));
        var foreign = new RecordSigner(other, Domain).Sign(chain[2].Record with { Device = other.Address });
        Assert.Equal((FindingKind.WrongSigner, 3UL), Kind(state.Check(foreign)));
        var altered = chain[2] with { Record = chain[2].Reading! with { Value = 1 }, Digest = default };
        Assert.Equal((FindingKind.Altered, 3UL), Kind(state.Check(altered)));
        var badSignature = chain[2] with { Signature = new byte[65] };
        Assert.Equal((FindingKind.BadSignature, 3UL), Kind(state.Check(badSignature)));

        Assert.Throws<ArgumentException>(() => state.Accept(altered));
        Assert.Equal(2UL, state.LastSequence);
    }

    private static (FindingKind, ulong) Kind(ChainFinding? finding)
    {
        Assert.NotNull(finding);
        return (finding.Kind, finding.Sequence);
    }

    [Fact]
    public void A_gap_declaration_from_the_head_is_the_next_link_and_one_into_the_chain_is_a_conflict()
    {
        using var key = FileDeviceKey.FromSecret(TestRecords.Secret(0x75));
        var chain = ChainVerifierTests.ChainWithGap(key);
        var signer = new RecordSigner(key, Domain);
        var state = new DeviceChainState(key.Address, Domain);
        foreach (var r in chain.Take(3))
            state.Accept(r);

        // Declares 3..6 while the chain holds 3: overlapping.
        var overlapping = signer.Sign(TestRecords.Gap(key.Address, 3, 6, chain[1].Digest));
        Assert.Equal((FindingKind.Conflict, 7UL), Kind(state.Check(overlapping)));
        // Declares 5..6, leaving 4 undeclared and missing.
        var late = signer.Sign(TestRecords.Gap(key.Address, 5, 6, chain[2].Digest));
        Assert.Equal((FindingKind.Gap, 4UL), Kind(state.Check(late)));
        // Links to seq 2, not to the head.
        var misLinked = signer.Sign(TestRecords.Gap(key.Address, 4, 6, chain[1].Digest));
        Assert.Equal((FindingKind.BrokenChain, 7UL), Kind(state.Check(misLinked)));
        // A declaration that does not follow its range.
        var detached = chain[3] with { Record = chain[3].Gap! with { Sequence = 9 }, Digest = default };
        var detachedSigned = new SignedReading(detached.Record, default, SignUnchecked(key, detached.Record));
        Assert.Equal((FindingKind.Malformed, 9UL), Kind(state.Check(detachedSigned)));

        foreach (var r in chain.Skip(3))
        {
            Assert.Null(state.Check(r));
            state.Accept(r);
        }
        Assert.Equal(9UL, state.LastSequence);
        // Seq 5 lies in the declared range: the chain is past it.
        var inRange = signer.Sign(TestRecords.Reading(key.Address, 5, chain[2].Digest));
        Assert.Equal((FindingKind.Reorder, 5UL), Kind(state.Check(inRange)));
    }

    private static byte[] SignUnchecked(IDeviceKey key, ChainRecord record)
    {
        var digest = new byte[32];
        ReadingTypedData.Digest(Domain, record, digest);
        var signature = new byte[65];
        key.SignDigest(digest, signature);
        return signature;
    }
}
