using System.Buffers;

namespace EdgeMeter.Protocols.Dlms;

/// <summary>One attribute of one COSEM object: class id, logical name, attribute index.</summary>
public readonly record struct CosemAttribute(ushort ClassId, ObisCode LogicalName, sbyte Attribute)
{
    /// <inheritdoc/>
    public override string ToString() => $"{LogicalName}:{Attribute}";
}

/// <summary>Selective access: the selector (1 = by range, 2 = by entry for Profile Generic) and its parameters.</summary>
public sealed record SelectiveAccess(byte Selector, DlmsValue Parameters);

/// <summary>The kinds of GET.request and GET.response (the second byte of the APDU).</summary>
public enum GetKind : byte
{
    /// <summary>get-request-normal / get-response-normal.</summary>
    Normal = 1,
    /// <summary>get-request-next / get-response-with-datablock.</summary>
    Block = 2,
    /// <summary>get-request-with-list / get-response-with-list.</summary>
    WithList = 3,
}

/// <summary>A decoded GET.request (what a server or replay peer sees).</summary>
public sealed record GetRequest(GetKind Kind, byte InvokeIdAndPriority, IReadOnlyList<(CosemAttribute Attribute, SelectiveAccess? Access)> Items, uint BlockNumber);

/// <summary>One result of a GET: data or a data-access-result.</summary>
public readonly record struct GetResult(DlmsValue? Value, DataAccessResult Error);

/// <summary>A decoded GET.response.</summary>
public sealed record GetResponse(GetKind Kind, byte InvokeIdAndPriority, IReadOnlyList<GetResult> Results, bool LastBlock, uint BlockNumber, byte[]? RawData);

/// <summary>Encoding and decoding of the xDLMS services a reading client needs (IEC 62056-5-3): GET, ACTION, release.</summary>
public static class Xdlms
{
    /// <summary>get-request tag.</summary>
    public const byte GetRequestTag = 0xC0;
    /// <summary>action-request tag.</summary>
    public const byte ActionRequestTag = 0xC3;
    /// <summary>get-response tag.</summary>
    public const byte GetResponseTag = 0xC4;
    /// <summary>action-response tag.</summary>
    public const byte ActionResponseTag = 0xC7;
    /// <summary>glo-get-request tag.</summary>
    public const byte GloGetRequestTag = 0xC8;
    /// <summary>glo-action-request tag.</summary>
    public const byte GloActionRequestTag = 0xCB;
    /// <summary>glo-get-response tag.</summary>
    public const byte GloGetResponseTag = 0xCC;
    /// <summary>glo-action-response tag.</summary>
    public const byte GloActionResponseTag = 0xCF;
    /// <summary>glo-initiateRequest tag (in the AARQ user-information).</summary>
    public const byte GloInitiateRequestTag = 0x21;
    /// <summary>glo-initiateResponse tag (in the AARE user-information).</summary>
    public const byte GloInitiateResponseTag = 0x28;
    /// <summary>exception-response tag.</summary>
    public const byte ExceptionResponseTag = 0xD8;
    /// <summary>confirmedServiceError tag.</summary>
    public const byte ConfirmedServiceErrorTag = 0x0E;
    /// <summary>RLRQ tag.</summary>
    public const byte ReleaseRequestTag = 0x62;
    /// <summary>RLRE tag.</summary>
    public const byte ReleaseResponseTag = 0x63;

    /// <summary>RLRQ with reason normal and no user-information.</summary>
    public static byte[] ReleaseRequest() => [ReleaseRequestTag, 0x03, 0x80, 0x01, 0x00];

    /// <summary>Encodes a get-request-normal.</summary>
    public static byte[] GetRequestNormal(byte invokeId, CosemAttribute attribute, SelectiveAccess? access)
    {
        var writer = new ArrayBufferWriter<byte>(32);
        writer.Write<byte>([GetRequestTag, (byte)GetKind.Normal, invokeId]);
        WriteDescriptor(writer, attribute, access);
        return writer.WrittenSpan.ToArray();
    }

    /// <summary>Encodes a get-request-next for the block after <paramref name="blockNumber"/>.</summary>
    public static byte[] GetRequestNext(byte invokeId, uint blockNumber)
    {
        var writer = new ArrayBufferWriter<byte>(8);
        writer.Write<byte>([GetRequestTag, (byte)GetKind.Block, invokeId]);
        writer.WriteUInt32(blockNumber);
        return writer.WrittenSpan.ToArray();
    }

    /// <summary>Encodes a get-request-with-list.</summary>
    public static byte[] GetRequestWithList(byte invokeId, IReadOnlyList<(CosemAttribute Attribute, SelectiveAccess? Access)> items)
    {
        ArgumentNullException.ThrowIfNull(items);
        var writer = new ArrayBufferWriter<byte>(16 + items.Count * 12);
        writer.Write<byte>([GetRequestTag, (byte)GetKind.WithList, invokeId]);
        writer.WriteLength(items.Count);
        foreach (var (attribute, access) in items)
        {
            WriteDescriptor(writer, attribute, access);
        }

        return writer.WrittenSpan.ToArray();
    }

    /// <summary>Decodes a GET.request.</summary>
    public static GetRequest DecodeGetRequest(ReadOnlySpan<byte> apdu)
    {
        var reader = new AxdrReader(apdu);
        if (reader.ReadByte() != GetRequestTag)
        {
            throw new DlmsException("not a GET.request");
        }

        var kind = (GetKind)reader.ReadByte();
        byte invokeId = reader.ReadByte();
        var items = new List<(CosemAttribute, SelectiveAccess?)>();
        uint block = 0;
        switch (kind)
        {
            case GetKind.Normal:
                items.Add(ReadDescriptor(ref reader));
                break;
            case GetKind.Block:
                block = reader.ReadUInt32();
                break;
            case GetKind.WithList:
                {
                    int count = reader.ReadCount(10);
                    for (int i = 0; i < count; i++)
                    {
                        items.Add(ReadDescriptor(ref reader));
                    }

                    break;
                }

            default:
                throw new DlmsException($"GET.request kind {(byte)kind} is unknown");
        }

        EnsureEnd(reader, "GET.request");
        return new GetRequest(kind, invokeId, items, block);
    }

    /// <summary>Encodes a get-response-normal with data or a data-access-result.</summary>
    public static byte[] GetResponseNormal(byte invokeId, GetResult result)
    {
        var writer = new ArrayBufferWriter<byte>(32);
        writer.Write<byte>([GetResponseTag, (byte)GetKind.Normal, invokeId]);
        WriteResult(writer, result);
        return writer.WrittenSpan.ToArray();
    }

    /// <summary>Encodes a get-response-with-list.</summary>
    public static byte[] GetResponseWithList(byte invokeId, IReadOnlyList<GetResult> results)
    {
        ArgumentNullException.ThrowIfNull(results);
        var writer = new ArrayBufferWriter<byte>(64);
        writer.Write<byte>([GetResponseTag, (byte)GetKind.WithList, invokeId]);
        writer.WriteLength(results.Count);
        foreach (var result in results)
        {
            WriteResult(writer, result);
        }

        return writer.WrittenSpan.ToArray();
    }

    /// <summary>Encodes a get-response-with-datablock carrying raw data.</summary>
    public static byte[] GetResponseBlock(byte invokeId, bool lastBlock, uint blockNumber, ReadOnlySpan<byte> rawData)
    {
        var writer = new ArrayBufferWriter<byte>(rawData.Length + 16);
        writer.Write<byte>([GetResponseTag, (byte)GetKind.Block, invokeId, lastBlock ? (byte)1 : (byte)0]);
        writer.WriteUInt32(blockNumber);
        writer.WriteByte(0);
        writer.WriteLength(rawData.Length);
        writer.Write(rawData);
        return writer.WrittenSpan.ToArray();
    }

    /// <summary>Decodes a GET.response; exception and confirmed-service-error responses throw.</summary>
    public static GetResponse DecodeGetResponse(ReadOnlySpan<byte> apdu)
    {
        var reader = new AxdrReader(apdu);
        byte tag = reader.ReadByte();
        if (tag != GetResponseTag)
        {
            throw UnexpectedTag(tag, apdu, "GET.response");
        }

        var kind = (GetKind)reader.ReadByte();
        byte invokeId = reader.ReadByte();
        GetResponse response;
        switch (kind)
        {
            case GetKind.Normal:
                response = new GetResponse(kind, invokeId, [ReadResult(ref reader)], true, 0, null);
                break;
            case GetKind.Block:
                {
                    bool last = reader.ReadByte() != 0;
                    uint block = reader.ReadUInt32();
                    byte choice = reader.ReadByte();
                    if (choice == 0)
                    {
                        response = new GetResponse(kind, invokeId, [], last, block, reader.ReadBytes(reader.ReadLength()).ToArray());
                    }
                    else if (choice == 1)
                    {
                        response = new GetResponse(kind, invokeId, [new GetResult(null, (DataAccessResult)reader.ReadByte())], last, block, null);
                    }
                    else
                    {
                        throw new DlmsException($"GET.response datablock result choice {choice}");
                    }

                    break;
                }

            case GetKind.WithList:
                {
                    int count = reader.ReadCount(2);
                    var results = new GetResult[count];
                    for (int i = 0; i < count; i++)
                    {
                        results[i] = ReadResult(ref reader);
                    }

                    response = new GetResponse(kind, invokeId, results, true, 0, null);
                    break;
                }

            default:
                throw new DlmsException($"GET.response kind {(byte)kind} is unknown");
        }

        EnsureEnd(reader, "GET.response");
        return response;
    }

    /// <summary>Decodes the reassembled raw data of a block transfer: one Data, or a with-list SEQUENCE OF results.</summary>
    public static IReadOnlyList<GetResult> DecodeBlockData(ReadOnlySpan<byte> raw, bool withList)
    {
        var reader = new AxdrReader(raw);
        GetResult[] results;
        if (withList)
        {
            int count = reader.ReadCount(2);
            results = new GetResult[count];
            for (int i = 0; i < count; i++)
            {
                results[i] = ReadResult(ref reader);
            }
        }
        else
        {
            results = [new GetResult(reader.ReadValue(), DataAccessResult.Success)];
        }

        EnsureEnd(reader, "block transfer data");
        return results;
    }

    /// <summary>Encodes an action-request-normal with optional parameters.</summary>
    public static byte[] ActionRequest(byte invokeId, ushort classId, ObisCode logicalName, sbyte method, DlmsValue? parameters)
    {
        var writer = new ArrayBufferWriter<byte>(48);
        writer.Write<byte>([ActionRequestTag, 0x01, invokeId]);
        writer.WriteUInt16(classId);
        logicalName.WriteTo(writer.GetSpan(6));
        writer.Advance(6);
        writer.WriteByte((byte)method);
        if (parameters is null)
        {
            writer.WriteByte(0);
        }
        else
        {
            writer.WriteByte(1);
            writer.WriteValue(parameters);
        }

        return writer.WrittenSpan.ToArray();
    }

    /// <summary>Decodes an action-request-normal: the method descriptor and parameters.</summary>
    public static (byte InvokeId, ushort ClassId, ObisCode LogicalName, sbyte Method, DlmsValue? Parameters) DecodeActionRequest(ReadOnlySpan<byte> apdu)
    {
        var reader = new AxdrReader(apdu);
        if (reader.ReadByte() != ActionRequestTag || reader.ReadByte() != 0x01)
        {
            throw new DlmsException("not an action-request-normal");
        }

        byte invokeId = reader.ReadByte();
        ushort classId = reader.ReadUInt16();
        var name = ObisCode.FromBytes(reader.ReadBytes(6));
        sbyte method = (sbyte)reader.ReadByte();
        DlmsValue? parameters = reader.ReadByte() != 0 ? reader.ReadValue() : null;
        EnsureEnd(reader, "ACTION.request");
        return (invokeId, classId, name, method, parameters);
    }

    /// <summary>Encodes an action-response-normal: result, and return data when given.</summary>
    public static byte[] ActionResponse(byte invokeId, byte actionResult, DlmsValue? returnData)
    {
        var writer = new ArrayBufferWriter<byte>(32);
        writer.Write<byte>([ActionResponseTag, 0x01, invokeId, actionResult]);
        if (returnData is null)
        {
            writer.WriteByte(0);
        }
        else
        {
            writer.Write<byte>([1, 0]);
            writer.WriteValue(returnData);
        }

        return writer.WrittenSpan.ToArray();
    }

    /// <summary>Decodes an action-response-normal: the action result and return data (null when absent).</summary>
    public static (byte InvokeId, byte Result, DlmsValue? ReturnData) DecodeActionResponse(ReadOnlySpan<byte> apdu)
    {
        var reader = new AxdrReader(apdu);
        byte tag = reader.ReadByte();
        if (tag != ActionResponseTag)
        {
            throw UnexpectedTag(tag, apdu, "ACTION.response");
        }

        if (reader.ReadByte() != 0x01)
        {
            throw new DlmsException("ACTION.response is not action-response-normal");
        }

        byte invokeId = reader.ReadByte();
        byte result = reader.ReadByte();
        DlmsValue? data = null;
        if (reader.ReadByte() != 0)
        {
            byte choice = reader.ReadByte();
            data = choice == 0
                ? reader.ReadValue()
                : throw new DlmsException($"ACTION.response return data is data-access-result {DataAccessResults.Name((DataAccessResult)reader.ReadByte())}");
        }

        EnsureEnd(reader, "ACTION.response");
        return (invokeId, result, data);
    }

    /// <summary>An error for an APDU that is not the expected one; names exception responses.</summary>
    internal static DlmsException UnexpectedTag(byte tag, ReadOnlySpan<byte> apdu, string expected) => tag switch
    {
        ExceptionResponseTag when apdu.Length >= 3 => new DlmsException($"the server answered with exception-response (state-error {apdu[1]}, service-error {apdu[2]})"),
        ConfirmedServiceErrorTag => new DlmsException($"the server answered with confirmed-service-error {Convert.ToHexString(apdu[1..])}"),
        _ => new DlmsException($"expected {expected}, got APDU tag 0x{tag:X2}"),
    };

    private static void WriteDescriptor(ArrayBufferWriter<byte> writer, CosemAttribute attribute, SelectiveAccess? access)
    {
        writer.WriteUInt16(attribute.ClassId);
        attribute.LogicalName.WriteTo(writer.GetSpan(6));
        writer.Advance(6);
        writer.WriteByte((byte)attribute.Attribute);
        if (access is null)
        {
            writer.WriteByte(0);
        }
        else
        {
            writer.WriteByte(1);
            writer.WriteByte(access.Selector);
            writer.WriteValue(access.Parameters);
        }
    }

    private static (CosemAttribute, SelectiveAccess?) ReadDescriptor(ref AxdrReader reader)
    {
        ushort classId = reader.ReadUInt16();
        var name = ObisCode.FromBytes(reader.ReadBytes(6));
        sbyte attribute = (sbyte)reader.ReadByte();
        SelectiveAccess? access = null;
        if (reader.ReadByte() != 0)
        {
            byte selector = reader.ReadByte();
            access = new SelectiveAccess(selector, reader.ReadValue());
        }

        return (new CosemAttribute(classId, name, attribute), access);
    }

    private static void WriteResult(ArrayBufferWriter<byte> writer, GetResult result)
    {
        if (result.Value is null)
        {
            writer.WriteByte(1);
            writer.WriteByte((byte)result.Error);
        }
        else
        {
            writer.WriteByte(0);
            writer.WriteValue(result.Value);
        }
    }

    private static GetResult ReadResult(ref AxdrReader reader)
    {
        byte choice = reader.ReadByte();
        return choice switch
        {
            0 => new GetResult(reader.ReadValue(), DataAccessResult.Success),
            1 => new GetResult(null, (DataAccessResult)reader.ReadByte()),
            _ => throw new DlmsException($"Get-Data-Result choice {choice}"),
        };
    }

    private static void EnsureEnd(AxdrReader reader, string what)
    {
        if (reader.Remaining != 0)
        {
            throw new DlmsException($"{what} has {reader.Remaining} trailing bytes");
        }
    }
}
