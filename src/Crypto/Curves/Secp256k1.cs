namespace EdgeMeter.Crypto.Curves;

/// <summary>secp256k1 (SEC 2): y² = x³ + 7 over GF(2^256 − 2^32 − 977), generator G of prime order n.</summary>
internal static class Secp256k1
{
    /// <summary>The x coordinate of G.</summary>
    public static readonly FieldElement Gx = new(0x59F2815B16F81798, 0x029BFCDB2DCE28D9, 0x55A06295CE870B07, 0x79BE667EF9DCBBAC);

    /// <summary>The y coordinate of G.</summary>
    public static readonly FieldElement Gy = new(0x9C47D08FFB10D4B8, 0xFD17B448A6855419, 0x5DA4FBFC0E1108A8, 0x483ADA7726A3C465);

    /// <summary>True when the 32 big-endian bytes are a valid private scalar, 0 &lt; d &lt; n.</summary>
    public static bool IsValidPrivateKey(ReadOnlySpan<byte> secret32)
    {
        if (secret32.Length != 32)
            return false;
        var d = Scalar.Read(secret32, out ulong overflow);
        return (overflow | (d.ZeroMask & 1)) == 0;
    }

    /// <summary>Writes the 65-byte uncompressed public key 04‖X‖Y of d, in constant time.</summary>
    public static void PublicKeyOf(in Scalar d, Span<byte> publicKey65)
    {
        FixedBaseMultiplier.Multiply(d, out var x, out var y);
        publicKey65[0] = 0x04;
        x.Write(publicKey65[1..33]);
        y.Write(publicKey65[33..65]);
    }

    /// <summary>x³ + 7.</summary>
    public static FieldElement CurveRight(in FieldElement x) =>
        FieldElement.Add(FieldElement.Mul(FieldElement.Sqr(x), x), new FieldElement(7, 0, 0, 0));
}
