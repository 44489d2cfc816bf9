using System.Globalization;
using System.Text;
using EdgeMeter.Crypto.Hashing;

namespace EdgeMeter.Crypto.Signing;

/// <summary>EIP-191 version 0x45 ("personal_sign"), the digest ethers' <c>signMessage</c> signs.</summary>
public static class Eip191
{
    private static readonly byte[] Prefix = Encoding.ASCII.GetBytes("\u0019Ethereum Signed Message:\n");

    /// <summary>keccak256("\x19Ethereum Signed Message:\n" ‖ decimal length ‖ message).</summary>
    public static void HashPersonalMessage(ReadOnlySpan<byte> message, Span<byte> digest32)
    {
        byte[] length = Encoding.ASCII.GetBytes(message.Length.ToString(CultureInfo.InvariantCulture));
        var buffer = new byte[Prefix.Length + length.Length + message.Length];
        Prefix.CopyTo(buffer, 0);
        length.CopyTo(buffer, Prefix.Length);
        message.CopyTo(buffer.AsSpan(Prefix.Length + length.Length));
        Keccak256.Hash(buffer, digest32);
    }
}
