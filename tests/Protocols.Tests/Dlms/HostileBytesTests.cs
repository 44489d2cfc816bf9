using CsCheck;
using EdgeMeter.Protocols.Dlms;
using EdgeMeter.Protocols.Transport;

namespace EdgeMeter.Protocols.Tests.Dlms;

/// <summary>
/// Random and mutated input for every parser of outside bytes: the only exception is the protocol's own
/// <see cref="DlmsException"/>, and no parse allocates far beyond the size of its input.
/// </summary>
public sealed class HostileBytesTests
{
    private static readonly string[] Prefixes = ["01", "02", "03", "04", "05", "06", "07", "08", "09", "10", "11"];

    private static readonly byte[][] RecordedFrames = [.. Prefixes.SelectMany(p => DlmsVector.Load(p).Exchanges.Select(e => e.Bytes))];

    private static readonly byte[][] RecordedApdus = [.. Prefixes.SelectMany(p => DlmsVector.Load(p).Exchanges.Select(e => Apdu(e.Bytes))).Where(a => a.Length > 0)];

    private static byte[] Apdu(byte[] frame)
    {
        if (frame[0] != 0x7E)
        {
            return frame[8..];
        }

        _ = HdlcFrame.TryParse(frame, out var f, out _);
        var info = f.Information.Span;
        return info.Length > 3 && info[0] == 0xE6 ? info[3..].ToArray() : [];
    }

    /// <summary>Recorded input with one mutation: a flipped bit, a changed byte, a cut, or an inserted byte.</summary>
    private static Gen<byte[]> Mutated(byte[][] corpus) =>
        Gen.Select(Gen.Int[0, corpus.Length - 1], Gen.Int[0, 3], Gen.Int[0, 4096], Gen.Byte).Select((i, kind, at, b) =>
        {
            byte[] source = corpus[i];
            int p = at % source.Length;
            return kind switch
            {
                0 => [.. source[..p], (byte)(source[p] ^ (1 << (b & 7))), .. source[(p + 1)..]],
                1 => [.. source[..p], b, .. source[(p + 1)..]],
                2 => source[..p],
                _ => [.. source[..p], b, .. source[p..]],
            };
        });

    private static readonly Gen<byte[]> Random = Gen.Byte.Array[0, 300];

    private static void OnlyDlmsException(byte[] input, Action<byte[]> parse, long bytesPerInputByte = 256)
    {
        long before = GC.GetAllocatedBytesForCurrentThread();
        try
        {
            parse(input);
        }
        catch (DlmsException)
        {
        }

        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.True(allocated <= 4096 + (input.Length * bytesPerInputByte), $"{allocated} bytes allocated for {input.Length} input bytes: {Convert.ToHexString(input)}");
    }

    private static void Check(Gen<byte[]> gen, Action<byte[]> parse) =>
        gen.Sample(input => OnlyDlmsException(input, parse), iter: 3000);

    private static readonly Action<byte[]> ParseHdlc = b =>
    {
        if (b.Length > 0)
        {
            b[0] = 0x7E;
        }

        if (HdlcFrame.TryParse(b, out var frame, out int consumed))
        {
            Assert.InRange(consumed, 9, b.Length);
            if (frame.Control is 0x73 or 0x93)
            {
                HdlcParameters.Decode(frame.Information.Span);
            }
        }
    };

    private static readonly Action<byte[]> ParseAxdr = b =>
    {
        var reader = new AxdrReader(b);
        while (reader.Remaining > 0)
        {
            reader.ReadValue();
        }
    };

    private static readonly Action<byte[]> ParseApdu = b =>
    {
        if (b.Length == 0)
        {
            return;
        }

        switch (b[0])
        {
            case AarqApdu.Tag:
                InitiateRequest.Decode(AarqApdu.Decode(b).UserInformation);
                break;
            case AareApdu.Tag:
                var aare = AareApdu.Decode(b);
                if (aare.UserInformation is { Length: > 0 } user && user[0] == InitiateResponse.Tag)
                {
                    InitiateResponse.Decode(user);
                }

                break;
            case Xdlms.GetRequestTag:
                Xdlms.DecodeGetRequest(b);
                break;
            case Xdlms.ActionResponseTag:
                Xdlms.DecodeActionResponse(b);
                break;
            case Xdlms.ActionRequestTag:
                Xdlms.DecodeActionRequest(b);
                break;
            default:
                var response = Xdlms.DecodeGetResponse(b);
                if (response.RawData is not null)
                {
                    Xdlms.DecodeBlockData(response.RawData, false);
                }

                foreach (var r in response.Results)
                {
                    if (r.Value is { Type: DlmsDataType.Array } v)
                    {
                        DlmsClient.DecodeRows(v);
                    }
                }

                break;
        }
    };

    [Fact]
    public void Hdlc_frames_random_and_mutated() => Check(Gen.OneOf(Random, Mutated(RecordedFrames.Where(f => f[0] == 0x7E).ToArray())), ParseHdlc);

    [Fact]
    public void Axdr_data_random_and_mutated() => Check(Gen.OneOf(Random, Mutated(RecordedApdus)), ParseAxdr);

    [Fact]
    public void Xdlms_and_acse_apdus_random_and_mutated() => Check(Gen.OneOf(Random, Mutated(RecordedApdus)), ParseApdu);

    [Fact]
    public void Ciphered_apdus_mutated_never_decipher()
    {
        var vector = DlmsVector.Load("05");
        byte[][] ciphered = [.. vector.Exchanges.Where(e => !e.FromClient).Select(e => e.Bytes[8..]).Where(a => a[0] == Xdlms.GloGetResponseTag)];
        using var cipher = new DlmsCipher(vector.Key("block_cipher_key"), vector.Key("authentication_key"));
        byte[] title = vector.Key("server_system_title");
        Mutated(ciphered).Sample(input =>
        {
            // The tag byte is outside the GCM authentication by design; the client checks it before deciphering. A
            // length in the long form (0x81 0x1A for 0x1A) is the same APDU: what follows the length is what counts.
            if (input.Length > 0 && ciphered.Any(c => AfterLength(c).SequenceEqual(AfterLength(input))))
            {
                return;
            }

            Assert.Throws<DlmsException>(() => cipher.Decrypt(input, title, out _));
        }, iter: 2000, threads: 1); // one cipher, like one association: AesGcm is not for concurrent use
    }

    /// <summary>The bytes after an APDU's tag and A-XDR length; empty when the length does not parse.</summary>
    private static ReadOnlySpan<byte> AfterLength(byte[] apdu)
    {
        if (apdu.Length < 2)
            return [];
        int skip = apdu[1] < 0x80 ? 2 : 2 + (apdu[1] & 0x7F);
        return skip <= apdu.Length ? apdu.AsSpan(skip) : [];
    }

    [Fact]
    public void Mode_c_telegrams_random_and_mutated()
    {
        byte[][] corpus =
        [
            ModeCReadoutTests.Telegram("ISK5MT174-0001", "0.0.0(00339188)", "1.8.0(0012345.678*kWh)", "1.6.0(0002.345*kW)(2511241415)", "F.F(00000000)"),
            ModeCReadoutTests.Telegram("ABC5X", "1-0:32.7.0*255(230.1*V)"),
        ];
        Check(Gen.OneOf(Random, Mutated(corpus)), b => ModeCReadout.Parse(b));
    }

    [Fact]
    public async Task Hdlc_link_fed_garbage_fails_with_a_protocol_error_and_does_not_hang()
    {
        var gen = Gen.OneOf(Random, Mutated(RecordedFrames.Where(f => f[0] == 0x7E).ToArray()));
        foreach (byte[] garbage in gen.Array[20].Single())
        {
            var (master, slave) = InMemoryByteChannel.CreatePair();
            await using var transport = new HdlcTransport(master, HdlcAddress.Client(16), HdlcAddress.Server(1), TimeSpan.FromMilliseconds(200));
            await slave.WriteAsync(garbage, CancellationToken.None);
            var error = await Record.ExceptionAsync(async () => await transport.OpenAsync(CancellationToken.None));
            Assert.True(error is DlmsException or TimeoutException, $"{error?.GetType().Name}: {error?.Message} for {Convert.ToHexString(garbage)}");
            await slave.DisposeAsync();
        }
    }
}
