using Org.BouncyCastle.Math;
using Org.BouncyCastle.Math.EC;
using Org.BouncyCastle.Crypto.EC;
using Org.BouncyCastle.Utilities;

namespace EdgeMeter.Benchmarks.Timing;

/// <summary>
/// The multiplier the agent used before constant-time signing, kept here only so that the timing command can
/// show the leak it had. Not product code.
/// k·G for secp256k1 with a windowed fixed-base table: the scalar is cut into 32 windows of 8 bits and
/// window i adds the precomputed affine point d_i·2^(8i)·G, so a multiplication is at most 31 mixed
/// additions on BouncyCastle's curve arithmetic and no doublings (BouncyCastle's stock comb does 43 of each).
/// The table (32 × 255 affine points, about 2 MB of objects) is built once, lazily, on first use.
/// </summary>
/// <remarks>
/// The table entry is picked by direct index, so memory access depends on the secret nonce. That is a
/// cache-timing channel for code sharing the CPU; the gateway runs no untrusted code beside the agent.
/// The result is the same group element any correct multiplication gives, so signatures are unchanged.
/// </remarks>
internal sealed class LegacyFixedBaseMultiplier
{
    private const int WindowBits = 8;
    private const int Windows = 256 / WindowBits;
    private const int EntriesPerWindow = (1 << WindowBits) - 1;

    private static readonly Lazy<LegacyFixedBaseMultiplier> LazyShared = new(() => new LegacyFixedBaseMultiplier(CustomNamedCurves.GetByName("secp256k1").G), LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>The table for the secp256k1 generator, built on first use.</summary>
    public static LegacyFixedBaseMultiplier Shared => LazyShared.Value;

    // table[i][j - 1] = j · 2^(8i) · G, normalised to affine so that each addition is a mixed one.
    private readonly ECPoint[][] _table;

    private LegacyFixedBaseMultiplier(ECPoint generator)
    {
        var curve = generator.Curve;
        _table = new ECPoint[Windows][];
        var windowBase = generator.Normalize();
        for (int i = 0; i < Windows; i++)
        {
            var row = new ECPoint[EntriesPerWindow];
            row[0] = windowBase;
            for (int j = 1; j < EntriesPerWindow; j++)
                row[j] = row[j - 1].Add(windowBase);
            var nextBase = row[EntriesPerWindow - 1].Add(windowBase);
            curve.NormalizeAll(row);
            _table[i] = row;
            windowBase = nextBase.Normalize();
        }
    }

    /// <summary>k·G for 0 &lt; k &lt; 2^256. The result is in Jacobian coordinates; normalise before reading it.</summary>
    public ECPoint Multiply(BigInteger k)
    {
        if (k.SignValue <= 0 || k.BitLength > 256)
            throw new ArgumentOutOfRangeException(nameof(k), "The scalar must be in [1, 2^256).");

        Span<byte> bytes = stackalloc byte[32];
        BigIntegers.AsUnsignedByteArray(k, bytes);
        return Multiply(bytes);
    }

    /// <summary>k·G for a 32-byte big-endian scalar.</summary>
    public ECPoint Multiply(ReadOnlySpan<byte> scalar32)
    {
        ECPoint? acc = null;
        for (int i = 0; i < Windows; i++)
        {
            int digit = scalar32[31 - i];
            if (digit == 0)
                continue;
            var p = _table[i][digit - 1];
            acc = acc is null ? p : acc.Add(p);
        }
        return acc ?? throw new ArgumentOutOfRangeException(nameof(scalar32), "The scalar must not be zero.");
    }
}
