using EdgeMeter.Crypto.Entropy;

namespace EdgeMeter.Crypto.Tests.Entropy;

public class KernelRandomTests
{
    [Fact]
    public void Fills_every_byte_of_a_large_buffer_with_evenly_spread_values()
    {
        var data = new byte[1 << 20];
        KernelRandom.Fill(data);

        var counts = new int[256];
        foreach (var b in data)
            counts[b]++;
        // 4096 expected per value; a chi-square over 255 degrees of freedom beyond 400 has odds below 1e-8.
        double chi = counts.Sum(c => (c - 4096.0) * (c - 4096.0) / 4096.0);
        Assert.InRange(chi, 0, 400);
        Assert.NotEqual(KernelRandom.GetBytes(32), KernelRandom.GetBytes(32));
    }

    [Fact]
    public void Integers_stay_in_range_and_reach_both_ends()
    {
        var seen = new HashSet<int>();
        for (int i = 0; i < 2000; i++)
        {
            int n = KernelRandom.GetInt32(-3, 4);
            Assert.InRange(n, -3, 3);
            seen.Add(n);
        }
        Assert.Equal(7, seen.Count);
        Assert.Equal(5, KernelRandom.GetInt32(5, 6));
        Assert.Throws<ArgumentException>(() => KernelRandom.GetInt32(6, 6));
    }
}
