using System.Text;
using CsCheck;
using EdgeMeter.Crypto.Hashing;
using Org.BouncyCastle.Crypto.Digests;

namespace EdgeMeter.Crypto.Tests.Hashing;

public class Keccak256Tests
{
    [Theory]
    [InlineData("", "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470")]
    [InlineData("abc", "4e03657aea45a94fc7d47ba826c8d667c0d1e6e33a64a036ec44f58fa12d6c45")]
    public void Hashes_known_answers(string input, string expectedHex)
    {
        Assert.Equal(expectedHex, Convert.ToHexStringLower(Keccak256.Hash(Encoding.ASCII.GetBytes(input))));
    }

    [Fact]
    public void Uses_keccak_padding_not_sha3()
    {
        // SHA3-256("") is a7ffc6f8...; Ethereum's keccak differs only in the padding byte.
        Assert.NotEqual("a7ffc6f8bf1ed76651c14756a061d662f580ff4de43b49fa82d80a4b80f8434a", Convert.ToHexStringLower(Keccak256.Hash([])));
    }

    [Fact]
    public void Matches_BouncyCastle_keccak_for_lengths_around_the_rate_boundary()
    {
        Gen.Byte.Array[0, 600].Sample(data =>
        {
            var reference = new KeccakDigest(256);
            reference.BlockUpdate(data, 0, data.Length);
            var expected = new byte[32];
            reference.DoFinal(expected, 0);
            Assert.Equal(expected, Keccak256.Hash(data));
        }, iter: 400);

        foreach (int length in new[] { 135, 136, 137, 271, 272, 273 })
        {
            var data = Enumerable.Range(0, length).Select(i => (byte)i).ToArray();
            var reference = new KeccakDigest(256);
            reference.BlockUpdate(data, 0, data.Length);
            var expected = new byte[32];
            reference.DoFinal(expected, 0);
            Assert.Equal(expected, Keccak256.Hash(data));
        }
    }

    [Fact]
    public void Refuses_a_short_digest_buffer()
    {
        Assert.Throws<ArgumentException>(() => Keccak256.Hash([1, 2, 3], new byte[31]));
    }
}
