using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using EdgeMeter.Crypto.Curves;
using Org.BouncyCastle.Math;

namespace EdgeMeter.Benchmarks.Timing;

/// <summary>
/// A dudect-style timing-leak test (Reparaz, Balasch, Verbauwhede, "Dude, is my code constant time?", 2017):
/// time one operation on two classes of secret input, a fixed scalar and fresh random scalars, interleaved
/// in random order, and compare the two timing distributions with Welch's t-test. |t| above 4.5 means the
/// time depends on the secret; below it, no leak was found at this number of measurements. As dudect does,
/// the test is repeated on the measurements below several percentiles (to drop interrupts and preemption)
/// and the largest |t| is reported.
/// Run pinned to one core: <c>taskset -c 0 dotnet run -c Release --project tests/Benchmarks -- timing [samples]</c>
/// </summary>
internal static class TimingLeakTest
{
    private const double Threshold = 4.5;
    private static readonly double[] Percentiles = [1.0, 0.99, 0.9, 0.75, 0.5];

    public static int Run(int samples)
    {
        // The fixed class: a nonce whose top 64 bits are zero, the short-nonce case of Minerva and TPM-Fail.
        var fixedBytes = Convert.FromHexString("00000000000000004f3a9c1d2e7b6a5948372615a4b3c2d1e0f1e2d3c4b5a697");
        Console.WriteLine($"dudect-style timing test: {samples:N0} measurements per target, fixed class = a 192-bit scalar, |t| > {Threshold} is a leak");
        bool newLeaks = false, oldLeaks = true;
        newLeaks |= Report("k·G for signing (constant-time, src/Crypto)", samples, fixedBytes, (in Scalar k, ReadOnlySpan<byte> unused) => FixedBaseMultiplier.Multiply(k, out _, out _));
        newLeaks |= Report("key derivation d·G → public key (constant-time)", samples, fixedBytes, (in Scalar d, ReadOnlySpan<byte> unused) =>
        {
            Span<byte> publicKey = stackalloc byte[65];
            Secp256k1.PublicKeyOf(d, publicKey);
        });
        oldLeaks &= Report("k·G for signing (previous table multiplier)", samples, fixedBytes, (in Scalar _, ReadOnlySpan<byte> k) => LegacyFixedBaseMultiplier.Shared.Multiply(k).Normalize());
        oldLeaks &= Report("key derivation d·G → public key (previous)", samples, fixedBytes, (in Scalar _, ReadOnlySpan<byte> d) =>
            LegacyFixedBaseMultiplier.Shared.Multiply(new BigInteger(1, d.ToArray())).Normalize().GetEncoded(false));
        Console.WriteLine(newLeaks ? "RESULT: the constant-time code shows a leak" : "RESULT: no leak in the constant-time code");
        Console.WriteLine(oldLeaks ? "RESULT: the previous code leaks, as expected" : "RESULT: the leak in the previous code was not found at this sample size");
        return newLeaks || !oldLeaks ? 1 : 0;
    }

    private delegate void Operation(in Scalar scalar, ReadOnlySpan<byte> bytes);

    private static bool Report(string name, int samples, byte[] fixedBytes, Operation operation)
    {
        var classes = new byte[samples];
        var inputs = new byte[samples * 32];
        RandomNumberGenerator.Fill(classes);
        for (int i = 0; i < samples; i++)
        {
            var input = inputs.AsSpan(i * 32, 32);
            if ((classes[i] & 1) == 0)
            {
                fixedBytes.CopyTo(input);
                continue;
            }
            do
                RandomNumberGenerator.Fill(input);
            while (!Secp256k1.IsValidPrivateKey(input));
        }

        // Warm up: tables built, code compiled.
        for (int i = 0; i < Math.Min(samples, 2000); i++)
            Measure(operation, inputs.AsSpan(i * 32, 32));

        var times = new long[samples];
        for (int i = 0; i < samples; i++)
            times[i] = Measure(operation, inputs.AsSpan(i * 32, 32));

        var sorted = (long[])times.Clone();
        Array.Sort(sorted);
        double worst = 0;
        var parts = new List<string>();
        foreach (double p in Percentiles)
        {
            long cut = sorted[Math.Min(samples - 1, (int)(p * (samples - 1)))];
            double t = WelchT(times, classes, cut, out double meanFixed, out double meanRandom);
            worst = Math.Max(worst, Math.Abs(t));
            parts.Add(string.Create(CultureInfo.InvariantCulture, $"p{p * 100:F0} t={t:F1}"));
            if (p == 1.0)
                parts.Add(string.Create(CultureInfo.InvariantCulture, $"mean fixed {meanFixed / 1000:F1} µs, random {meanRandom / 1000:F1} µs"));
        }
        bool leak = worst > Threshold;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{name}: max |t| = {worst:F1} → {(leak ? "LEAK" : "no leak found")} ({string.Join(", ", parts)})"));
        return leak;
    }

    private static long Measure(Operation operation, ReadOnlySpan<byte> input)
    {
        var scalar = Scalar.Read(input, out _);
        long start = Stopwatch.GetTimestamp();
        operation(scalar, input);
        return (long)((Stopwatch.GetTimestamp() - start) * (1e9 / Stopwatch.Frequency));
    }

    // Welch's t between the two classes over the measurements at or below the cut.
    private static double WelchT(long[] times, byte[] classes, long cut, out double meanFixed, out double meanRandom)
    {
        double n0 = 0, n1 = 0, m0 = 0, m1 = 0, s0 = 0, s1 = 0;
        for (int i = 0; i < times.Length; i++)
        {
            if (times[i] > cut)
                continue;
            double x = times[i];
            // Welford's running mean and sum of squared deviations, per class.
            if ((classes[i] & 1) == 0)
            {
                n0++;
                double d = x - m0;
                m0 += d / n0;
                s0 += d * (x - m0);
            }
            else
            {
                n1++;
                double d = x - m1;
                m1 += d / n1;
                s1 += d * (x - m1);
            }
        }
        meanFixed = m0;
        meanRandom = m1;
        double v0 = s0 / (n0 - 1), v1 = s1 / (n1 - 1);
        return (m0 - m1) / Math.Sqrt(v0 / n0 + v1 / n1);
    }
}
