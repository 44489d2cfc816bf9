using EdgeMeter.Protocols.Dlms;

namespace EdgeMeter.Protocols.Tests.Dlms;

public sealed class FrameTests
{
    [Fact]
    public void Every_recorded_hdlc_frame_parses_and_reencodes_to_the_same_bytes()
    {
        int segmented = 0;
        foreach (var prefix in new[] { "01", "07", "09", "11" })
        {
            foreach (var (_, bytes, meaning) in DlmsVector.Load(prefix).Exchanges)
            {
                Assert.True(HdlcFrame.TryParse(bytes, out var frame, out int consumed), meaning);
                Assert.Equal(bytes.Length, consumed);
                Assert.Equal(Convert.ToHexString(bytes), Convert.ToHexString(frame.ToArray()));
                Assert.Equal(meaning.Contains("segment", StringComparison.Ordinal) && !meaning.Contains("segment 2/2", StringComparison.Ordinal) && !meaning.Contains("segment 3/3", StringComparison.Ordinal) && !meaning.StartsWith("RR", StringComparison.Ordinal), frame.Segmented);
                segmented += frame.Segmented ? 1 : 0;
            }
        }

        Assert.True(segmented >= 10, $"{segmented} segmented frames");
    }

    [Fact]
    public void A_flipped_bit_in_the_information_field_fails_the_fcs()
    {
        var bytes = DlmsVector.Load("01").Exchanges[5].Bytes;
        bytes[14] ^= 0x04;
        var error = Assert.Throws<DlmsException>(() => HdlcFrame.TryParse(bytes, out _, out _));
        Assert.Equal("HDLC frame check sequence (FCS) mismatch", error.Message);
    }

    [Fact]
    public void A_truncated_frame_asks_for_more_bytes()
    {
        var bytes = DlmsVector.Load("01").Exchanges[5].Bytes;
        Assert.False(HdlcFrame.TryParse(bytes.AsSpan(0, bytes.Length - 1), out _, out int consumed));
        Assert.Equal(0, consumed);
    }

    [Theory]
    [InlineData(1, null, 0, "03")]
    [InlineData(1, (ushort)17, 0, "0223")]
    [InlineData(1, (ushort)0x1234, 4, "00024869")]
    [InlineData(0x3FFF, (ushort)0x3FFF, 4, "FEFEFEFF")]
    public void Server_addresses_encode_in_one_two_or_four_bytes(int upper, ushort? lower, int size, string hex)
    {
        var address = HdlcAddress.Server((ushort)upper, lower, size);
        Span<byte> buffer = stackalloc byte[4];
        int n = address.WriteTo(buffer);
        Assert.Equal(hex, Convert.ToHexString(buffer[..n]));
        Assert.True(HdlcAddress.TryRead(buffer[..n], out var back, out int read));
        Assert.Equal(n, read);
        Assert.Equal(address, back);
    }

    [Fact]
    public void Snrm_parameters_encode_as_the_recorded_client_sent_them()
    {
        var snrm = HdlcFrame.TryParse(DlmsVector.Load("09").Exchanges[0].Bytes, out var frame, out _) ? frame : default;
        var parameters = new HdlcParameters(128, 32, 1, 1);
        Assert.Equal(Convert.ToHexString(snrm.Information.Span), Convert.ToHexString(parameters.Encode()));
        Assert.Equal(parameters, HdlcParameters.Decode(snrm.Information.Span));
    }

    [Fact]
    public void Wrapper_frame_round_trips_and_rejects_another_version()
    {
        byte[] frame = DlmsWrapperTransport.Encode(16, 1, [0x62, 0x03, 0x80, 0x01, 0x00]);
        Assert.Equal("00010010000100056203800100", Convert.ToHexString(frame));
        Assert.True(DlmsWrapperTransport.TryParse(frame, out ushort source, out ushort destination, out var apdu, out int consumed));
        Assert.Equal((16, 1, 13, "6203800100"), (source, destination, consumed, Convert.ToHexString(apdu)));
        frame[1] = 2;
        byte[] copy = frame;
        Assert.Equal("wrapper version 2, expected 1", Assert.Throws<DlmsException>(() => DlmsWrapperTransport.TryParse(copy, out _, out _, out _, out _)).Message);
    }
}
