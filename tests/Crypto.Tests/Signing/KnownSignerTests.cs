using CsCheck;
using EdgeMeter.Crypto.Curves;
using EdgeMeter.Crypto.Keys;
using EdgeMeter.Crypto.Signing;

namespace EdgeMeter.Crypto.Tests.Signing;

/// <summary>Verifying against a known key's table accepts exactly the signatures that recover to that key.</summary>
public class KnownSignerTests
{
    private static KnownSigner SignerOf(FileDeviceKey key)
    {
        Assert.True(KnownSigner.TryCreate(key.PublicKey.Span, out var signer));
        Assert.Equal(key.Address, signer!.Address);
        return signer;
    }

    [Fact]
    public void Accepts_exactly_what_recovery_to_the_key_accepts_for_random_keys_digests_and_altered_signatures()
    {
        Gen.Select(Gen.Byte.Array[32], Gen.Byte.Array[32], Gen.Int[0, 6], Gen.Int[0, 64], Gen.Byte).Sample((secret, digest, alteration, position, xor) =>
        {
            if (!Secp256k1.IsValidPrivateKey(secret))
                return;
            using var key = FileDeviceKey.FromSecret(secret);
            var signature = new byte[65];
            key.SignDigest(digest, signature);
            var checkedDigest = (byte[])digest.Clone();
            switch (alteration)
            {
                case 1: signature[64] ^= 0x03; break;                          // 27 <-> 28: the other R
                case 2: signature[position] ^= (byte)(xor | 1); break;         // any byte, v included
                case 3: checkedDigest[position % 32] ^= (byte)(xor | 1); break; // another digest
                case 4: signature[0] = signature[1] = 0xFF; break;             // r ≥ n likely, else another R
                case 5: signature[32] |= 0x80; break;                          // high S
            }

            bool recovers = SignatureRecovery.TryRecoverAddress(checkedDigest, signature, out var recovered) && recovered == key.Address;
            Assert.Equal(recovers, SignerOf(key).Verify(checkedDigest, signature));
            if (alteration == 0)
                Assert.True(recovers);
        }, iter: 200);
    }

    [Fact]
    public void A_batch_gives_for_each_signature_what_verifying_it_alone_gives()
    {
        using var key = FileDeviceKey.FromSecret(TestRecords.Secret(0x37));
        using var other = FileDeviceKey.FromSecret(TestRecords.Secret(0x38));
        var signer = SignerOf(key);
        Gen.Int[1, KnownSigner.BatchSize].SelectMany(n => Gen.Int[0, 5].Array[n]).Sample(kinds =>
        {
            var digests = new byte[kinds.Length][];
            var signatures = new ReadOnlyMemory<byte>[kinds.Length];
            for (int i = 0; i < kinds.Length; i++)
            {
                var digest = new byte[32];
                Random.Shared.NextBytes(digest);
                var signature = new byte[65];
                (kinds[i] == 1 ? other : key).SignDigest(digest, signature);
                switch (kinds[i])
                {
                    case 2: signature[64] ^= 0x03; break;     // the other R
                    case 3: signature[32] |= 0x80; break;     // high S
                    case 4: digest[3] ^= 0x10; break;         // another digest
                    case 5: signature[64] = 29; break;        // no such v
                }
                digests[i] = digest;
                signatures[i] = signature;
            }
            var ok = new bool[kinds.Length];
            signer.VerifyBatch(digests, signatures, ok);
            for (int i = 0; i < kinds.Length; i++)
            {
                Assert.Equal(signer.Verify(digests[i], signatures[i].Span), ok[i]);
                Assert.Equal(kinds[i] == 0, ok[i]);
            }
        }, iter: 60);
    }

    [Fact]
    public void Refuses_a_valid_signature_of_another_key()
    {
        using var signer = FileDeviceKey.FromSecret(TestRecords.Secret(0x31));
        using var other = FileDeviceKey.FromSecret(TestRecords.Secret(0x32));
        var digest = new byte[32];
        digest[7] = 0x42;
        var signature = new byte[65];
        other.SignDigest(digest, signature);

        Assert.False(SignerOf(signer).Verify(digest, signature));
        Assert.True(SignerOf(other).Verify(digest, signature));
    }

    [Fact]
    public void Refuses_a_public_key_that_is_not_on_the_curve()
    {
        using var key = FileDeviceKey.FromSecret(TestRecords.Secret(0x33));
        var bad = key.PublicKey.ToArray();
        bad[64] ^= 0x01;
        Assert.False(KnownSigner.TryCreate(bad, out _));
        Assert.False(KnownSigner.TryCreate(key.PublicKey.Span[..64], out _));
    }

    [Fact]
    public void Cache_recovers_a_device_once_and_refuses_a_first_signature_of_another_device()
    {
        using var device = FileDeviceKey.FromSecret(TestRecords.Secret(0x34));
        using var stranger = FileDeviceKey.FromSecret(TestRecords.Secret(0x35));
        var digest = new byte[32];
        digest[0] = 0x01;
        var byDevice = new byte[65];
        var byStranger = new byte[65];
        device.SignDigest(digest, byDevice);
        stranger.SignDigest(digest, byStranger);
        var cache = new KnownSigners(capacity: 2);

        Assert.Null(cache.GetOrRecover(device.Address, digest, byStranger));
        Assert.Equal(0, cache.Count);
        var known = cache.GetOrRecover(device.Address, digest, byDevice);
        Assert.NotNull(known);
        Assert.Equal(device.PublicKey.ToArray(), known.PublicKey.ToArray());
        // Known now: the same object, whatever signature comes with the lookup.
        Assert.Same(known, cache.GetOrRecover(device.Address, digest, byStranger));
        Assert.Equal(1, cache.Count);
    }

    [Fact]
    public void Only_the_devices_that_sent_a_backlog_last_keep_a_wide_table_and_every_device_verifies_the_same_with_or_without_one()
    {
        var keys = Enumerable.Range(0, 3).Select(i => FileDeviceKey.FromSecret(TestRecords.Secret((byte)(0x40 + i)))).ToArray();
        try
        {
            var cache = new KnownSigners(capacity: 8, wideTableCapacity: 2);

            // Batches of 64: each builds its device's wide table; the first device's goes when the third one's is built.
            var signers = keys.Select(k => VerifyBatchOf(k, cache, 64)).ToArray();
            Assert.Equal([false, true, true], signers.Select(s => s.HasWideTable));
            // A short batch does not build one.
            Assert.Same(signers[0], VerifyBatchOf(keys[0], cache, 10));
            Assert.False(signers[0].HasWideTable);
            // A backlog again: the first device builds its table again, and the second, the oldest now, lets its go.
            Assert.Same(signers[0], VerifyBatchOf(keys[0], cache, 64));
            Assert.Equal([true, false, true], signers.Select(s => s.HasWideTable));
            Assert.Equal(3, cache.Count);
        }
        finally
        {
            foreach (var k in keys)
                k.Dispose();
        }

        // A batch of n signatures by the key, one of them checked over another digest: exactly that one fails.
        static KnownSigner VerifyBatchOf(FileDeviceKey key, KnownSigners cache, int n)
        {
            var digests = new byte[n][];
            var signatures = new ReadOnlyMemory<byte>[n];
            for (var i = 0; i < n; i++)
            {
                digests[i] = new byte[32];
                Random.Shared.NextBytes(digests[i]);
                var signature = new byte[65];
                key.SignDigest(digests[i], signature);
                signatures[i] = signature;
            }
            var signer = cache.GetOrRecover(key.Address, digests[0], signatures[0].Span);
            Assert.NotNull(signer);
            var bad = n / 2;
            digests[bad][0] ^= 1;
            var ok = new bool[n];
            signer.VerifyBatch(digests, signatures, ok);
            Assert.Equal(Enumerable.Range(0, n).Select(i => i != bad), ok);
            return signer;
        }
    }

    [Fact]
    public void Verification_allocates_zero_bytes()
    {
        using var key = FileDeviceKey.FromSecret(TestRecords.Secret(0x36));
        var signer = SignerOf(key);
        var digest = new byte[32];
        var signature = new byte[65];
        key.SignDigest(digest, signature);
        for (int i = 0; i < 20; i++)
            signer.Verify(digest, signature);

        long before = GC.GetAllocatedBytesForCurrentThread();
        bool ok = true;
        for (int i = 0; i < 200; i++)
            ok &= signer.Verify(digest, signature);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal(0, allocated);
        Assert.True(ok);
    }
}
