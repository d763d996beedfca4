using System.Diagnostics.CodeAnalysis;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;

namespace Sockeye.Conformance.Wire;

/// <summary>The opening handshake from either side (RFC 6455 4.1 and 4.2).</summary>
internal static class Handshake
{
    private const string AcceptGuid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
    private const int MaxHeadBytes = 16 * 1024;

    /// <summary>RFC 6455 4.2.2 step 5.4: base64(SHA-1(key + GUID)).</summary>
    [SuppressMessage("Security", "CA5350:Do Not Use Weak Cryptographic Algorithms", Justification = "RFC 6455 mandates SHA-1 here; it is not used for security.")]
    public static string AcceptFor(string key) =>
        Convert.ToBase64String(SHA1.HashData(Encoding.ASCII.GetBytes(key + AcceptGuid)));

    /// <summary>Sends the client request and validates the server's 101; returns an error or null.</summary>
    public static async Task<string?> ClientAsync(NetworkStream stream, InputBuffer input, Uri url, CancellationToken cancellationToken)
    {
        var key = Convert.ToBase64String(RandomNumberGenerator.GetBytes(16));
        var request =
            $"GET {url.PathAndQuery} HTTP/1.1\r\n" +
            $"Host: {url.Authority}\r\n" +
            "Upgrade: websocket\r\n" +
            "Connection: Upgrade\r\n" +
            $"Sec-WebSocket-Key: {key}\r\n" +
            "Sec-WebSocket-Version: 13\r\n" +
            "User-Agent: sockeye-conformance\r\n\r\n";
        await stream.WriteAsync(Encoding.ASCII.GetBytes(request), cancellationToken);

        var text = await input.ReadHttpHeadAsync(MaxHeadBytes, cancellationToken);
        if (text is null)
        {
            return "connection closed before the HTTP response was complete";
        }

        // RFC 6455 4.1, client-side validation of the server's handshake.
        var head = HttpHead.Parse(text);
        var status = head.StartLine.Split(' ', 3);
        if (status.Length < 2 || !status[0].StartsWith("HTTP/1.1", StringComparison.Ordinal) || status[1] != "101")
        {
            return $"expected HTTP/1.1 101, got \"{head.StartLine}\"";
        }

        if (!head.HasToken("Upgrade", "websocket"))
        {
            return "101 response without \"Upgrade: websocket\" (RFC 6455 4.1)";
        }

        if (!head.HasToken("Connection", "Upgrade"))
        {
            return "101 response without \"Connection: Upgrade\" (RFC 6455 4.1)";
        }

        if (head["Sec-WebSocket-Accept"] != AcceptFor(key))
        {
            return $"Sec-WebSocket-Accept is \"{head["Sec-WebSocket-Accept"]}\", expected \"{AcceptFor(key)}\" (RFC 6455 4.1)";
        }

        if (head["Sec-WebSocket-Extensions"] is { } extensions)
        {
            return $"server selected extensions \"{extensions}\" that were not offered (RFC 6455 4.1)";
        }

        return head["Sec-WebSocket-Protocol"] is { } protocol
            ? $"server selected subprotocol \"{protocol}\" that was not offered (RFC 6455 4.1)"
            : null;
    }

    /// <summary>Reads and validates the client's request (RFC 6455 4.2.1) and answers 101; returns an error or null.</summary>
    public static async Task<string?> ServerAsync(NetworkStream stream, InputBuffer input, string expectedPath, CancellationToken cancellationToken)
    {
        var text = await input.ReadHttpHeadAsync(MaxHeadBytes, cancellationToken);
        if (text is null)
        {
            return "connection closed before the HTTP request was complete";
        }

        var head = HttpHead.Parse(text);
        var error = ValidateRequest(head, expectedPath);
        if (error is not null)
        {
            await stream.WriteAsync("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"u8.ToArray(), cancellationToken);
            return error;
        }

        var response =
            "HTTP/1.1 101 Switching Protocols\r\n" +
            "Upgrade: websocket\r\n" +
            "Connection: Upgrade\r\n" +
            $"Sec-WebSocket-Accept: {AcceptFor(head["Sec-WebSocket-Key"]!)}\r\n\r\n";
        await stream.WriteAsync(Encoding.ASCII.GetBytes(response), cancellationToken);
        return null;
    }

    private static string? ValidateRequest(HttpHead head, string expectedPath)
    {
        var requestLine = head.StartLine.Split(' ');
        if (requestLine.Length != 3 || requestLine[0] != "GET" || requestLine[2] != "HTTP/1.1")
        {
            return $"request line \"{head.StartLine}\" is not \"GET <path> HTTP/1.1\" (RFC 6455 4.1)";
        }

        if (requestLine[1] != expectedPath)
        {
            return $"requested \"{requestLine[1]}\", expected \"{expectedPath}\"";
        }

        if (string.IsNullOrWhiteSpace(head["Host"]))
        {
            return "request without a Host header (RFC 6455 4.1)";
        }

        if (!head.HasToken("Upgrade", "websocket"))
        {
            return "request without \"Upgrade: websocket\" (RFC 6455 4.1)";
        }

        if (!head.HasToken("Connection", "Upgrade"))
        {
            return "request without \"Connection: Upgrade\" (RFC 6455 4.1)";
        }

        if (head["Sec-WebSocket-Version"] != "13")
        {
            return $"Sec-WebSocket-Version is \"{head["Sec-WebSocket-Version"]}\", expected 13 (RFC 6455 4.1)";
        }

        var key = head["Sec-WebSocket-Key"];
        Span<byte> decoded = stackalloc byte[24];
        return key is null || !Convert.TryFromBase64String(key, decoded, out var length) || length != 16
            ? $"Sec-WebSocket-Key \"{key}\" is not 16 base64-encoded bytes (RFC 6455 4.1)"
            : null;
    }
}
