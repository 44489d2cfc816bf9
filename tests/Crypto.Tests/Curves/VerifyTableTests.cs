using System.Numerics;
using EdgeMeter.Crypto.Curves;

namespace EdgeMeter.Crypto.Tests.Curves;

/// <summary>
/// Verification adds e·G/s from G's 10-bit table (26 signed digits of up to 512); it must give exactly the point the
/// signing multiplier (7-bit constant-time table, another recoding) gives, above all where a digit carries.
/// </summary>
public class VerifyTableTests
{
    private static readonly BigInteger N = BigInteger.Parse("0FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141", System.Globalization.NumberStyles.HexNumber);

    public static TheoryData<string> EdgeScalars()
    {
        var data = new TheoryData<string>();
        foreach (var k in EdgeValues())
            data.Add(k.ToString("x", System.Globalization.CultureInfo.InvariantCulture));
        return data;
    }

    /// <summary>Scalars in [1, n) where the 10-bit signed recoding has its edges (also for <see cref="AffineLanesTests"/>).</summary>
    internal static List<BigInteger> EdgeValues()
    {
        var data = new List<BigInteger>();
        var seen = new HashSet<BigInteger>();
        void Add(BigInteger k)
        {
            k = ((k % N) + N) % N;
            if (!k.IsZero && seen.Add(k))
                data.Add(k);
        }
        // Digit values at and around the signed-digit boundary (511, 512, 513) and the window edge (1023, 1024), in
        // every 10-bit window, alone and with a carry coming in from below.
        for (int window = 0; window < 26; window++)
        {
            var b = BigInteger.One << (10 * window);
            foreach (var m in new[] { 1, 2, 511, 512, 513, 1023 })
            {
                Add(m * b);
                Add(m * b + (b >> 1));
                Add(m * b - 1);
            }
        }
        Add(N - 1);
        Add(N - 2);
        Add(N - 512);
        Add((N - 1) / 2);
        Add((BigInteger.One << 255) - 1);
        var random = new Random(20261201);
        var bytes = new byte[33];
        for (int i = 0; i < 64; i++)
        {
            random.NextBytes(bytes.AsSpan(0, 32));
            bytes[32] = 0;
            Add(new BigInteger(bytes));
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(EdgeScalars))]
    public void The_10_bit_verification_table_gives_the_signing_multipliers_point(string hex)
    {
        var k = ScalarOf(BigInteger.Parse("0" + hex, System.Globalization.NumberStyles.HexNumber));

        var acc = JacobianPoint.Infinity;
        FixedBaseMultiplier.AddMultiplePublic(ref acc, FixedBaseMultiplier.GVerifyTable, k, FixedBaseMultiplier.VerifyWindowBits);
        Assert.True(acc.TryToAffine(out var x, out var y));

        FixedBaseMultiplier.Multiply(k, out var expectedX, out var expectedY);
        Assert.Equal((expectedX.L0, expectedX.L1, expectedX.L2, expectedX.L3), (x.L0, x.L1, x.L2, x.L3));
        Assert.Equal((expectedY.L0, expectedY.L1, expectedY.L2, expectedY.L3), (y.L0, y.L1, y.L2, y.L3));
    }

    [Fact]
    public void The_10_bit_table_holds_26_windows_of_512_points()
    {
        Assert.Equal(26 * 512 * 8, FixedBaseMultiplier.GVerifyTable.Length);
        // Its first entry is G itself.
        Assert.Equal(Secp256k1.Gx.L0, FixedBaseMultiplier.GVerifyTable[0]);
        Assert.Equal(Secp256k1.Gy.L3, FixedBaseMultiplier.GVerifyTable[7]);
    }

    internal static Scalar ScalarOf(BigInteger k)
    {
        var bytes = new byte[32];
        var big = k.ToByteArray(isUnsigned: true, isBigEndian: true);
        big.CopyTo(bytes.AsSpan(32 - big.Length));
        var s = Scalar.Read(bytes, out ulong overflow);
        Assert.Equal(0UL, overflow);
        return s;
    }
}
