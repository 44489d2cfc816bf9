using System.Globalization;

namespace EdgeMeter.Protocols.Dlms;

/// <summary>
/// A COSEM logical name (OBIS code, IEC 62056-6-1): six value groups A.B.C.D.E.F, written <c>1.0.1.8.0.255</c>.
/// </summary>
public readonly record struct ObisCode(byte A, byte B, byte C, byte D, byte E, byte F)
{
    /// <summary>The clock object 0.0.1.0.0.255.</summary>
    public static ObisCode Clock { get; } = new(0, 0, 1, 0, 0, 255);

    /// <summary>The current association LN object 0.0.40.0.0.255.</summary>
    public static ObisCode CurrentAssociation { get; } = new(0, 0, 40, 0, 0, 255);

    /// <summary>Reads the six bytes of a logical name.</summary>
    public static ObisCode FromBytes(ReadOnlySpan<byte> six)
    {
        if (six.Length != 6)
        {
            throw new DlmsException($"a logical name has 6 bytes, got {six.Length}");
        }

        return new ObisCode(six[0], six[1], six[2], six[3], six[4], six[5]);
    }

    /// <summary>Writes the six bytes into <paramref name="destination"/>.</summary>
    public void WriteTo(Span<byte> destination)
    {
        destination[0] = A;
        destination[1] = B;
        destination[2] = C;
        destination[3] = D;
        destination[4] = E;
        destination[5] = F;
    }

    /// <summary>
    /// Parses <c>A.B.C.D.E.F</c>; also accepts the IEC form <c>A-B:C.D.E*F</c> and, like most meters' labels,
    /// a short form without F (which is then 255) or without A-B (then 1-0, electricity).
    /// </summary>
    public static bool TryParse(ReadOnlySpan<char> text, out ObisCode code)
    {
        code = default;
        Span<byte> groups = stackalloc byte[6];
        int count = 0;
        int start = 0;
        bool sawColon = false;
        for (int i = 0; i <= text.Length; i++)
        {
            if (i < text.Length && char.IsAsciiDigit(text[i]))
            {
                continue;
            }

            if (i < text.Length && text[i] is not ('.' or '-' or ':' or '*' or '&'))
            {
                return false;
            }

            if (count == 6 || !byte.TryParse(text[start..i], NumberStyles.None, CultureInfo.InvariantCulture, out groups[count]))
            {
                return false;
            }

            count++;
            if (i < text.Length && text[i] == ':')
            {
                if (count != 2)
                {
                    return false;
                }

                sawColon = true;
            }

            start = i + 1;
        }

        switch (count)
        {
            case 6:
                code = new ObisCode(groups[0], groups[1], groups[2], groups[3], groups[4], groups[5]);
                return true;
            case 5 when sawColon:
                code = new ObisCode(groups[0], groups[1], groups[2], groups[3], groups[4], 255);
                return true;
            case 3 when !sawColon:
                code = new ObisCode(1, 0, groups[0], groups[1], groups[2], 255);
                return true;
            default:
                return false;
        }
    }

    /// <summary>Parses or throws <see cref="FormatException"/>.</summary>
    public static ObisCode Parse(string text) =>
        TryParse(text, out var code) ? code : throw new FormatException($"'{text}' is not an OBIS code (A.B.C.D.E.F)");

    /// <inheritdoc/>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{A}.{B}.{C}.{D}.{E}.{F}");
}
