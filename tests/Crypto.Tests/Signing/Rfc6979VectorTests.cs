using System.Security.Cryptography;
using System.Text;
using EdgeMeter.Crypto.Keys;
using EdgeMeter.Crypto.Signing;

namespace EdgeMeter.Crypto.Tests.Signing;

/// <summary>The widely published RFC 6979 secp256k1/SHA-256 vectors (low-S form), message hashed with SHA-256.</summary>
public class Rfc6979VectorTests
{
    public static TheoryData<string, string, string, string> Vectors => new()
    {
        { "0000000000000000000000000000000000000000000000000000000000000001", "Satoshi Nakamoto",
          "934b1ea10a4b3c1757e2b0c017d0b6143ce3c9a7e6a4a49860d7a6ab210ee3d8", "2442ce9d2b916064108014783e923ec36b49743e2ffa1c4496f01a512aafd9e5" },
        { "0000000000000000000000000000000000000000000000000000000000000001", "All those moments will be lost in time, like tears in rain. Time to die...",
          "8600dbd41e348fe5c9465ab92d23e3db8b98b873beecd930736488696438cb6b", "547fe64427496db33bf66019dacbf0039c04199abb0122918601db38a72cfc21" },
        { "0000000000000000000000000000000000000000000000000000000000000001", "Everything should be made as simple as possible, but not simpler.",
          "33a69cd2065432a30f3d1ce4eb0d59b8ab58c74f27c41a7fdb5696ad4e6108c9", "6f807982866f785d3f6418d24163ddae117b7db4d5fdf0071de069fa54342262" },
        { "fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364140", "Satoshi Nakamoto",
          "fd567d121db66e382991534ada77a6bd3106f0a1098c231e47993447cd6af2d0", "6b39cd0eb1bc8603e159ef5c20a5c8ad685a45b06ce9bebed3f153d10d93bed5" },
        { "f8b8af8ce3c7cca5e300d33939540c10d45ce001b8f252bfbc57ba0342904181", "Alan Turing",
          "7063ae83e7f62bbb171798131b4a0564b956930092b33b07b395615d9ec7e15c", "58dfcc1e00a35e1572f366ffe34ba0fc47db1e7189759b9fb233c5b05ab388ea" },
        { "e91671c46231f833a6406ccbea0e3e392c76c167bac1cb013f6f1013980455c2",
          "There is a computer disease that anybody who works with computers knows about. It's a very serious disease and it interferes completely with the work. The trouble with computers is that you 'play' with them!",
          "b552edd27580141f3b2a5463048cb7cd3e047b97c9f98076c32dbdf85a68718b", "279fa72dd19bfae05577e06c7c0c1900c371fcd5893f7e1d56a37d30174671f6" },
    };

    [Theory]
    [MemberData(nameof(Vectors))]
    public void Signs_published_rfc6979_vectors_byte_for_byte(string keyHex, string message, string rHex, string sHex)
    {
        using var key = FileDeviceKey.FromSecret(Convert.FromHexString(keyHex));
        var digest = SHA256.HashData(Encoding.ASCII.GetBytes(message));
        var signature = new byte[65];
        key.SignDigest(digest, signature);

        Assert.Equal(rHex, Convert.ToHexStringLower(signature.AsSpan(0, 32)));
        Assert.Equal(sHex, Convert.ToHexStringLower(signature.AsSpan(32, 32)));
        Assert.True(SignatureRecovery.TryRecoverAddress(digest, signature, out var recovered));
        Assert.Equal(key.Address, recovered);
    }

    [Fact]
    public void Derives_the_well_known_address_of_private_key_one()
    {
        using var key = FileDeviceKey.FromSecret(Convert.FromHexString("0000000000000000000000000000000000000000000000000000000000000001"));
        Assert.Equal("0x7e5f4552091a69125d5dfcb7b8c2659029395bdf", key.Address);
        Assert.Equal("0479be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798483ada7726a3c4655da4fbfc0e1108a8fd17b448a68554199c47d08ffb10d4b8",
            Convert.ToHexStringLower(key.PublicKey.Span));
    }
}
