using Org.BouncyCastle.Asn1.X9;
using Org.BouncyCastle.Crypto.EC;
using Org.BouncyCastle.Crypto.Parameters;
using Org.BouncyCastle.Math;
using Org.BouncyCastle.Math.EC;

namespace EdgeMeter.Crypto.Curves;

/// <summary>
/// secp256k1 domain, on BouncyCastle's custom <c>SecP256K1Curve</c> (its specialised field arithmetic,
/// several times faster than the generic Fp curve that <c>SecNamedCurves</c> returns).
/// </summary>
internal static class Secp256k1
{
    public static readonly X9ECParameters Parameters = CustomNamedCurves.GetByName("secp256k1");
    public static readonly ECCurve Curve = Parameters.Curve;
    public static readonly ECPoint G = Parameters.G;
    public static readonly BigInteger N = Parameters.N;
    public static readonly BigInteger HalfN = N.ShiftRight(1);
    public static readonly ECDomainParameters Domain = new(Curve, G, N, Parameters.H);

    /// <summary>True when <paramref name="d"/> is a valid private scalar, 0 &lt; d &lt; n.</summary>
    public static bool IsValidPrivateKey(BigInteger d) => d.SignValue > 0 && d.CompareTo(N) < 0;

    /// <summary>Writes the 65-byte uncompressed public key 04‖X‖Y of <paramref name="d"/>.</summary>
    public static byte[] PublicKeyOf(BigInteger d) => FixedBaseMultiplier.Shared.Multiply(d).Normalize().GetEncoded(false);
}
