using System.Text;

namespace Sockeye.Protocol;

/// <summary>Client side of the opening handshake (RFC 6455 §4.1): the request, and validation of the answer.</summary>
internal static class UpgradeResponse
{
    /// <summary>Builds the client's opening handshake request for <paramref name="uri"/> (ws:// or wss://).</summary>
    public static byte[] BuildRequest(Uri uri, string key, IReadOnlyList<string> subprotocols,
        IEnumerable<KeyValuePair<string, string>>? extraHeaders = null)
    {
        ArgumentNullException.ThrowIfNull(uri);
        ArgumentNullException.ThrowIfNull(subprotocols);
        bool defaultPort = uri.IsDefaultPort || (uri.Scheme == "ws" && uri.Port == 80) || (uri.Scheme == "wss" && uri.Port == 443);
        var sb = new StringBuilder(256);
        sb.Append("GET ").Append(string.IsNullOrEmpty(uri.PathAndQuery) ? "/" : uri.PathAndQuery).Append(" HTTP/1.1\r\n");
        sb.Append("Host: ").Append(uri.IdnHost.Contains(':', StringComparison.Ordinal) ? "[" + uri.IdnHost + "]" : uri.IdnHost);
        if (!defaultPort)
        {
            sb.Append(':').Append(uri.Port);
        }

        sb.Append("\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ").Append(key);
        sb.Append("\r\nSec-WebSocket-Version: 13\r\n");
        if (subprotocols.Count > 0)
        {
            sb.Append("Sec-WebSocket-Protocol: ").AppendJoin(", ", subprotocols).Append("\r\n");
        }

        foreach (var header in extraHeaders ?? [])
        {
            sb.Append(header.Key).Append(": ").Append(header.Value).Append("\r\n");
        }

        sb.Append("\r\n");
        return Encoding.ASCII.GetBytes(sb.ToString());
    }

    /// <summary>
    /// Validates the server's answer (§4.1, "the client MUST validate the server's response"): status 101,
    /// <c>Upgrade: websocket</c>, <c>Connection: Upgrade</c>, the exact accept value, a subprotocol only from those
    /// offered, and no extension at all (none was offered). Returns null when valid, else the reason to fail.
    /// </summary>
    public static string? Validate(HttpHead response, string key, IReadOnlyList<string> offeredSubprotocols, out string? subprotocol) =>
        Validate(response, key, offeredSubprotocols, [], out subprotocol, out _);

    /// <summary>
    /// As <see cref="Validate(HttpHead, string, IReadOnlyList{string}, out string?)"/>, where the client offered the
    /// extensions named <paramref name="offeredExtensions"/>: an answer naming any other fails (§4.1 item 6), and
    /// <paramref name="extensions"/> gets the answer's elements for each extension to check its own parameters
    /// (this layer knows no extension).
    /// </summary>
    public static string? Validate(HttpHead response, string key, IReadOnlyList<string> offeredSubprotocols,
        IReadOnlyList<string> offeredExtensions, out string? subprotocol, out List<ExtensionOffer> extensions)
    {
        ArgumentNullException.ThrowIfNull(response);
        ArgumentNullException.ThrowIfNull(offeredSubprotocols);
        ArgumentNullException.ThrowIfNull(offeredExtensions);
        subprotocol = null;
        extensions = [];
        if (response.StatusCode != 101)
        {
            return $"server answered {response.StatusCode} {response.ReasonPhrase} instead of 101";
        }

        if (!response.HasToken("Upgrade", "websocket"))
        {
            return "response Upgrade header is not websocket";
        }

        if (!response.HasToken("Connection", "Upgrade"))
        {
            return "response Connection header does not include Upgrade";
        }

        if (response.Count("Sec-WebSocket-Accept") != 1 ||
            !string.Equals(response.Get("Sec-WebSocket-Accept"), HandshakeKey.ComputeAccept(key), StringComparison.Ordinal))
        {
            return "Sec-WebSocket-Accept does not match the key";
        }

        // §4.1 item 6: an extension the client did not request fails the connection. Whether the parameters of an
        // offered one are acceptable is that extension's rule (RFC 7692 §7.1 for permessage-deflate).
        extensions = ExtensionHeader.Parse(response);
        foreach (ExtensionOffer extension in extensions)
        {
            if (!offeredExtensions.Contains(extension.Name, StringComparer.OrdinalIgnoreCase))
            {
                return $"server selected extension '{extension.Name}', which was not offered";
            }
        }

        // §4.1 item 6: a subprotocol that was not offered fails the connection.
        string? chosen = response.Get("Sec-WebSocket-Protocol");
        if (chosen is not null)
        {
            if (response.Count("Sec-WebSocket-Protocol") != 1 || !offeredSubprotocols.Contains(chosen.Trim(), StringComparer.Ordinal))
            {
                return "server selected a subprotocol that was not offered";
            }

            subprotocol = chosen.Trim();
        }

        return null;
    }
}
