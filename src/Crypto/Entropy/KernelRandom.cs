using System.Runtime.InteropServices;

namespace EdgeMeter.Crypto.Entropy;

/// <summary>
/// Cryptographically secure random bytes straight from the kernel (getrandom(2), blocking only until the pool is
/// first seeded at boot). The platform's <see cref="System.Security.Cryptography.RandomNumberGenerator"/> is OpenSSL's
/// RAND_bytes on Linux, and the first call maps libssl and libcrypto for good: about 3.7 MB of resident memory that a
/// gateway without TLS does not otherwise need. The kernel's generator is what OpenSSL seeds itself from.
/// </summary>
public static partial class KernelRandom
{
    private const int EINTR = 4;

    /// <summary>Fills <paramref name="data"/> with random bytes.</summary>
    /// <exception cref="IOException">The kernel refused (for example a seccomp filter without getrandom).</exception>
    public static unsafe void Fill(Span<byte> data)
    {
        fixed (byte* start = data)
        {
            int done = 0;
            while (done < data.Length)
            {
                // At most 32 MiB per call; a call for up to 256 bytes is never cut short once the pool is seeded.
                nint got = GetRandom(start + done, (nuint)Math.Min(data.Length - done, 1 << 25), 0);
                if (got < 0)
                {
                    int errno = Marshal.GetLastPInvokeError();
                    if (errno == EINTR)
                        continue;
                    throw new IOException($"getrandom failed: {Marshal.GetPInvokeErrorMessage(errno)} (errno {errno})");
                }
                done += (int)got;
            }
        }
    }

    /// <summary>A new array of <paramref name="count"/> random bytes.</summary>
    public static byte[] GetBytes(int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        var bytes = new byte[count];
        Fill(bytes);
        return bytes;
    }

    /// <summary>A uniform integer in [<paramref name="fromInclusive"/>, <paramref name="toExclusive"/>), without modulo bias.</summary>
    public static int GetInt32(int fromInclusive, int toExclusive)
    {
        if (fromInclusive >= toExclusive)
            throw new ArgumentException("the range is empty");
        uint range = (uint)(toExclusive - fromInclusive);
        // Reject the top partial copy of the range so every value is equally likely.
        uint limit = uint.MaxValue - (uint.MaxValue % range + 1) % range;
        Span<byte> raw = stackalloc byte[4];
        while (true)
        {
            Fill(raw);
            uint value = System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(raw);
            if (value <= limit)
                return (int)(fromInclusive + value % range);
        }
    }

    [LibraryImport("libc", EntryPoint = "getrandom", SetLastError = true)]
    private static unsafe partial nint GetRandom(byte* buffer, nuint length, uint flags);
}
