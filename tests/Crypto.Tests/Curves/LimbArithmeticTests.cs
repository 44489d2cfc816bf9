using CsCheck;
using EdgeMeter.Crypto.Curves;
using Org.BouncyCastle.Math;
using Org.BouncyCastle.Utilities;

namespace EdgeMeter.Crypto.Tests.Curves;

/// <summary>
/// The fixed-limb field (mod p) and scalar (mod n) arithmetic against BouncyCastle's BigInteger, on random
/// values and on the values next to 0, p, n and 2^256 where carries and reductions go wrong first.
/// </summary>
public class LimbArithmeticTests
{
    private static readonly BigInteger P = new("FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEFFFFFC2F", 16);
    private static readonly BigInteger N = new("FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141", 16);

    private static readonly Gen<BigInteger> FieldValues = Gen.OneOf(
        Gen.Byte.Array[32].Select(b => new BigInteger(1, b).Mod(P)),
        Gen.Int[0, 40].Select(i => BigInteger.ValueOf(i)),
        Gen.Int[1, 40].Select(i => P.Subtract(BigInteger.ValueOf(i))),
        Gen.Int[0, 255].Select(i => BigInteger.One.ShiftLeft(i)),
        Gen.Int[1, 255].Select(i => BigInteger.One.ShiftLeft(i).Subtract(BigInteger.One).Mod(P)));

    private static readonly Gen<BigInteger> ScalarValues = Gen.OneOf(
        Gen.Byte.Array[32].Select(b => new BigInteger(1, b).Mod(N)),
        Gen.Int[0, 40].Select(i => BigInteger.ValueOf(i)),
        Gen.Int[1, 40].Select(i => N.Subtract(BigInteger.ValueOf(i))),
        Gen.Int[1, 40].Select(i => N.ShiftRight(1).Add(BigInteger.ValueOf(i - 20))),
        Gen.Int[1, 255].Select(i => BigInteger.One.ShiftLeft(i).Subtract(BigInteger.One).Mod(N)));

    [Fact]
    public void Field_add_sub_mul_sqr_match_BigInteger_mod_p()
    {
        Gen.Select(FieldValues, FieldValues).Sample((a, b) =>
        {
            var fa = Fe(a);
            var fb = Fe(b);
            Assert.Equal(a.Add(b).Mod(P), Big(FieldElement.Add(fa, fb)));
            Assert.Equal(a.Subtract(b).Mod(P), Big(FieldElement.Sub(fa, fb)));
            Assert.Equal(a.Multiply(b).Mod(P), Big(FieldElement.Mul(fa, fb)));
            Assert.Equal(a.Multiply(a).Mod(P), Big(FieldElement.Sqr(fa)));
            Assert.Equal(a.Negate().Mod(P), Big(FieldElement.Negate(fa)));
            Assert.Equal(a.Multiply(BigInteger.ValueOf(21)).Mod(P), Big(FieldElement.MulSmall(fa, 21)));
        }, iter: 2000);
    }

    [Fact]
    public void Field_inverse_and_square_root_match_BigInteger()
    {
        FieldValues.Sample(a =>
        {
            var fa = Fe(a);
            var expected = a.SignValue == 0 ? BigInteger.Zero : a.ModInverse(P);
            Assert.Equal(expected, Big(FieldElement.InvertVariableTime(fa)));
            Assert.Equal(expected, Big(FieldElement.InvertBlinded(fa, Fe(BigInteger.ValueOf(0x1234567)))));
            bool isSquare = a.SignValue == 0 || a.ModPow(P.Subtract(BigInteger.One).ShiftRight(1), P).Equals(BigInteger.One);
            Assert.Equal(isSquare, FieldElement.TrySqrt(fa, out var root));
            if (isSquare)
                Assert.Equal(a, Big(root).Multiply(Big(root)).Mod(P));
        }, iter: 300);
    }

    [Fact]
    public void Field_reads_reject_p_and_above_and_keep_values_below()
    {
        Assert.False(FieldElement.TryRead(BigIntegers.AsUnsignedByteArray(32, P), out var zero));
        Assert.Equal(BigInteger.Zero, Big(zero));
        Assert.True(FieldElement.TryRead(BigIntegers.AsUnsignedByteArray(32, P.Subtract(BigInteger.One)), out var top));
        Assert.Equal(P.Subtract(BigInteger.One), Big(top));
    }

    [Fact]
    public void Scalar_add_mul_negate_invert_match_BigInteger_mod_n()
    {
        Gen.Select(ScalarValues, ScalarValues).Sample((a, b) =>
        {
            var sa = Sc(a);
            var sb = Sc(b);
            Assert.Equal(a.Add(b).Mod(N), Big(Scalar.Add(sa, sb)));
            Assert.Equal(a.Multiply(b).Mod(N), Big(Scalar.Mul(sa, sb)));
            Assert.Equal(a.Negate().Mod(N), Big(Scalar.Negate(sa)));
            Assert.Equal(a.CompareTo(N.ShiftRight(1)) > 0 ? ulong.MaxValue : 0UL, sa.HighMask);
        }, iter: 2000);
        ScalarValues.Sample(a =>
        {
            var expected = a.SignValue == 0 ? BigInteger.Zero : a.ModInverse(N);
            Assert.Equal(expected, Big(Scalar.InvertVariableTime(Sc(a))));
            Assert.Equal(expected, Big(Scalar.InvertBlinded(Sc(a), Sc(N.Subtract(BigInteger.Three)))));
        }, iter: 200);
    }

    [Fact]
    public void Scalar_reads_reduce_n_and_above_and_report_the_overflow()
    {
        var fromN = Scalar.Read(BigIntegers.AsUnsignedByteArray(32, N), out ulong overflow);
        Assert.Equal(1UL, overflow);
        Assert.Equal(BigInteger.Zero, Big(fromN));
        var max = new byte[32];
        max.AsSpan().Fill(0xff);
        var fromMax = Scalar.Read(max, out overflow);
        Assert.Equal(1UL, overflow);
        Assert.Equal(new BigInteger(1, max).Subtract(N), Big(fromMax));
        Scalar.Read(BigIntegers.AsUnsignedByteArray(32, N.Subtract(BigInteger.One)), out overflow);
        Assert.Equal(0UL, overflow);
    }

    private static FieldElement Fe(BigInteger v)
    {
        Assert.True(FieldElement.TryRead(BigIntegers.AsUnsignedByteArray(32, v), out var r));
        return r;
    }

    private static Scalar Sc(BigInteger v)
    {
        var r = Scalar.Read(BigIntegers.AsUnsignedByteArray(32, v), out ulong overflow);
        Assert.Equal(0UL, overflow);
        return r;
    }

    private static BigInteger Big(FieldElement f)
    {
        var bytes = new byte[32];
        f.Write(bytes);
        return new BigInteger(1, bytes);
    }

    private static BigInteger Big(Scalar s)
    {
        var bytes = new byte[32];
        s.Write(bytes);
        return new BigInteger(1, bytes);
    }
}
