using System.Runtime.CompilerServices;
namespace EdgeMeter.Crypto.Curves;

/// <summary>
/// A point in Jacobian coordinates (x = X/Z², y = Y/Z³; Z = 0 is the point at infinity), with the usual
/// a = 0 doubling and addition formulas. These branch on the values (infinity, equal points), so they are
/// for public data only: verification, recovery, and building the fixed-base table from G.
/// </summary>
[SkipLocalsInit]
internal struct JacobianPoint
{
    public FieldElement X, Y, Z;

    public static JacobianPoint Infinity => new() { X = FieldElement.One, Y = FieldElement.One };

    public readonly bool IsInfinity => Z.ZeroMask != 0;

    public static JacobianPoint FromAffine(in FieldElement x, in FieldElement y) => new() { X = x, Y = y, Z = FieldElement.One };

    public static JacobianPoint Double(in JacobianPoint p)
    {
        if (p.IsInfinity || p.Y.ZeroMask != 0)
            return Infinity;
        var a = FieldElement.Sqr(p.X);
        var b = FieldElement.Sqr(p.Y);
        var c = FieldElement.Sqr(b);
        // d = 2·((X + B)² − A − C) = 4·X·Y²
        var d = FieldElement.Sub(FieldElement.Sub(FieldElement.Sqr(FieldElement.Add(p.X, b)), a), c);
        d = FieldElement.Add(d, d);
        var e = FieldElement.MulSmall(a, 3);
        var f = FieldElement.Sqr(e);
        JacobianPoint r;
        r.X = FieldElement.Sub(f, FieldElement.Add(d, d));
        r.Y = FieldElement.Sub(FieldElement.Mul(e, FieldElement.Sub(d, r.X)), FieldElement.MulSmall(c, 8));
        var yz = FieldElement.Mul(p.Y, p.Z);
        r.Z = FieldElement.Add(yz, yz);
        return r;
    }

    /// <summary>p + (x, y) for an affine point (x, y).</summary>
    public static JacobianPoint AddAffine(in JacobianPoint p, in FieldElement x, in FieldElement y)
    {
        if (p.IsInfinity)
            return FromAffine(x, y);
        var z1z1 = FieldElement.Sqr(p.Z);
        var u2 = FieldElement.Mul(x, z1z1);
        var s2 = FieldElement.Mul(y, FieldElement.Mul(p.Z, z1z1));
        var h = FieldElement.Sub(u2, p.X);
        var rr = FieldElement.Sub(s2, p.Y);
        if (h.ZeroMask != 0)
            return rr.ZeroMask != 0 ? Double(p) : Infinity;
        var hh = FieldElement.Sqr(h);
        var hhh = FieldElement.Mul(h, hh);
        var v = FieldElement.Mul(p.X, hh);
        JacobianPoint r;
        r.X = FieldElement.Sub(FieldElement.Sub(FieldElement.Sqr(rr), hhh), FieldElement.Add(v, v));
        r.Y = FieldElement.Sub(FieldElement.Mul(rr, FieldElement.Sub(v, r.X)), FieldElement.Mul(p.Y, hhh));
        r.Z = FieldElement.Mul(p.Z, h);
        return r;
    }

    public static JacobianPoint Add(in JacobianPoint p, in JacobianPoint q)
    {
        if (p.IsInfinity)
            return q;
        if (q.IsInfinity)
            return p;
        var z1z1 = FieldElement.Sqr(p.Z);
        var z2z2 = FieldElement.Sqr(q.Z);
        var u1 = FieldElement.Mul(p.X, z2z2);
        var u2 = FieldElement.Mul(q.X, z1z1);
        var s1 = FieldElement.Mul(p.Y, FieldElement.Mul(q.Z, z2z2));
        var s2 = FieldElement.Mul(q.Y, FieldElement.Mul(p.Z, z1z1));
        var h = FieldElement.Sub(u2, u1);
        var rr = FieldElement.Sub(s2, s1);
        if (h.ZeroMask != 0)
            return rr.ZeroMask != 0 ? Double(p) : Infinity;
        var hh = FieldElement.Sqr(h);
        var hhh = FieldElement.Mul(h, hh);
        var v = FieldElement.Mul(u1, hh);
        JacobianPoint r;
        r.X = FieldElement.Sub(FieldElement.Sub(FieldElement.Sqr(rr), hhh), FieldElement.Add(v, v));
        r.Y = FieldElement.Sub(FieldElement.Mul(rr, FieldElement.Sub(v, r.X)), FieldElement.Mul(s1, hhh));
        r.Z = FieldElement.Mul(FieldElement.Mul(p.Z, q.Z), h);
        return r;
    }

    public static JacobianPoint Negate(in JacobianPoint p) => new() { X = p.X, Y = FieldElement.Negate(p.Y), Z = p.Z };

    /// <summary>The affine coordinates; false for the point at infinity.</summary>
    public readonly bool TryToAffine(out FieldElement x, out FieldElement y)
    {
        if (IsInfinity)
        {
            x = y = default;
            return false;
        }
        var zi = FieldElement.InvertVariableTime(Z);
        var zi2 = FieldElement.Sqr(zi);
        x = FieldElement.Mul(X, zi2);
        y = FieldElement.Mul(Y, FieldElement.Mul(zi2, zi));
        return true;
    }
}
