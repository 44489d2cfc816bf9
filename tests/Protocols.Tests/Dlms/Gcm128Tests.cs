using System.Security.Cryptography;
using CsCheck;
using EdgeMeter.Protocols.Dlms;

namespace EdgeMeter.Protocols.Tests.Dlms;

/// <summary>
/// Our AES-128-GCM on the CPU's AES instructions (which keeps OpenSSL out of a gateway that needs no TLS) against the
/// platform's AES-GCM, byte for byte, and against the test vectors of the GCM specification.
/// </summary>
public class Gcm128Tests
{
    public Gcm128Tests() =>
        Assert.True(IntrinsicGcm128.IsSupported, "these tests need an x86 CPU with AES-NI (every x64 CI machine here has it)");

    [Fact]
    public void Encrypts_and_tags_exactly_as_the_platform_does()
    {
        Gen.Select(Gen.Byte.Array[16], Gen.Byte.Array[12], Gen.Byte.Array[0, 70], Gen.Byte.Array[0, 100], Gen.OneOfConst(12, 16))
            .Sample((key, nonce, aad, plain, tagLength) =>
            {
                using var ours = new IntrinsicGcm128(key, tagLength);
                using var platform = new AesGcm(key, tagLength);
                var cipher = new byte[plain.Length];
                var tag = new byte[tagLength];
                ours.Encrypt(nonce, plain, cipher, tag, aad);
                var expectedCipher = new byte[plain.Length];
                var expectedTag = new byte[tagLength];
                platform.Encrypt(nonce, plain, expectedCipher, expectedTag, aad);
                Assert.Equal(expectedCipher, cipher);
                Assert.Equal(expectedTag, tag);

                var back = new byte[plain.Length];
                Assert.True(ours.TryDecrypt(nonce, cipher, tag, back, aad));
                Assert.Equal(plain, back);
            }, iter: 1000);
    }

    [Fact]
    public void Any_changed_bit_of_ciphertext_tag_aad_or_nonce_fails_and_releases_no_plaintext()
    {
        Gen.Select(Gen.Byte.Array[16], Gen.Byte.Array[12], Gen.Byte.Array[1, 40], Gen.Byte.Array[1, 60], Gen.Int[0, 10_000])
            .Sample((key, nonce, aad, plain, flip) =>
            {
                using var gcm = new IntrinsicGcm128(key, 12);
                var cipher = new byte[plain.Length];
                var tag = new byte[12];
                gcm.Encrypt(nonce, plain, cipher, tag, aad);
                var parts = new[] { cipher, tag, aad, nonce };
                var part = parts[flip % 4];
                part[flip / 4 % part.Length] ^= (byte)(1 << (flip % 8));
                var back = new byte[plain.Length];
                back.AsSpan().Fill(0xAA);
                Assert.False(gcm.TryDecrypt(nonce, cipher, tag, back, aad));
                Assert.All(back, b => Assert.Equal(0, b));
            }, iter: 1000);
    }

    // McGrew and Viega, "The Galois/Counter Mode of Operation (GCM)", test cases 1 to 4 (AES-128).
    [Theory]
    [InlineData("00000000000000000000000000000000", "000000000000000000000000", "", "", "", "58e2fccefa7e3061367f1d57a4e7455a")]
    [InlineData("00000000000000000000000000000000", "000000000000000000000000", "", "00000000000000000000000000000000",
        "0388dace60b6a392f328c2b971b2fe78", "ab6e47d42cec13bdf53a67b21257bddf")]
    [InlineData("feffe9928665731c6d6a8f9467308308", "cafebabefacedbaddecaf888", "",
        "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b391aafd255",
        "42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091473f5985",
        "4d5c2af327cd64a62cf35abd2ba6fab4")]
    [InlineData("feffe9928665731c6d6a8f9467308308", "cafebabefacedbaddecaf888", "feedfacedeadbeeffeedfacedeadbeefabaddad2",
        "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39",
        "42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091",
        "5bc94fbc3221a5db94fae95ae7121a47")]
    public void Gcm_specification_test_cases(string key, string nonce, string aad, string plain, string cipher, string tag)
    {
        using var gcm = new IntrinsicGcm128(Convert.FromHexString(key), 16);
        var p = Convert.FromHexString(plain);
        var c = new byte[p.Length];
        var t = new byte[16];
        gcm.Encrypt(Convert.FromHexString(nonce), p, c, t, Convert.FromHexString(aad));
        Assert.Equal(cipher, Convert.ToHexStringLower(c));
        Assert.Equal(tag, Convert.ToHexStringLower(t));
    }

    [Fact]
    public void The_dlms_cipher_uses_the_cpu_where_it_can()
    {
        using var gcm = Gcm128.Create(new byte[16], 12);
        Assert.IsType<IntrinsicGcm128>(gcm);
        Assert.True(Gcm128.RunsWithoutOpenSsl);
    }
}
