using Sockeye.Server;

namespace Sockeye.AspNetCore;

/// <summary>
/// Settings of one <see cref="SockeyeEndpointRouteBuilderExtensions.MapSockeye"/> endpoint, read when it is mapped.
/// The same handshake rules as <see cref="WebSocketServer"/> (<see cref="HandshakePolicy"/>): origin check, limit,
/// hook, subprotocol, permessage-deflate. Host names are ASP.NET Core's to filter (its host filtering middleware).
/// </summary>
public sealed class SockeyeOptions
{
    /// <summary>
    /// Origins whose browser pages may connect besides the request's own (scheme, host and port of the request);
    /// "*" allows every origin. Requests without <c>Origin</c> (non-browser clients) are accepted. Others get 403.
    /// </summary>
    public IList<string> AllowedOrigins { get; } = [];

    /// <summary>Limits and timeouts of each connection (message size, compression, keepalive, ...).</summary>
    public WebSocketOptions WebSocket { get; set; } = new();

    /// <summary>Most connections open at once on this endpoint (503 beyond; default as <see cref="WebSocketServerOptions.MaxConnections"/>).</summary>
    public int MaxConnections { get; set; } = new WebSocketServerOptions().MaxConnections;

    /// <summary>
    /// Whether an idle connection gives its 4 KiB read buffer back (default false). Kestrel's upgraded streams turn
    /// the zero-byte read that makes this possible into a second full read per arrival, which halves the rate of
    /// small messages (docs/performance.md); set it for many mostly idle connections where memory matters more.
    /// </summary>
    public bool ReleaseReadBufferWhenIdle { get; set; }

    /// <summary>Subprotocols this endpoint speaks, chosen in the client's order (RFC 6455 §4.2.2).</summary>
    public IList<string> Subprotocols { get; } = [];

    /// <summary>Optional custom subprotocol choice (see <see cref="EndpointOptions.SelectSubprotocol"/>).</summary>
    public Func<IReadOnlyList<string>, string?>? SelectSubprotocol { get; set; }

    /// <summary>
    /// Runs before the upgrade is accepted (after ASP.NET Core's authentication and authorization): may refuse,
    /// pick the subprotocol, attach state.
    /// </summary>
    public HandshakeHook? OnHandshake { get; set; }
}
