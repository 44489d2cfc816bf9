using System.Globalization;
using System.Text;

namespace EdgeMeter.Protocols.Dlms;

/// <summary>One data line of an IEC 62056-21 readout: <c>1.8.0(0012345.678*kWh)</c>.</summary>
public sealed record ModeCValue(ObisCode Obis, string Address, string Text, decimal? Number, string Unit);

/// <summary>A parsed IEC 62056-21 (mode C) data readout: the identification line and every data line.</summary>
public sealed record ModeCReadout(string Manufacturer, char BaudRateCharacter, string Identification, IReadOnlyList<ModeCValue> Values)
{
    /// <summary>Start of text.</summary>
    public const byte Stx = 0x02;

    /// <summary>End of text.</summary>
    public const byte Etx = 0x03;

    /// <summary>The largest telegram accepted (a full readout of a large meter is a few kilobytes).</summary>
    public const int MaxLength = 64 * 1024;

    /// <summary>
    /// Parses <c>/XXXZident CR LF STX data-lines ! CR LF ETX BCC</c>. The block check character (XOR of every byte
    /// after STX up to and including ETX) must match. Throws <see cref="DlmsException"/> for anything malformed.
    /// </summary>
    public static ModeCReadout Parse(ReadOnlySpan<byte> telegram)
    {
        if (telegram.Length > MaxLength)
        {
            throw new DlmsException($"mode C telegram of {telegram.Length} bytes exceeds {MaxLength}");
        }

        if (telegram.Length < 6 || telegram[0] != (byte)'/')
        {
            throw new DlmsException("mode C telegram does not start with the identification '/'");
        }

        int eol = telegram.IndexOf("\r\n"u8);
        if (eol < 5)
        {
            throw new DlmsException("mode C identification line has no CR LF or is too short");
        }

        var ident = telegram[1..eol];
        foreach (byte b in ident)
        {
            if (b is < 0x20 or > 0x7E)
            {
                throw new DlmsException("mode C identification holds a non-printable byte");
            }
        }

        string manufacturer = Encoding.ASCII.GetString(ident[..3]);
        char baud = (char)ident[3];
        string identification = Encoding.ASCII.GetString(ident[4..]);
        var rest = telegram[(eol + 2)..];
        if (rest.IsEmpty || rest[0] != Stx)
        {
            throw new DlmsException("mode C data block does not start with STX");
        }

        int etx = rest.IndexOf(Etx);
        if (etx < 0 || etx + 2 != rest.Length)
        {
            throw new DlmsException("mode C data block does not end with ETX and the block check character");
        }

        byte bcc = 0;
        foreach (byte b in rest[1..(etx + 1)])
        {
            bcc ^= b;
        }

        if (bcc != rest[etx + 1])
        {
            throw new DlmsException($"mode C block check character 0x{rest[etx + 1]:X2}, computed 0x{bcc:X2}");
        }

        var data = rest[1..etx];
        var values = new List<ModeCValue>();
        bool ended = false;
        while (!data.IsEmpty)
        {
            int lineEnd = data.IndexOf("\r\n"u8);
            if (lineEnd < 0)
            {
                throw new DlmsException("mode C data line without CR LF");
            }

            var line = data[..lineEnd];
            data = data[(lineEnd + 2)..];
            if (ended)
            {
                throw new DlmsException("mode C data after the end line '!'");
            }

            if (line.SequenceEqual("!"u8))
            {
                ended = true;
                continue;
            }

            ParseLine(line, values);
        }

        if (!ended)
        {
            throw new DlmsException("mode C data block has no end line '!'");
        }

        return new ModeCReadout(manufacturer, baud, identification, values);
    }

    /// <summary>The block check character of a data block (bytes after STX up to and including ETX).</summary>
    public static byte BlockCheck(ReadOnlySpan<byte> afterStxIncludingEtx)
    {
        byte bcc = 0;
        foreach (byte b in afterStxIncludingEtx)
        {
            bcc ^= b;
        }

        return bcc;
    }

    private static void ParseLine(ReadOnlySpan<byte> line, List<ModeCValue> values)
    {
        int open = line.IndexOf((byte)'(');
        if (open <= 0 || line[^1] != (byte)')')
        {
            throw new DlmsException($"mode C data line '{Printable(line)}' is not ADDRESS(VALUE)");
        }

        string address = Encoding.ASCII.GetString(line[..open]);
        var obis = ParseAddress(address) ?? throw new DlmsException($"mode C address '{address}' is not an OBIS code");

        // Several value groups may follow one address, e.g. a maximum demand with its time stamp: keep each.
        var groups = line[open..];
        while (!groups.IsEmpty)
        {
            if (groups[0] != (byte)'(')
            {
                throw new DlmsException($"mode C data line '{Printable(line)}' has text between value groups");
            }

            int close = groups.IndexOf((byte)')');
            if (close < 0)
            {
                throw new DlmsException($"mode C data line '{Printable(line)}' has an unclosed value group");
            }

            var inner = groups[1..close];
            if (inner.IndexOf((byte)'(') >= 0)
            {
                throw new DlmsException($"mode C data line '{Printable(line)}' has a nested parenthesis");
            }

            foreach (byte b in inner)
            {
                if (b is < 0x20 or > 0x7E)
                {
                    throw new DlmsException("mode C value holds a non-printable byte");
                }
            }

            string text = Encoding.ASCII.GetString(inner);
            int star = text.IndexOf('*', StringComparison.Ordinal);
            string number = star < 0 ? text : text[..star];
            string unit = star < 0 ? "" : text[(star + 1)..];
            decimal? value = number.Length > 0 && number.Length <= 30 &&
                decimal.TryParse(number, NumberStyles.AllowLeadingSign | NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out decimal d) ? d : null;
            values.Add(new ModeCValue(obis, address, number, value, unit));
            groups = groups[(close + 1)..];
        }
    }

    /// <summary>
    /// Reads the address forms meters print: <c>1.8.0</c>, <c>1.8.0*255</c>, <c>1-0:1.8.0</c>, <c>1-0:1.8.0*255</c>,
    /// <c>0.9.1</c>, and the letter groups C, F, L, P (96, 97, 98, 99), e.g. <c>C.1.0</c> or <c>F.F</c>.
    /// </summary>
    public static ObisCode? ParseAddress(string address)
    {
        ArgumentNullException.ThrowIfNull(address);
        var text = new StringBuilder(address.Length + 4);
        foreach (char c in address)
        {
            text.Append(c switch
            {
                'C' => "96",
                'F' => "97",
                'L' => "98",
                'P' => "99",
                _ => c.ToString(),
            });
        }

        string s = text.ToString();
        if (s.Split('.').Length == 2 && !s.Contains(':', StringComparison.Ordinal))
        {
            s += ".0"; // F.F -> 97.97.0 (C.D with E = 0)
        }

        if (!s.Contains(':', StringComparison.Ordinal) && s.Contains('*', StringComparison.Ordinal))
        {
            s = "1-0:" + s;
        }

        if (ObisCode.TryParse(s, out var obis))
        {
            // The short form C.D.E names electricity (A=1) unless C is one of the abstract groups (C = 0 or 96..99).
            return !address.Contains(':', StringComparison.Ordinal) && obis.C is 0 or >= 96 ? obis with { A = 0 } : obis;
        }

        return null;
    }

    private static string Printable(ReadOnlySpan<byte> line)
    {
        var sb = new StringBuilder(Math.Min(line.Length, 60));
        foreach (byte b in line[..Math.Min(line.Length, 60)])
        {
            sb.Append(b is >= 0x20 and <= 0x7E ? (char)b : '?');
        }

        return sb.ToString();
    }
}
