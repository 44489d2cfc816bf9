using System.Net;
using System.Net.Sockets;

namespace EdgeMeter.Protocols.Transport;

/// <summary>A <see cref="IByteChannel"/> over a connected TCP socket. The channel owns and disposes the socket.</summary>
public sealed class TcpByteChannel : IByteChannel
{
    private readonly Socket _socket;
    private byte[]? _discardBuffer;

    /// <summary>Wraps an already connected socket; the channel takes ownership of it.</summary>
    public TcpByteChannel(Socket socket)
    {
        ArgumentNullException.ThrowIfNull(socket);
        _socket = socket;
        _socket.NoDelay = true;
        Description = socket.RemoteEndPoint is { } ep ? $"tcp://{ep}" : "tcp";
    }

    /// <inheritdoc/>
    public string Description { get; }

    /// <summary>Connects to <paramref name="host"/>:<paramref name="port"/>; the token bounds the connect time.</summary>
    public static async Task<TcpByteChannel> ConnectAsync(string host, int port, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(host);
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
        try
        {
            if (IPAddress.TryParse(host, out var address))
            {
                if (address.AddressFamily == AddressFamily.InterNetwork && socket.AddressFamily == AddressFamily.InterNetworkV6)
                {
                    address = address.MapToIPv6();
                }

                await socket.ConnectAsync(new IPEndPoint(address, port), cancellationToken).ConfigureAwait(false);
            }
            else
            {
                await socket.ConnectAsync(host, port, cancellationToken).ConfigureAwait(false);
            }

            return new TcpByteChannel(socket);
        }
        catch (SocketException e)
        {
            socket.Dispose();
            throw new IOException($"cannot connect to {host}:{port}: {e.Message}", e);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <inheritdoc/>
    public async ValueTask WriteAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        try
        {
            while (!data.IsEmpty)
            {
                int sent = await _socket.SendAsync(data, SocketFlags.None, cancellationToken).ConfigureAwait(false);
                data = data[sent..];
            }
        }
        catch (SocketException e)
        {
            throw new IOException($"{Description}: {e.Message}", e);
        }
    }

    /// <inheritdoc/>
    public async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken)
    {
        try
        {
            return await _socket.ReceiveAsync(buffer, SocketFlags.None, cancellationToken).ConfigureAwait(false);
        }
        catch (SocketException e)
        {
            throw new IOException($"{Description}: {e.Message}", e);
        }
    }

    /// <inheritdoc/>
    public void DiscardInput()
    {
        _discardBuffer ??= new byte[512];
        while (_socket.Available > 0)
        {
            if (_socket.Receive(_discardBuffer, SocketFlags.None) <= 0)
            {
                return;
            }
        }
    }

    /// <inheritdoc/>
    public ValueTask DisposeAsync()
    {
        _socket.Dispose();
        return ValueTask.CompletedTask;
    }
}
