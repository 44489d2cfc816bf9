using System.Security.Cryptography;
using CsCheck;
using EdgeMeter.Crypto.Hashing;

namespace EdgeMeter.Crypto.Tests.Hashing;

/// <summary>Our allocation-free HMAC-SHA256 (used for RFC 6979 nonces) against the platform's, byte for byte.</summary>
public class HmacSha256Tests
{
    [Fact]
    public void Matches_the_platform_HMAC_for_keys_up_to_a_block_and_messages_across_block_boundaries()
    {
        Gen.Select(Gen.Byte.Array[0, 64], Gen.Byte.Array[0, 190], Gen.Int[0, 190]).Sample((key, message, split) =>
        {
            split = Math.Min(split, message.Length);
            var mac = new HmacSha256(key);
            var ours = new byte[32];
            mac.Compute(message.AsSpan(0, split), message.AsSpan(split, (message.Length - split) / 2), message.AsSpan(split + (message.Length - split) / 2), ours);
            Assert.Equal(HMACSHA256.HashData(key, message), ours);
        }, iter: 500);
    }

    [Fact]
    public void Rfc4231_test_case_2()
    {
        var mac = new HmacSha256("Jefe"u8);
        var ours = new byte[32];
        mac.Compute("what do ya want "u8, "for nothing?"u8, default, ours);
        Assert.Equal("5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843", Convert.ToHexStringLower(ours));
    }
}
