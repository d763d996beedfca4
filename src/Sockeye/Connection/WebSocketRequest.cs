using System.Net;
using Sockeye.Protocol;

namespace Sockeye;

/// <summary>The HTTP request that opened a connection: what an endpoint needs to decide who it is talking to.</summary>
public sealed class WebSocketRequest
{
    /// <summary>
    /// A request received by another HTTP host (e.g. ASP.NET Core), for <see cref="Server.HandshakePolicy"/>.
    /// <paramref name="method"/> is <c>GET</c> for an HTTP/1.1 upgrade (RFC 6455 §4.1) or <c>CONNECT</c> for an
    /// extended CONNECT over HTTP/2 or HTTP/3 (RFC 8441 §4, RFC 9220); <paramref name="target"/> is the path and query
    /// as sent (percent-encoding intact), e.g. <c>/chat?room=1</c>; <paramref name="headers"/> are the request's
    /// fields (for HTTP/2, <c>:authority</c> as <c>Host</c>).
    /// </summary>
    public WebSocketRequest(string method, string target, IEnumerable<KeyValuePair<string, string>> headers,
        EndPoint? remoteEndPoint = null, EndPoint? localEndPoint = null)
        : this(CreateHead(method, target, headers), remoteEndPoint, localEndPoint)
    {
    }

    internal WebSocketRequest(HttpHead head, EndPoint? remote, EndPoint? local)
    {
        Head = head;
        RemoteEndPoint = remote;
        LocalEndPoint = local;
        string target = head.Target;
        int q = target.IndexOf('?', StringComparison.Ordinal);
        RawPath = q < 0 ? target : target[..q];
        QueryString = q < 0 ? string.Empty : target[q..];
        Path = Uri.UnescapeDataString(RawPath);
    }

    internal HttpHead Head { get; }

    /// <summary>Whether this is an extended CONNECT (RFC 8441, WebSockets over HTTP/2) rather than an HTTP/1.1 upgrade.</summary>
    internal bool IsExtendedConnect => string.Equals(Head.Method, "CONNECT", StringComparison.Ordinal);

    private static HttpHead CreateHead(string method, string target, IEnumerable<KeyValuePair<string, string>> headers)
    {
        ArgumentException.ThrowIfNullOrEmpty(method);
        ArgumentNullException.ThrowIfNull(target);
        ArgumentNullException.ThrowIfNull(headers);
        if (!target.StartsWith('/'))
        {
            throw new ArgumentException("The target is a path (and query) starting with '/'.", nameof(target));
        }

        // The version only tells the handshake rules which mechanism this is: extended CONNECT is HTTP/2's.
        bool connect = string.Equals(method, "CONNECT", StringComparison.Ordinal);
        var head = new HttpHead { Method = method, Target = target, VersionMajor = connect ? 2 : 1, VersionMinor = connect ? 0 : 1 };
        foreach (var field in headers)
        {
            head.Add(field.Key, field.Value);
        }

        return head;
    }

    /// <summary>Request method (GET for WebSocket upgrades).</summary>
    public string Method => Head.Method;

    /// <summary>Decoded path, e.g. <c>/chat</c>.</summary>
    public string Path { get; }

    /// <summary>Path as sent, percent-encoding intact.</summary>
    public string RawPath { get; }

    /// <summary>Query string including the leading '?', or empty.</summary>
    public string QueryString { get; }

    /// <summary>The request headers in arrival order (names as sent).</summary>
    public IReadOnlyList<KeyValuePair<string, string>> Headers => Head.Fields;

    /// <summary>A header's value (repeated fields joined with ", "), or null. Names compare case-insensitively.</summary>
    public string? GetHeader(string name) => Head.Get(name);

    /// <summary>The peer's address.</summary>
    public EndPoint? RemoteEndPoint { get; }

    /// <summary>The local address the request arrived on.</summary>
    public EndPoint? LocalEndPoint { get; }

    /// <summary>The value of cookie <paramref name="name"/> from the Cookie header (RFC 6265 §5.4), or null.</summary>
    public string? GetCookie(string name)
    {
        foreach (var field in Head.Fields)
        {
            if (!string.Equals(field.Key, "Cookie", StringComparison.OrdinalIgnoreCase))
            {
                continue;
            }

            foreach (string pair in field.Value.Split(';', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
            {
                int eq = pair.IndexOf('=', StringComparison.Ordinal);
                if (eq > 0 && pair.AsSpan(0, eq).Trim().SequenceEqual(name))
                {
                    return pair[(eq + 1)..].Trim().Trim('"');
                }
            }
        }

        return null;
    }

    /// <summary>The value of query parameter <paramref name="name"/> (first occurrence, decoded), or null.</summary>
    public string? GetQuery(string name)
    {
        foreach (var part in QueryString.TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            int eq = part.IndexOf('=', StringComparison.Ordinal);
            string key = Uri.UnescapeDataString((eq < 0 ? part : part[..eq]).Replace('+', ' '));
            if (key == name)
            {
                return eq < 0 ? string.Empty : Uri.UnescapeDataString(part[(eq + 1)..].Replace('+', ' '));
            }
        }

        return null;
    }
}
