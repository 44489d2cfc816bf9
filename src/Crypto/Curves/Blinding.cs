using EdgeMeter.Crypto.Entropy;

namespace EdgeMeter.Crypto.Curves;

/// <summary>Fresh uniformly random non-zero factors from the OS CSPRNG, to blind a secret before a variable-time step.</summary>
internal static class Blinding
{
    public static FieldElement NextFieldElement()
    {
        Span<byte> bytes = stackalloc byte[32];
        while (true)
        {
            KernelRandom.Fill(bytes);
            if (FieldElement.TryRead(bytes, out var f) && f.ZeroMask == 0)
                return f;
        }
    }

    public static Scalar NextScalar()
    {
        Span<byte> bytes = stackalloc byte[32];
        while (true)
        {
            KernelRandom.Fill(bytes);
            var s = Scalar.Read(bytes, out ulong overflow);
            if ((overflow | (s.ZeroMask & 1)) == 0)
                return s;
        }
    }
}
