using System.Buffers;

namespace EdgeMeter.Protocols.Dlms;

/// <summary>The authentication of an association (mechanism name 2.16.756.5.8.2.x).</summary>
public enum DlmsAuthentication
{
    /// <summary>Lowest level security: no authentication (mechanism 0).</summary>
    None = 0,
    /// <summary>Low level security: a password (mechanism 1).</summary>
    Low = 1,
    /// <summary>High level security with GMAC (mechanism 5), security suite 0.</summary>
    HlsGmac = 5,
}

/// <summary>The xDLMS InitiateRequest carried in the AARQ user-information.</summary>
public readonly record struct InitiateRequest(uint ProposedConformance, ushort ClientMaxReceivePduSize)
{
    /// <summary>The tag of an InitiateRequest.</summary>
    public const byte Tag = 0x01;

    /// <summary>Encodes: tag, no dedicated key, default response-allowed, no QoS, version 6, conformance, max PDU.</summary>
    public byte[] Encode()
    {
        byte[] bytes = [Tag, 0, 0, 0, 6, 0x5F, 0x1F, 0x04, 0, 0, 0, 0, 0, 0];
        bytes[9] = (byte)(ProposedConformance >> 16);
        bytes[10] = (byte)(ProposedConformance >> 8);
        bytes[11] = (byte)ProposedConformance;
        bytes[12] = (byte)(ClientMaxReceivePduSize >> 8);
        bytes[13] = (byte)ClientMaxReceivePduSize;
        return bytes;
    }

    /// <summary>Decodes an InitiateRequest.</summary>
    public static InitiateRequest Decode(ReadOnlySpan<byte> data)
    {
        var reader = new AxdrReader(data);
        if (reader.ReadByte() != Tag)
        {
            throw new DlmsException("user-information is not an xDLMS InitiateRequest");
        }

        if (reader.ReadByte() != 0)
        {
            reader.ReadBytes(reader.ReadLength());
        }

        if (reader.ReadByte() != 0)
        {
            reader.ReadByte();
        }

        if (reader.ReadByte() != 0)
        {
            reader.ReadByte();
        }

        byte version = reader.ReadByte();
        if (version != 6)
        {
            throw new DlmsException($"DLMS version {version}, expected 6");
        }

        uint conformance = Acse.ReadConformance(ref reader);
        return new InitiateRequest(conformance, reader.ReadUInt16());
    }
}

/// <summary>The xDLMS InitiateResponse carried in the AARE user-information.</summary>
public readonly record struct InitiateResponse(uint NegotiatedConformance, ushort ServerMaxReceivePduSize)
{
    /// <summary>The tag of an InitiateResponse.</summary>
    public const byte Tag = 0x08;

    /// <summary>Encodes: tag, no QoS, version 6, conformance, max PDU, VAA name 0x0007 (LN).</summary>
    public byte[] Encode() =>
    [
        Tag, 0, 6, 0x5F, 0x1F, 0x04, 0, (byte)(NegotiatedConformance >> 16), (byte)(NegotiatedConformance >> 8), (byte)NegotiatedConformance,
        (byte)(ServerMaxReceivePduSize >> 8), (byte)ServerMaxReceivePduSize, 0x00, 0x07,
    ];

    /// <summary>Decodes an InitiateResponse; a ConfirmedServiceError becomes a <see cref="DlmsException"/>.</summary>
    public static InitiateResponse Decode(ReadOnlySpan<byte> data)
    {
        var reader = new AxdrReader(data);
        byte tag = reader.ReadByte();
        if (tag == 0x0E)
        {
            throw new DlmsException($"the server answered the InitiateRequest with a confirmed-service-error ({Convert.ToHexString(reader.Rest)})");
        }

        if (tag != Tag)
        {
            throw new DlmsException($"user-information tag 0x{tag:X2} is not an xDLMS InitiateResponse");
        }

        if (reader.ReadByte() != 0)
        {
            reader.ReadByte();
        }

        byte version = reader.ReadByte();
        if (version != 6)
        {
            throw new DlmsException($"DLMS version {version}, expected 6");
        }

        uint conformance = Acse.ReadConformance(ref reader);
        ushort maxPdu = reader.ReadUInt16();
        reader.ReadUInt16();
        return new InitiateResponse(conformance, maxPdu);
    }
}

/// <summary>An AARQ (association request), Logical Name referencing.</summary>
public sealed record AarqApdu(bool Ciphered, DlmsAuthentication Authentication, byte[]? CallingApTitle, byte[]? AuthenticationValue, byte[] UserInformation)
{
    /// <summary>The AARQ tag.</summary>
    public const byte Tag = 0x60;

    /// <summary>Encodes the AARQ.</summary>
    public byte[] Encode()
    {
        var body = new ArrayBufferWriter<byte>(128);
        Acse.WriteApplicationContext(body, 0xA1, Ciphered);
        if (CallingApTitle is not null)
        {
            Acse.WriteWrappedOctets(body, 0xA6, 0x04, CallingApTitle);
        }

        if (Authentication != DlmsAuthentication.None)
        {
            body.Write<byte>([0x8A, 0x02, 0x07, 0x80]);
            Acse.WriteMechanism(body, 0x8B, Authentication);
            Acse.WriteWrappedOctets(body, 0xAC, 0x80, AuthenticationValue ?? []);
        }

        Acse.WriteWrappedOctets(body, 0xBE, 0x04, UserInformation);
        return Acse.Wrap(Tag, body.WrittenSpan);
    }

    /// <summary>Decodes an AARQ (the server side).</summary>
    public static AarqApdu Decode(ReadOnlySpan<byte> apdu)
    {
        bool ciphered = false;
        var authentication = DlmsAuthentication.None;
        byte[]? title = null;
        byte[]? value = null;
        byte[]? user = null;
        bool sawContext = false;
        foreach (var (tag, content) in Acse.Fields(apdu, Tag))
        {
            switch (tag)
            {
                case 0xA1:
                    ciphered = Acse.ReadApplicationContext(content);
                    sawContext = true;
                    break;
                case 0xA6:
                    title = Acse.ReadWrappedOctets(content, 0x04);
                    break;
                case 0x8B:
                    authentication = Acse.ReadMechanism(content);
                    break;
                case 0xAC:
                    value = Acse.ReadWrappedOctets(content, 0x80);
                    break;
                case 0xBE:
                    user = Acse.ReadWrappedOctets(content, 0x04);
                    break;
            }
        }

        if (!sawContext || user is null)
        {
            throw new DlmsException("AARQ without application context or user-information");
        }

        return new AarqApdu(ciphered, authentication, title, value, user);
    }
}

/// <summary>An AARE (association response).</summary>
public sealed record AareApdu(
    bool Ciphered,
    AssociationResult Result,
    byte DiagnosticSource,
    byte Diagnostic,
    byte[]? RespondingApTitle,
    DlmsAuthentication Authentication,
    byte[]? AuthenticationValue,
    byte[]? UserInformation)
{
    /// <summary>The AARE tag.</summary>
    public const byte Tag = 0x61;

    /// <summary>Encodes the AARE in the field order meters use.</summary>
    public byte[] Encode()
    {
        var body = new ArrayBufferWriter<byte>(128);
        Acse.WriteApplicationContext(body, 0xA1, Ciphered);
        body.Write<byte>([0xA2, 0x03, 0x02, 0x01, (byte)Result]);
        body.Write<byte>([0xA3, 0x05, (byte)(0xA0 | DiagnosticSource), 0x03, 0x02, 0x01, Diagnostic]);
        if (RespondingApTitle is not null)
        {
            Acse.WriteWrappedOctets(body, 0xA4, 0x04, RespondingApTitle);
        }

        body.Write<byte>([0xA7, 0x03, 0x02, 0x01, 0x00]);
        if (Authentication != DlmsAuthentication.None)
        {
            body.Write<byte>([0x88, 0x02, 0x07, 0x80]);
            Acse.WriteMechanism(body, 0x89, Authentication);
            if (AuthenticationValue is not null)
            {
                Acse.WriteWrappedOctets(body, 0xAA, 0x80, AuthenticationValue);
            }
        }

        if (UserInformation is not null)
        {
            Acse.WriteWrappedOctets(body, 0xBE, 0x04, UserInformation);
        }

        return Acse.Wrap(Tag, body.WrittenSpan);
    }

    /// <summary>Decodes an AARE.</summary>
    public static AareApdu Decode(ReadOnlySpan<byte> apdu)
    {
        bool ciphered = false;
        int result = -1;
        byte source = 0;
        byte diagnostic = 0;
        byte[]? title = null;
        var authentication = DlmsAuthentication.None;
        byte[]? value = null;
        byte[]? user = null;
        foreach (var (tag, content) in Acse.Fields(apdu, Tag))
        {
            switch (tag)
            {
                case 0xA1:
                    ciphered = Acse.ReadApplicationContext(content);
                    break;
                case 0xA2:
                    result = Acse.ReadSmallInteger(content);
                    break;
                case 0xA3:
                    {
                        var reader = new AxdrReader(content);
                        byte choice = reader.ReadByte();
                        int length = reader.ReadLength();
                        if (choice is not (0xA1 or 0xA2))
                        {
                            throw new DlmsException($"AARE result-source-diagnostic choice 0x{choice:X2}");
                        }

                        source = (byte)(choice & 0x0F);
                        diagnostic = (byte)Acse.ReadSmallInteger(reader.ReadBytes(length));
                        break;
                    }

                case 0xA4:
                    title = Acse.ReadWrappedOctets(content, 0x04);
                    break;
                case 0x89:
                    authentication = Acse.ReadMechanism(content);
                    break;
                case 0xAA:
                    value = Acse.ReadWrappedOctets(content, 0x80);
                    break;
                case 0xBE:
                    user = Acse.ReadWrappedOctets(content, 0x04);
                    break;
            }
        }

        if (result < 0)
        {
            throw new DlmsException("AARE without a result");
        }

        return new AareApdu(ciphered, (AssociationResult)result, source, diagnostic, title, authentication, value, user);
    }
}

/// <summary>BER helpers shared by the ACSE APDUs.</summary>
internal static class Acse
{
    // joint-iso-ccitt(2) country(16) country-name(756) identified-organization(5) DLMS-UA(8)
    private static readonly byte[] DlmsUaPrefix = [0x60, 0x85, 0x74, 0x05, 0x08];

    public static byte[] Wrap(byte tag, ReadOnlySpan<byte> body)
    {
        var writer = new ArrayBufferWriter<byte>(body.Length + 4);
        writer.WriteByte(tag);
        writer.WriteLength(body.Length);
        writer.Write(body);
        return writer.WrittenSpan.ToArray();
    }

    public static void WriteApplicationContext(ArrayBufferWriter<byte> writer, byte tag, bool ciphered)
    {
        writer.Write<byte>([tag, 0x09, 0x06, 0x07]);
        writer.Write(DlmsUaPrefix);
        writer.Write<byte>([0x01, ciphered ? (byte)0x03 : (byte)0x01]);
    }

    public static bool ReadApplicationContext(ReadOnlySpan<byte> content)
    {
        if (content.Length != 9 || content[0] != 0x06 || content[1] != 0x07 || !content.Slice(2, 5).SequenceEqual(DlmsUaPrefix) || content[7] != 0x01)
        {
            throw new DlmsException($"application context {Convert.ToHexString(content)} is not DLMS");
        }

        return content[8] switch
        {
            0x01 => false,
            0x03 => true,
            _ => throw new DlmsException($"application context {content[8]} is not Logical Name referencing"),
        };
    }

    public static void WriteMechanism(ArrayBufferWriter<byte> writer, byte tag, DlmsAuthentication authentication)
    {
        writer.Write<byte>([tag, 0x07]);
        writer.Write(DlmsUaPrefix);
        writer.Write<byte>([0x02, (byte)authentication]);
    }

    public static DlmsAuthentication ReadMechanism(ReadOnlySpan<byte> content)
    {
        if (content.Length != 7 || !content[..5].SequenceEqual(DlmsUaPrefix) || content[5] != 0x02)
        {
            throw new DlmsException($"mechanism name {Convert.ToHexString(content)} is not DLMS");
        }

        return content[6] switch
        {
            0 => DlmsAuthentication.None,
            1 => DlmsAuthentication.Low,
            5 => DlmsAuthentication.HlsGmac,
            _ => throw new DlmsException($"authentication mechanism {content[6]} is not supported"),
        };
    }

    public static void WriteWrappedOctets(ArrayBufferWriter<byte> writer, byte outerTag, byte innerTag, ReadOnlySpan<byte> value)
    {
        var inner = new ArrayBufferWriter<byte>(value.Length + 4);
        inner.WriteByte(innerTag);
        inner.WriteLength(value.Length);
        inner.Write(value);
        writer.WriteByte(outerTag);
        writer.WriteLength(inner.WrittenCount);
        writer.Write(inner.WrittenSpan);
    }

    public static byte[] ReadWrappedOctets(ReadOnlySpan<byte> content, byte innerTag)
    {
        var reader = new AxdrReader(content);
        byte tag = reader.ReadByte();
        if (tag != innerTag)
        {
            throw new DlmsException($"ACSE field holds tag 0x{tag:X2}, expected 0x{innerTag:X2}");
        }

        return reader.ReadBytes(reader.ReadLength()).ToArray();
    }

    public static int ReadSmallInteger(ReadOnlySpan<byte> content)
    {
        if (content.Length != 3 || content[0] != 0x02 || content[1] != 0x01)
        {
            throw new DlmsException($"ACSE integer {Convert.ToHexString(content)} is malformed");
        }

        return content[2];
    }

    public static uint ReadConformance(ref AxdrReader reader)
    {
        // [APPLICATION 31] IMPLICIT BIT STRING (SIZE(24)): 5F 1F 04 00 and three bytes.
        if (reader.ReadByte() != 0x5F || reader.ReadByte() != 0x1F || reader.ReadByte() != 0x04)
        {
            throw new DlmsException("conformance block is malformed");
        }

        reader.ReadByte();
        var bits = reader.ReadBytes(3);
        return (uint)((bits[0] << 16) | (bits[1] << 8) | bits[2]);
    }

    /// <summary>The top-level fields of an ACSE APDU as (tag, content) pairs.</summary>
    public static List<(byte Tag, byte[] Content)> Fields(ReadOnlySpan<byte> apdu, byte expectedTag)
    {
        var reader = new AxdrReader(apdu);
        byte tag = reader.ReadByte();
        if (tag != expectedTag)
        {
            throw new DlmsException($"APDU tag 0x{tag:X2}, expected 0x{expectedTag:X2}");
        }

        int length = reader.ReadLength();
        if (length != reader.Remaining)
        {
            throw new DlmsException($"APDU length {length} does not match its {reader.Remaining} bytes");
        }

        var fields = new List<(byte, byte[])>();
        while (reader.Remaining > 0)
        {
            byte fieldTag = reader.ReadByte();
            fields.Add((fieldTag, reader.ReadBytes(reader.ReadLength()).ToArray()));
        }

        return fields;
    }
}
