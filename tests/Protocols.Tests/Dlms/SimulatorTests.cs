using EdgeMeter.Protocols.Dlms;
using EdgeMeter.Protocols.Dlms.Simulator;
using EdgeMeter.Protocols.Transport;

namespace EdgeMeter.Protocols.Tests.Dlms;

/// <summary>Our client against our simulated meter over real loopback sockets, wrapper and HDLC.</summary>
public sealed class SimulatorTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 24, 8, 53, 29, TimeSpan.Zero);
    private static readonly byte[] Ek = Convert.FromHexString("000102030405060708090A0B0C0D0E0F");
    private static readonly byte[] Ak = Convert.FromHexString("D0D1D2D3D4D5D6D7D8D9DADBDCDDDEDF");

    private static readonly SimulatedMeterSecurity Security = new()
    {
        Password = "secret"u8.ToArray(),
        BlockCipherKey = Ek,
        AuthenticationKey = Ak,
    };

    internal sealed class FixedTime(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;
    }

    private static SimulatedDlmsMeter Meter() => SimulatedDlmsMeter.Typical(Security, new FixedTime(Now), wattHoursPerHour: 1200, capturePeriodSeconds: 3600);

    private static async Task<DlmsClient> ConnectAsync(DlmsSimulatorServer server, DlmsFraming framing, DlmsClientSettings settings, HdlcParameters? hdlc = null)
    {
        var channel = await TcpByteChannel.ConnectAsync("127.0.0.1", server.Port, CancellationToken.None);
        IDlmsTransport transport = framing == DlmsFraming.Hdlc
            ? new HdlcTransport(channel, HdlcAddress.Client((byte)settings.ClientAddress), HdlcAddress.Server(1), TimeSpan.FromSeconds(10), hdlc)
            : new DlmsWrapperTransport(channel, settings.ClientAddress, 1, TimeSpan.FromSeconds(10));
        return new DlmsClient(transport, settings);
    }

    public static TheoryData<DlmsFraming, string> Sessions() => new()
    {
        { DlmsFraming.Wrapper, "none" }, { DlmsFraming.Wrapper, "low" }, { DlmsFraming.Wrapper, "hls" },
        { DlmsFraming.Hdlc, "none" }, { DlmsFraming.Hdlc, "low" }, { DlmsFraming.Hdlc, "hls" },
    };

    private static DlmsClientSettings Settings(string auth) => auth switch
    {
        "low" => new DlmsClientSettings { ClientAddress = 17, Authentication = DlmsAuthentication.Low, Password = "secret"u8.ToArray() },
        "hls" => new DlmsClientSettings
        {
            ClientAddress = 1,
            Authentication = DlmsAuthentication.HlsGmac,
            BlockCipherKey = Ek,
            AuthenticationKey = Ak,
            ClientSystemTitle = "EDGEMTR1"u8.ToArray(),
            InvocationCounters = new InMemoryInvocationCounter(),
        },
        _ => new DlmsClientSettings(),
    };

    [Theory]
    [MemberData(nameof(Sessions))]
    public async Task Client_reads_registers_clock_and_profile_from_the_simulator(DlmsFraming framing, string auth)
    {
        await using var server = DlmsSimulatorServer.Start(Meter(), framing);
        await using var client = await ConnectAsync(server, framing, Settings(auth));
        var ct = CancellationToken.None;

        await client.ConnectAsync(ct);
        var energy = await client.ReadRegisterAsync(SimulatedDlmsMeter.ActiveEnergyImport, ct);
        var power = await client.ReadRegisterAsync(ObisCode.Parse("1.0.1.7.0.255"), ct);
        var clock = await client.ReadClockAsync(ct);
        var rows = await client.ReadProfileByRangeAsync(SimulatedDlmsMeter.LoadProfile,
            CosemDateTime.FromUtc(Now.Date.AddHours(0)), CosemDateTime.FromUtc(Now.Date.AddHours(6)), ct);
        var objects = await client.ReadObjectListAsync(ct);
        await client.ReleaseAsync(ct);
        if (framing == DlmsFraming.Hdlc)
        {
            await client.CloseAsync(ct);
        }

        // 5 000 000 Wh on 2026-01-01 plus 1200 Wh per hour since.
        long hours = (long)(Now - new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero)).TotalHours;
        Assert.Equal(5_000_000 + (long)((Now - new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero)).TotalSeconds / 3), energy.Raw.ToInt64());
        Assert.Equal(DlmsUnit.WattHour, energy.Unit);
        Assert.Equal(1200.0m, power.Value);
        Assert.Equal("1200.0 W", power.ToString());
        Assert.Equal(Now, clock.ToDateTimeOffset());
        Assert.Equal(7, rows.Count);
        Assert.Equal(Now.Date.AddHours(6), CosemDateTime.From(rows[6].Values[0]).ToDateTimeOffset());
        Assert.Equal(5_000_000 + ((hours - 2) * 1200), rows[6].Values[1].ToInt64());
        Assert.Equal(1200, rows[6].Values[1].ToInt64() - rows[5].Values[1].ToInt64());
        Assert.Contains(objects, o => o.ClassId == 7 && o.LogicalName == SimulatedDlmsMeter.LoadProfile);
    }

    [Theory]
    [InlineData(DlmsFraming.Wrapper)]
    [InlineData(DlmsFraming.Hdlc)]
    public async Task Small_pdu_and_small_hdlc_frames_carry_a_long_profile_in_blocks_and_segments(DlmsFraming framing)
    {
        await using var server = DlmsSimulatorServer.Start(Meter(), framing);
        var settings = Settings("low") with { MaxReceivePduSize = 64, Password = "secret"u8.ToArray() };
        await using var client = await ConnectAsync(server, framing, settings, new HdlcParameters(32, 32, 1, 1));
        var ct = CancellationToken.None;

        await client.ConnectAsync(ct);
        var rows = await client.ReadProfileByEntryAsync(SimulatedDlmsMeter.LoadProfile, 1, 48, ct);

        Assert.Equal(48, rows.Count);
        for (int i = 1; i < rows.Count; i++)
        {
            Assert.Equal(3600, (CosemDateTime.From(rows[i].Values[0]).ToDateTimeOffset() - CosemDateTime.From(rows[i - 1].Values[0]).ToDateTimeOffset())!.Value.TotalSeconds);
        }
    }

    [Fact]
    public async Task Wrong_password_is_refused_with_authentication_failure()
    {
        await using var server = DlmsSimulatorServer.Start(Meter(), DlmsFraming.Wrapper);
        await using var client = await ConnectAsync(server, DlmsFraming.Wrapper, Settings("low") with { Password = "guess"u8.ToArray() });

        var error = await Assert.ThrowsAsync<DlmsAssociationException>(() => client.ConnectAsync(CancellationToken.None));

        Assert.Equal(AssociationResult.RejectedPermanent, error.Result);
        Assert.Equal(13, error.Diagnostic);
        Assert.Null(client.Association);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Wrong_hls_keys_are_refused_and_give_no_value(bool wrongBlockKey)
    {
        await using var server = DlmsSimulatorServer.Start(Meter(), DlmsFraming.Hdlc);
        byte[] ek = (byte[])Ek.Clone();
        byte[] ak = (byte[])Ak.Clone();
        (wrongBlockKey ? ek : ak)[15] ^= 0x80;
        await using var client = await ConnectAsync(server, DlmsFraming.Hdlc, Settings("hls") with { BlockCipherKey = ek, AuthenticationKey = ak });

        var error = await Assert.ThrowsAsync<DlmsAssociationException>(() => client.ConnectAsync(CancellationToken.None));

        Assert.Equal("association refused: rejected-permanent, acse-service-user authentication-failure", error.Message);
        await Assert.ThrowsAsync<DlmsException>(() => client.ReadRegisterAsync(SimulatedDlmsMeter.ActiveEnergyImport, CancellationToken.None));
    }

    [Fact]
    public async Task Unknown_object_is_object_undefined()
    {
        await using var server = DlmsSimulatorServer.Start(Meter(), DlmsFraming.Wrapper);
        await using var client = await ConnectAsync(server, DlmsFraming.Wrapper, Settings("none"));
        await client.ConnectAsync(CancellationToken.None);

        var error = await Assert.ThrowsAsync<DlmsDataAccessException>(() => client.GetAsync(new CosemAttribute(3, ObisCode.Parse("1.0.99.99.0.255"), 2), CancellationToken.None));

        Assert.Equal(DataAccessResult.ObjectUndefined, error.Result);
        Assert.Equal("GET 1.0.99.99.0.255:2: data-access-result object-undefined (4)", error.Message);
    }

    [Fact]
    public async Task Get_with_list_returns_values_and_errors_in_order()
    {
        await using var server = DlmsSimulatorServer.Start(Meter(), DlmsFraming.Wrapper);
        await using var client = await ConnectAsync(server, DlmsFraming.Wrapper, Settings("none"));
        await client.ConnectAsync(CancellationToken.None);

        var results = await client.GetWithListAsync(
            [new(3, ObisCode.Parse("1.0.32.7.0.255"), 3), new(3, ObisCode.Parse("1.0.99.99.0.255"), 2), new(8, ObisCode.Clock, 2)], CancellationToken.None);

        Assert.Equal(-1, results[0].Value!.Items[0].ToInt64());
        Assert.Equal(DataAccessResult.ObjectUndefined, results[1].Error);
        Assert.Null(results[1].Value);
        Assert.Equal(Now, CosemDateTime.From(results[2].Value!).ToDateTimeOffset());
    }
}
