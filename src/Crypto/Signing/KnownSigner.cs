using System.Collections.Concurrent;
using EdgeMeter.Crypto.Curves;
using EdgeMeter.Crypto.Keys;

namespace EdgeMeter.Crypto.Signing;

/// <summary>
/// A signer whose public key is known, with a table of its key's multiples (152 KB, built once): checks that a
/// signature recovers to this key without recovering it, about four times faster than ecrecover. For a ledger
/// that verifies many signatures of the same device. Thread-safe (the wide table is built under a lock).
/// </summary>
public sealed class KnownSigner
{
    /// <summary>A batch of at least this many signatures builds the key's wide table (a backlog is coming).</summary>
    private const int WideFrom = 64;

    private readonly ulong[] _table;
    private readonly FieldElement _x;
    private readonly FieldElement _y;
    /// <summary>Who keeps count of the wide tables built (<see cref="KnownSigners"/>); null: this one keeps its own.</summary>
    private readonly KnownSigners.WideTables? _wideTables;
    private readonly Lock _building = new();
    /// <summary>
    /// The key's multiples in 10-bit windows (852 KB, 26 additions instead of 37): built for a backlog, then kept
    /// until <see cref="_wideTables"/> hands its place to another signer's.
    /// </summary>
    private ulong[]? _wide;

    private KnownSigner(string address, byte[] publicKey, FieldElement x, FieldElement y, KnownSigners.WideTables? wideTables)
    {
        Address = address;
        PublicKey = publicKey;
        _x = x;
        _y = y;
        _wideTables = wideTables;
        _table = FixedBaseMultiplier.BuildTable(x, y);
    }

    /// <summary>The signer's address (0x lower-case hex).</summary>
    public string Address { get; }

    /// <summary>The uncompressed public key 04‖X‖Y.</summary>
    public ReadOnlyMemory<byte> PublicKey { get; }

    /// <summary>A known signer for an uncompressed public key (65 bytes, 0x04 first, a point on the curve); false otherwise.</summary>
    public static bool TryCreate(ReadOnlySpan<byte> publicKey65, out KnownSigner? signer) => TryCreate(publicKey65, null, out signer);

    internal static bool TryCreate(ReadOnlySpan<byte> publicKey65, KnownSigners.WideTables? wideTables, out KnownSigner? signer)
    {
        signer = null;
        if (publicKey65.Length != 65 || publicKey65[0] != 0x04)
            return false;
        if (!FieldElement.TryRead(publicKey65[1..33], out var x) || !FieldElement.TryRead(publicKey65[33..65], out var y))
            return false;
        if (FieldElement.EqualMask(FieldElement.Sqr(y), Secp256k1.CurveRight(x)) == 0)
            return false;
        signer = new KnownSigner(EthereumAddress.FromPublicKey(publicKey65), publicKey65.ToArray(), x, y, wideTables);
        return true;
    }

    /// <summary>
    /// True exactly when ecrecover(<paramref name="digest32"/>, <paramref name="signature65"/>) gives this signer's key:
    /// the same rejections as <see cref="SignatureRecovery"/> (r, s out of range, high S, v other than 27/28).
    /// Allocates nothing.
    /// </summary>
    public bool Verify(ReadOnlySpan<byte> digest32, ReadOnlySpan<byte> signature65) =>
        Secp256k1Signer.VerifyWithKeyTable(digest32, signature65, _table);

    /// <summary>Signatures <see cref="VerifyBatch"/> takes at once.</summary>
    public const int BatchSize = Secp256k1Signer.VerifyBatchSize;

    /// <summary>
    /// <see cref="Verify"/> for up to <see cref="BatchSize"/> signatures at once, about twice as fast per signature
    /// (inversions shared, points summed in affine coordinates; tests/Benchmarks VerificationBenchmarks): <paramref name="ok"/>[i] is <c>Verify(digests[i], signatures[i])</c>.
    /// A batch of 64 or more builds the key's wide table first (852 KB, once): a backlog pays for it in a few batches.
    /// Allocates nothing after that.
    /// </summary>
    /// <exception cref="ArgumentException">More than <see cref="BatchSize"/>, or the lengths differ.</exception>
    public void VerifyBatch(ReadOnlySpan<byte[]> digests, ReadOnlySpan<ReadOnlyMemory<byte>> signatures, Span<bool> ok) =>
        Secp256k1Signer.VerifyBatchWithKeyTable(digests, signatures, Volatile.Read(ref _wide) ?? (digests.Length >= WideFrom ? BuildWide() : _table), ok);

    /// <summary>Whether the key's wide table is held now.</summary>
    internal bool HasWideTable => Volatile.Read(ref _wide) is not null;

    private ulong[] BuildWide()
    {
        lock (_building)
        {
            if (_wide is { } built)
                return built;
            var wide = FixedBaseMultiplier.BuildTable(_x, _y, FixedBaseMultiplier.VerifyWindowBits);
            Volatile.Write(ref _wide, wide);
            _wideTables?.Built(this);
            return wide;
        }
    }

    /// <summary>Lets the wide table go (a batch verifying with it now still holds it); the next backlog builds it again.</summary>
    internal void DropWide() => Volatile.Write(ref _wide, null);
}

/// <summary>
/// The known signers of a ledger, by address: the first signature of a device is recovered in full, and the key it
/// gives, when it is the device's, is kept with its table, so that every later signature is only verified.
/// Bounded: <see cref="Capacity"/> devices, about 152 KB each, and 852 KB more for each of the
/// <see cref="WideTableCapacity"/> that sent a backlog last (64 and 8: 16.5 MB at most); thread-safe.
/// </summary>
public sealed class KnownSigners(int capacity = 64, int wideTableCapacity = 8)
{
    private readonly ConcurrentDictionary<string, KnownSigner> _signers = new(StringComparer.Ordinal);
    private readonly WideTables _wideTables = new(wideTableCapacity > 0 ? wideTableCapacity : throw new ArgumentOutOfRangeException(nameof(wideTableCapacity)));

    /// <summary>How many signers are kept at most; past it the cache starts again empty.</summary>
    public int Capacity { get; } = capacity > 0 ? capacity : throw new ArgumentOutOfRangeException(nameof(capacity));

    /// <summary>How many signers hold a wide table at most; past it the one built longest ago lets its table go.</summary>
    public int WideTableCapacity => _wideTables.Capacity;

    /// <summary>The signers holding a wide table, in the order they built it.</summary>
    internal sealed class WideTables(int capacity)
    {
        private readonly Queue<KnownSigner> _holders = new();
        private readonly Lock _gate = new();

        public int Capacity { get; } = capacity;

        /// <summary>Counts a table <paramref name="signer"/> has just built; the oldest one past the capacity is let go.</summary>
        public void Built(KnownSigner signer)
        {
            KnownSigner? oldest = null;
            lock (_gate)
            {
                _holders.Enqueue(signer);
                if (_holders.Count > Capacity)
                    oldest = _holders.Dequeue();
            }
            oldest?.DropWide();
        }
    }

    /// <summary>How many signers are held now.</summary>
    public int Count => _signers.Count;

    /// <summary>
    /// The known signer for <paramref name="address"/> (0x lower-case); when there is none yet, the key is recovered
    /// from <paramref name="signature65"/> over <paramref name="digest32"/> and kept when its address is
    /// <paramref name="address"/>. Null when the signature does not recover to that address.
    /// </summary>
    public KnownSigner? GetOrRecover(string address, ReadOnlySpan<byte> digest32, ReadOnlySpan<byte> signature65)
    {
        if (_signers.TryGetValue(address, out var known))
            return known;
        Span<byte> publicKey = stackalloc byte[65];
        if (!Secp256k1Signer.TryRecoverPublicKey(digest32, signature65, publicKey)
            || !string.Equals(EthereumAddress.FromPublicKey(publicKey), address, StringComparison.Ordinal)
            || !KnownSigner.TryCreate(publicKey, _wideTables, out known))
            return null;
        if (_signers.Count >= Capacity)
            _signers.Clear();
        return _signers.GetOrAdd(address, known!);
    }
}
