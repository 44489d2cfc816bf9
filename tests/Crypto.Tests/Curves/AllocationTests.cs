using EdgeMeter.Crypto.Curves;
using EdgeMeter.Crypto.Keys;

namespace EdgeMeter.Crypto.Tests.Curves;

/// <summary>Signing and recovery allocate nothing on the managed heap (the GC's own per-thread byte counter).</summary>
public class AllocationTests
{
    [Fact]
    public void Signing_allocates_zero_bytes_per_signature()
    {
        using var key = FileDeviceKey.FromSecret(TestRecords.Secret(0x21));
        var digest = new byte[32];
        var signature = new byte[65];
        for (int i = 0; i < 50; i++) // tables, statics and the JIT's first tiers outside the count
        {
            digest[0] = (byte)i;
            key.SignDigest(digest, signature);
        }

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 500; i++)
        {
            digest[1] = (byte)i;
            digest[2] = (byte)(i >> 8);
            key.SignDigest(digest, signature);
        }
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal(0, allocated);
        Assert.True(signature[64] is 27 or 28);
    }

    [Fact]
    public void Public_key_recovery_allocates_zero_bytes()
    {
        using var key = FileDeviceKey.FromSecret(TestRecords.Secret(0x22));
        var digest = new byte[32];
        digest[5] = 0x77;
        var signature = new byte[65];
        key.SignDigest(digest, signature);
        var recovered = new byte[65];
        for (int i = 0; i < 20; i++)
            Secp256k1Signer.TryRecoverPublicKey(digest, signature, recovered);

        long before = GC.GetAllocatedBytesForCurrentThread();
        bool ok = true;
        for (int i = 0; i < 200; i++)
            ok &= Secp256k1Signer.TryRecoverPublicKey(digest, signature, recovered);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal(0, allocated);
        Assert.True(ok);
        Assert.Equal(key.PublicKey.ToArray(), recovered);
    }
}
