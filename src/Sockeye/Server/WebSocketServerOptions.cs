using Microsoft.Extensions.Logging;

namespace Sockeye.Server;

/// <summary>Server settings. Every limit has a safe default; see docs/security.md for the table.</summary>
public sealed class WebSocketServerOptions
{
    /// <summary>Address to listen on (default 127.0.0.1). Use 0.0.0.0 or :: for all interfaces.</summary>
    public string Host { get; set; } = "127.0.0.1";

    /// <summary>TCP port (default 9876; 0 picks a free port, see <see cref="WebSocketServer.Port"/>).</summary>
    public int Port { get; set; } = 9876;

    /// <summary>Limits and timeouts applied to each WebSocket connection.</summary>
    public WebSocketOptions WebSocket { get; set; } = new();

    /// <summary>Largest request head, in bytes (431 beyond; default 16 KiB).</summary>
    public int MaxRequestHeaderBytes { get; set; } = 16 * 1024;

    /// <summary>Most header fields in a request (431 beyond; default 100).</summary>
    public int MaxRequestHeaderFields { get; set; } = 100;

    /// <summary>Time allowed for a complete request head, per request (default 10 s); slower clients are disconnected.</summary>
    public TimeSpan HandshakeTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Files served to plain GET and HEAD requests on the same port (with ranges and validators; a client that
    /// stops reading is cut after <see cref="WebSocketOptions.SendTimeout"/>), or null to answer them with 404.
    /// </summary>
    public StaticFiles? StaticFiles { get; set; }

    /// <summary>Runs before every upgrade is accepted, before the endpoint's own hook (e.g. authentication).</summary>
    public HandshakeHook? OnHandshake { get; set; }

    /// <summary>Where the server logs; null for no logging.</summary>
    public ILoggerFactory? LoggerFactory { get; set; }

    /// <summary>
    /// Origins (e.g. <c>https://app.example.com</c>) whose browser pages may connect, besides the server's own. A
    /// request with an <c>Origin</c> header is accepted only if the origin matches the <c>Host</c> it was sent to or
    /// is listed here; "*" allows every origin. Requests without <c>Origin</c> (non-browser clients) are accepted.
    /// Refused requests get 403.
    /// </summary>
    public IList<string> AllowedOrigins { get; } = [];

    /// <summary>
    /// Host names (e.g. <c>app.example.com</c>, matched without the port, ignoring case) accepted in the <c>Host</c>
    /// header besides the loopback names (<c>localhost</c>, <c>*.localhost</c>, 127.0.0.0/8, <c>[::1]</c>); "*"
    /// accepts any. On a loopback listener (the default 127.0.0.1) only those names are served, which stops DNS
    /// rebinding: a hostile page whose name resolves to 127.0.0.1 is refused with 421 for upgrades and static files
    /// alike. On other listeners every name is served while this list is empty.
    /// </summary>
    public IList<string> AllowedHosts { get; } = [];

    /// <summary>
    /// Most WebSocket connections open at once (503 beyond). The default is what the process's open-file limit can
    /// serve: that limit less the descriptors already open when the options are created, less 64 of headroom, at
    /// most 100,000 (100,000 where the limit cannot be read).
    /// </summary>
    public int MaxConnections { get; set; } = DescriptorLimit.DefaultMaxConnections(DescriptorLimit.Current(), DescriptorLimit.InUse());

    /// <summary>On stop, how long to wait for connections to finish their closing handshakes (default 5 s).</summary>
    public TimeSpan ShutdownTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>When set, every connection is TLS (https:// and wss:// on the same port) with this certificate.</summary>
    public System.Security.Cryptography.X509Certificates.X509Certificate2? Certificate { get; set; }

    /// <summary>Listen backlog.</summary>
    public int Backlog { get; set; } = 1024;
}
