using System.Security.Cryptography;
using System.Text;

namespace Sockeye.Protocol;

/// <summary>The Sec-WebSocket-Key / Sec-WebSocket-Accept computation (RFC 6455 §4.2.2, §1.3).</summary>
internal static class HandshakeKey
{
    private static ReadOnlySpan<byte> Guid => "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"u8;

    /// <summary>
    /// The accept value for <paramref name="key"/>: base64(SHA-1(key + GUID)). Always 28 characters, never line-wrapped
    /// and never followed by whitespace (a trailing CR LF here corrupts the frame stream in browsers).
    /// </summary>
    public static string ComputeAccept(string key)
    {
        Span<byte> input = stackalloc byte[Encoding.ASCII.GetMaxByteCount(key.Length) + Guid.Length];
        int n = Encoding.ASCII.GetBytes(key, input);
        Guid.CopyTo(input[n..]);
        Span<byte> hash = stackalloc byte[SHA1.HashSizeInBytes];
#pragma warning disable CA5350 // SHA-1 is what RFC 6455 §4.2.2 specifies; it is not used for security here.
        SHA1.HashData(input[..(n + Guid.Length)], hash);
#pragma warning restore CA5350
        return Convert.ToBase64String(hash);
    }

    /// <summary>A new client key: 16 bytes from a cryptographic RNG, base64-encoded (§4.1).</summary>
    public static string NewKey()
    {
        Span<byte> nonce = stackalloc byte[16];
        RandomNumberGenerator.Fill(nonce);
        return Convert.ToBase64String(nonce);
    }

    /// <summary>True when <paramref name="key"/> is base64 that decodes to exactly 16 bytes (§4.2.1 item 5).</summary>
    public static bool IsValidKey(string? key)
    {
        if (key is null || key.Length != 24)
        {
            return false;
        }

        Span<byte> decoded = stackalloc byte[18];
        return Convert.TryFromBase64String(key, decoded, out int written) && written == 16;
    }
}
