using System.Text;

namespace Sockeye.Protocol;

/// <summary>The server's verdict on an HTTP request (RFC 6455 §4.2.1).</summary>
internal enum UpgradeKind
{
    /// <summary>Not a WebSocket upgrade at all: an ordinary HTTP request.</summary>
    NotUpgrade,
    /// <summary>A valid WebSocket opening handshake.</summary>
    Valid,
    /// <summary>An upgrade attempt that must be refused with <see cref="UpgradeCheck.Status"/>.</summary>
    Invalid,
}

/// <summary>Result of <see cref="UpgradeRequest.Check"/>.</summary>
/// <param name="Kind">The verdict.</param>
/// <param name="Status">HTTP status to answer for <see cref="UpgradeKind.Invalid"/>.</param>
/// <param name="Reason">Why the request was refused.</param>
internal readonly record struct UpgradeCheck(UpgradeKind Kind, int Status = 0, string Reason = "");

/// <summary>Server-side validation of the opening handshake and the 101 response (RFC 6455 §4.2).</summary>
internal static class UpgradeRequest
{
    /// <summary>
    /// Classifies a request head: an ordinary request (no <c>Upgrade: websocket</c> and no WebSocket key), a valid
    /// handshake, or a refused one with its status: 505 for an HTTP major version other than 1, 405 for a non-GET
    /// upgrade, 426 for a WebSocket version other than 13, 400 for anything else malformed.
    /// </summary>
    public static UpgradeCheck Check(HttpHead head)
    {
        ArgumentNullException.ThrowIfNull(head);
        bool wantsWebSocket = head.HasToken("Upgrade", "websocket") || head.Count("Sec-WebSocket-Key") > 0;
        if (!wantsWebSocket)
        {
            return new(UpgradeKind.NotUpgrade);
        }

        // §4.2.1 item 1: "An HTTP/1.1 or higher GET request". The upgrade mechanism is HTTP/1.1's (RFC 9110 §7.8;
        // HTTP/2 and 3 use RFC 8441/9220 instead), and this is an HTTP/1.x parser: another major version gets 505
        // (RFC 9110 §15.6.6). HTTP/1.2+ is HTTP/1.1 to us (RFC 9112 §2.3).
        if (head.VersionMajor != 1)
        {
            return Refuse(505, "only HTTP/1.1 can be upgraded to WebSocket");
        }

        if (!string.Equals(head.Method, "GET", StringComparison.Ordinal))
        {
            return Refuse(405, "WebSocket upgrade requires GET");
        }

        if (!head.IsHttp11OrLater)
        {
            return Refuse(400, "WebSocket upgrade requires HTTP/1.1 or later");
        }

        // A body on the upgrade request would be read as WebSocket frames; refuse it (RFC 9110 §9.3.1: GET has none).
        string? contentLength = head.Get("Content-Length");
        if (head.Count("Transfer-Encoding") > 0 || (contentLength is not null && contentLength.Trim() != "0"))
        {
            return Refuse(400, "WebSocket upgrade request must not have a body");
        }

        // §4.2.1 item 2: a Host header field.
        if (head.Count("Host") != 1)
        {
            return Refuse(400, "missing or repeated Host header");
        }

        // RFC 9112 §3.2: a Host with an invalid value is refused like a missing one.
        if (!HostHeader.TryParse(head.Get("Host")!, out _))
        {
            return Refuse(400, "invalid Host header");
        }

        // §4.2.1 items 3–4: Upgrade contains "websocket", Connection contains "Upgrade" (token lists, any case).
        if (!head.HasToken("Upgrade", "websocket"))
        {
            return Refuse(400, "Upgrade header does not include websocket");
        }

        if (!head.HasToken("Connection", "Upgrade"))
        {
            return Refuse(400, "Connection header does not include Upgrade");
        }

        // §4.2.1 item 6 / §4.4: only version 13; anything else gets 426 with the versions we speak.
        string? version = head.Get("Sec-WebSocket-Version");
        if (version is null)
        {
            return Refuse(400, "missing Sec-WebSocket-Version header");
        }

        if (version.Trim() != "13")
        {
            return Refuse(426, "unsupported WebSocket version");
        }

        // §4.2.1 item 5: a base64 key that decodes to 16 bytes, exactly once.
        if (head.Count("Sec-WebSocket-Key") != 1 || !HandshakeKey.IsValidKey(head.Get("Sec-WebSocket-Key")?.Trim()))
        {
            return Refuse(400, "Sec-WebSocket-Key must be base64 of 16 bytes");
        }

        return new(UpgradeKind.Valid);
    }

    private static UpgradeCheck Refuse(int status, string reason) => new(UpgradeKind.Invalid, status, reason);

    /// <summary>The subprotocols the client offered, in its order of preference (§4.1, §11.3.4).</summary>
    public static List<string> OfferedSubprotocols(HttpHead head)
    {
        ArgumentNullException.ThrowIfNull(head);
        return HeaderTokens.Split(head.Get("Sec-WebSocket-Protocol"));
    }

    /// <summary>Writes the 101 response (§4.2.2 item 5). <paramref name="subprotocol"/> must be one the client offered.</summary>
    public static byte[] BuildAcceptResponse(HttpHead request, string? subprotocol, string? extensions = null,
        IEnumerable<KeyValuePair<string, string>>? extraHeaders = null)
    {
        ArgumentNullException.ThrowIfNull(request);
        var sb = new StringBuilder(160);
        sb.Append("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ");
        sb.Append(HandshakeKey.ComputeAccept(request.Get("Sec-WebSocket-Key")!.Trim())).Append("\r\n");
        if (subprotocol is not null)
        {
            sb.Append("Sec-WebSocket-Protocol: ").Append(subprotocol).Append("\r\n");
        }

        if (extensions is not null)
        {
            sb.Append("Sec-WebSocket-Extensions: ").Append(extensions).Append("\r\n");
        }

        foreach (var header in extraHeaders ?? [])
        {
            // Header injection guard: a CR or LF in an application-supplied header would split the response.
            if (header.Key.AsSpan().IndexOfAny('\r', '\n') >= 0 || header.Value.AsSpan().IndexOfAny('\r', '\n') >= 0)
            {
                throw new ArgumentException("Response headers must not contain CR or LF.", nameof(extraHeaders));
            }

            sb.Append(header.Key).Append(": ").Append(header.Value).Append("\r\n");
        }

        sb.Append("\r\n");
        return Encoding.ASCII.GetBytes(sb.ToString());
    }

    /// <summary>
    /// Writes a complete error response that closes the connection: after a non-101 answer the connection is never
    /// reused for another upgrade. 426 carries <c>Sec-WebSocket-Version: 13</c> (§4.4).
    /// </summary>
    public static byte[] BuildErrorResponse(int status, string reason, IEnumerable<KeyValuePair<string, string>>? extraHeaders = null)
    {
        string body = reason + "\n";
        var sb = new StringBuilder(200);
        sb.Append("HTTP/1.1 ").Append(status).Append(' ').Append(ReasonPhrase(status)).Append("\r\n");
        if (status == 426)
        {
            sb.Append("Sec-WebSocket-Version: 13\r\nUpgrade: websocket\r\n");
        }

        if (status == 405)
        {
            sb.Append("Allow: GET\r\n");
        }

        foreach (var header in extraHeaders ?? [])
        {
            sb.Append(header.Key).Append(": ").Append(header.Value).Append("\r\n");
        }

        sb.Append("Content-Type: text/plain; charset=utf-8\r\nX-Content-Type-Options: nosniff\r\nContent-Length: ").Append(Encoding.UTF8.GetByteCount(body));
        sb.Append("\r\nConnection: close\r\n\r\n").Append(body);
        return Encoding.UTF8.GetBytes(sb.ToString());
    }

    /// <summary>The reason phrase of a status code as RFC 9110 §15 spells it (e.g. "OK"); empty for unknown codes.</summary>
    public static string ReasonPhrase(int status) => ReasonPhrases.For(status);
}
