using System.Diagnostics.CodeAnalysis;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using Sockeye.Conformance.Deflate;

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

    /// <summary>
    /// Sends the client request, with one Sec-WebSocket-Extensions line per entry of <paramref name="extensionOffers"/>
    /// when given, and validates the server's 101. Without offers any extension in the answer is an error; with them,
    /// the answer is judged by <see cref="Negotiation.EvaluateAnswer"/> and left to the case.
    /// </summary>
    public static async Task<HandshakeResult> ClientAsync(NetworkStream stream, InputBuffer input, Uri url, IReadOnlyList<string>? extensionOffers, CancellationToken cancellationToken)
    {
        var key = Convert.ToBase64String(RandomNumberGenerator.GetBytes(16));
        var extensions = extensionOffers is null ? "" : string.Concat(extensionOffers.Select(line => $"Sec-WebSocket-Extensions: {line}\r\n"));
        var request =
            $"GET {url.PathAndQuery} HTTP/1.1\r\n" +
            $"Host: {url.Authority}\r\n" +
            "Upgrade: websocket\r\n" +
            "Connection: Upgrade\r\n" +
            $"Sec-WebSocket-Key: {key}\r\n" +
            "Sec-WebSocket-Version: 13\r\n" +
            extensions +
            "User-Agent: sockeye-conformance\r\n\r\n";
        await stream.WriteAsync(Encoding.ASCII.GetBytes(request), cancellationToken);

        var text = await input.ReadHttpHeadAsync(MaxHeadBytes, cancellationToken);
        if (text is null)
        {
            return HandshakeResult.Failed("connection closed before the HTTP response was complete");
        }

        // RFC 6455 4.1, client-side validation of the server's handshake.
        var head = HttpHead.Parse(text);
        var status = head.StartLine.Split(' ', 3);
        if (status.Length < 2 || !status[0].StartsWith("HTTP/1.1", StringComparison.Ordinal) || status[1] != "101")
        {
            return HandshakeResult.Failed($"expected HTTP/1.1 101, got \"{head.StartLine}\"") with { Refused = true };
        }

        var error = ValidateResponse(head, key, extensionOffers is not null);
        return error is not null
            ? HandshakeResult.Failed(error)
            : new HandshakeResult(null, extensionOffers is null ? null : Negotiation.EvaluateAnswer(extensionOffers, head["Sec-WebSocket-Extensions"]));
    }

    private static string? ValidateResponse(HttpHead head, string key, bool offeredExtensions)
    {
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

        if (!offeredExtensions && head["Sec-WebSocket-Extensions"] is { } extensions)
        {
            return $"server selected extensions \"{extensions}\" that were not offered (RFC 6455 4.1)";
        }

        return head["Sec-WebSocket-Protocol"] is { } protocol
            ? $"server selected subprotocol \"{protocol}\" that was not offered (RFC 6455 4.1)"
            : null;
    }

    /// <summary>
    /// Reads and validates the client's request (RFC 6455 4.2.1) and answers 101. Extension offers are declined unless
    /// <paramref name="answer"/> is given: it sees the client's Sec-WebSocket-Extensions and decides what we answer.
    /// </summary>
    public static async Task<HandshakeResult> ServerAsync(NetworkStream stream, InputBuffer input, string expectedPath, Func<string?, ServerAnswer>? answer, CancellationToken cancellationToken)
    {
        var text = await input.ReadHttpHeadAsync(MaxHeadBytes, cancellationToken);
        if (text is null)
        {
            return HandshakeResult.Failed("connection closed before the HTTP request was complete");
        }

        var head = HttpHead.Parse(text);
        var error = ValidateRequest(head, expectedPath);
        if (error is not null)
        {
            await stream.WriteAsync("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"u8.ToArray(), cancellationToken);
            return HandshakeResult.Failed(error);
        }

        var offered = head["Sec-WebSocket-Extensions"];
        var ours = answer?.Invoke(offered);
        var response =
            "HTTP/1.1 101 Switching Protocols\r\n" +
            "Upgrade: websocket\r\n" +
            "Connection: Upgrade\r\n" +
            (ours?.Header is { } extensions ? $"Sec-WebSocket-Extensions: {extensions}\r\n" : "") +
            $"Sec-WebSocket-Accept: {AcceptFor(head["Sec-WebSocket-Key"]!)}\r\n\r\n";
        await stream.WriteAsync(Encoding.ASCII.GetBytes(response), cancellationToken);
        return new HandshakeResult(null, ours is null ? null : new Negotiation
        {
            Offered = offered,
            Answered = ours.Header,
            Agreement = ours.Agreement,
            NotApplicable = ours.NotApplicable,
        });
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

/// <summary>The outcome of the opening handshake: an error (<see cref="Refused"/> when the server answered other than 101) or the negotiation.</summary>
internal sealed record HandshakeResult(string? Error, Negotiation? Negotiation)
{
    public bool Refused { get; init; }

    public static HandshakeResult Failed(string error) => new(error, null);
}
