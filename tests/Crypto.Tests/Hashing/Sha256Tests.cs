using System.Security.Cryptography;
using CsCheck;

namespace EdgeMeter.Crypto.Tests.Hashing;

/// <summary>Our SHA-256 (which keeps OpenSSL out of the process) against the platform's, byte for byte.</summary>
public class Sha256Tests
{
    [Fact]
    public void Matches_the_platform_hash_for_any_message_appended_in_any_pieces()
    {
        Gen.Select(Gen.Byte.Array[0, 300], Gen.Int[1, 70].Array[1, 8]).Sample((message, pieces) =>
        {
            var sha = new EdgeMeter.Crypto.Hashing.Sha256();
            int at = 0;
            foreach (var piece in pieces)
            {
                int take = Math.Min(piece, message.Length - at);
                sha.AppendData(message.AsSpan(at, take));
                at += take;
            }
            sha.AppendData(message.AsSpan(at));
            var expected = SHA256.HashData(message);
            Assert.Equal(expected, sha.GetHashAndReset());
            Assert.Equal(expected, EdgeMeter.Crypto.Hashing.Sha256.HashData(message));
        }, iter: 2000);
    }

    [Theory]
    [InlineData("", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")]
    [InlineData("abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")]
    [InlineData("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")]
    public void Fips_180_examples(string message, string hash)
    {
        Assert.Equal(hash, Convert.ToHexStringLower(EdgeMeter.Crypto.Hashing.Sha256.HashData(System.Text.Encoding.ASCII.GetBytes(message))));
    }

    [Fact]
    public void A_million_a_in_odd_pieces_and_the_hash_starts_over_after_reading()
    {
        var sha = new EdgeMeter.Crypto.Hashing.Sha256();
        var chunk = new byte[999];
        chunk.AsSpan().Fill((byte)'a');
        int left = 1_000_000;
        while (left > 0)
        {
            int take = Math.Min(left, chunk.Length);
            sha.AppendData(chunk.AsSpan(0, take));
            left -= take;
        }
        Assert.Equal("cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0", Convert.ToHexStringLower(sha.GetHashAndReset()));
        sha.AppendData("abc"u8);
        Assert.Equal("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", Convert.ToHexStringLower(sha.GetHashAndReset()));
    }

    [Fact]
    public void A_default_value_hashes_like_a_fresh_one()
    {
        EdgeMeter.Crypto.Hashing.Sha256 sha = default;
        sha.AppendData("abc"u8);
        Assert.Equal("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", Convert.ToHexStringLower(sha.GetHashAndReset()));
    }
}
