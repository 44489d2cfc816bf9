using System.Text.Json;
using EdgeMeter.Protocols.Dlms;
using EdgeMeter.Protocols.Transport;

namespace EdgeMeter.Protocols.Tests.Dlms;

/// <summary>One recorded session from Dlms/vectors (see its README).</summary>
internal sealed class DlmsVector
{
    private DlmsVector(string name, JsonElement root)
    {
        Name = name;
        Root = root;
        Exchanges = [.. root.GetProperty("exchanges").EnumerateArray().Select(e =>
            (e.GetProperty("dir").GetString() == "client->server", Convert.FromHexString(e.GetProperty("hex").GetString()!), e.GetProperty("meaning").GetString()!))];
    }

    public string Name { get; }

    public JsonElement Root { get; }

    public JsonElement Expected => Root.GetProperty("expected");

    public IReadOnlyList<(bool FromClient, byte[] Bytes, string Meaning)> Exchanges { get; }

    public bool IsHdlc => Root.GetProperty("transport").GetString() == "hdlc-tcp";

    public ushort ClientAddress => (ushort)Root.GetProperty("client_address").GetInt32();

    public static DlmsVector Load(string prefix)
    {
        string dir = Path.Combine(AppContext.BaseDirectory, "Dlms", "vectors");
        string file = Directory.GetFiles(dir, prefix + "-*.json").Single();
        using var doc = JsonDocument.Parse(File.ReadAllBytes(file));
        return new DlmsVector(Path.GetFileName(file), doc.RootElement.Clone());
    }

    public byte[] Key(string name) => Convert.FromHexString(Root.GetProperty("keys").GetProperty(name).GetString()!);

    public HdlcParameters ProposedHdlc()
    {
        var snrm = Root.GetProperty("hdlc_parameters").GetProperty("snrm");
        return snrm.TryGetProperty("max_info_field_length_transmit", out var tx)
            ? new HdlcParameters(tx.GetInt32(), snrm.GetProperty("max_info_field_length_receive").GetInt32(),
                snrm.GetProperty("window_size_transmit").GetInt32(), snrm.GetProperty("window_size_receive").GetInt32())
            : HdlcParameters.Default;
    }

    /// <summary>A client over a scripted channel that answers with the recorded server frames, with the pinned fields.</summary>
    public (DlmsClient Client, ScriptedChannel Channel) CreateClient(IInvocationCounterStore? counters = null)
    {
        var channel = new ScriptedChannel(this);
        IDlmsTransport transport = IsHdlc
            ? new HdlcTransport(channel, HdlcAddress.Client((byte)ClientAddress), HdlcAddress.Server(1), TimeSpan.FromSeconds(5), ProposedHdlc())
            : new DlmsWrapperTransport(channel, ClientAddress, 1, TimeSpan.FromSeconds(5));
        var settings = new DlmsClientSettings
        {
            ClientAddress = ClientAddress,
            MaxReceivePduSize = (ushort)Root.GetProperty("max_pdu").GetProperty("client_proposed_max_receive_pdu").GetInt32(),
        };
        if (Root.TryGetProperty("password_hex", out var password))
        {
            settings = settings with { Authentication = DlmsAuthentication.Low, Password = Convert.FromHexString(password.GetString()!) };
        }

        if (Root.TryGetProperty("keys", out _))
        {
            byte[] challenge = Key("ctos_challenge");
            settings = settings with
            {
                Authentication = DlmsAuthentication.HlsGmac,
                BlockCipherKey = Key("block_cipher_key"),
                AuthenticationKey = Key("authentication_key"),
                ClientSystemTitle = Key("client_system_title"),
                ChallengeFactory = () => challenge,
                InvocationCounters = counters,
            };
        }

        return (new DlmsClient(transport, settings), channel);
    }
}

/// <summary>
/// Plays the server side of a recorded session: every write must equal the next recorded client frame byte for
/// byte (unless told not to check); the server frames that follow it become readable, one per read, as they were written on the wire.
/// </summary>
internal sealed class ScriptedChannel(DlmsVector vector, bool checkClientFrames = true) : IByteChannel
{
    private readonly Queue<byte[]> _pending = new();
    private int _next;

    public string Description => "replay://" + vector.Name;

    public int ClientFramesMatched { get; private set; }

    public bool Finished => _next == vector.Exchanges.Count && _pending.Count == 0;

    public ValueTask WriteAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        if (_next >= vector.Exchanges.Count || !vector.Exchanges[_next].FromClient)
        {
            throw new InvalidOperationException($"{vector.Name}: the client wrote {Convert.ToHexString(data.Span)} where the recording has no client frame");
        }

        var (_, expected, meaning) = vector.Exchanges[_next];
        Assert.True(!checkClientFrames || expected.AsSpan().SequenceEqual(data.Span),
            $"{vector.Name} frame {_next} ({meaning}):\nexpected {Convert.ToHexString(expected)}\nactual   {Convert.ToHexString(data.Span)}");
        ClientFramesMatched++;
        _next++;
        while (_next < vector.Exchanges.Count && !vector.Exchanges[_next].FromClient)
        {
            _pending.Enqueue(vector.Exchanges[_next++].Bytes);
        }

        return ValueTask.CompletedTask;
    }

    public ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken)
    {
        if (!_pending.TryPeek(out var frame))
        {
            throw new InvalidOperationException($"{vector.Name}: the client waits for an answer the recording does not have");
        }

        // Serve what fits, keep the rest for the next read.
        int n = Math.Min(frame.Length, buffer.Length);
        frame.AsSpan(0, n).CopyTo(buffer.Span);
        _pending.Dequeue();
        if (n < frame.Length)
        {
            var rest = frame[n..];
            var remaining = new Queue<byte[]>([rest, .. _pending]);
            _pending.Clear();
            foreach (var f in remaining)
            {
                _pending.Enqueue(f);
            }
        }

        return ValueTask.FromResult(n);
    }

    public void DiscardInput()
    {
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
