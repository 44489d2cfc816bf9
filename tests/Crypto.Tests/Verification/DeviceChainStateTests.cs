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
        var altered = chain[2] with { Record = chain[2].Record with { Value = 1 }, Digest = default };
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
}
