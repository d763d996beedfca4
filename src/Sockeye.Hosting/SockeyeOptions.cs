namespace Sockeye.Hosting;

/// <summary>
/// The server settings that come from configuration (e.g. the "Sockeye" section of appsettings.json). Defaults are the
/// core library's. Settings that are objects rather than values (certificate, static files, hooks) are set in code
/// with <see cref="SockeyeBuilder.ConfigureOptions"/>.
/// </summary>
public sealed class SockeyeOptions
{
    private static readonly WebSocketOptions ConnectionDefaults = new();

    /// <summary>Address to listen on: an IP address, "localhost", or "*" for all interfaces (default 127.0.0.1).</summary>
    public string Host { get; set; } = "127.0.0.1";

    /// <summary>TCP port, 0 to 65535 (default 9876; 0 picks a free port).</summary>
    public int Port { get; set; } = 9876;

    /// <summary>Most WebSocket connections open at once; null for the core default (derived from the open-file limit).</summary>
    public int? MaxConnections { get; set; }

    /// <summary>Largest message accepted, in bytes (default 1 MiB); larger ones are closed with 1009.</summary>
    public long MaxMessageSize { get; set; } = ConnectionDefaults.MaxMessageSize;

    /// <summary>Largest frame accepted, in bytes; null for <see cref="MaxMessageSize"/>.</summary>
    public long? MaxFrameSize { get; set; } = ConnectionDefaults.MaxFrameSize;

    /// <summary>Most bytes queued for sending to one connection before sends wait (default 1 MiB).</summary>
    public long MaxSendBuffer { get; set; } = ConnectionDefaults.MaxSendBuffer;

    /// <summary>Interval between server pings (default 20 s; zero turns pings off).</summary>
    public TimeSpan PingInterval { get; set; } = ConnectionDefaults.PingInterval;

    /// <summary>A ping whose pong has not arrived within this time closes the connection with 1011 (default 20 s).</summary>
    public TimeSpan PingTimeout { get; set; } = ConnectionDefaults.PingTimeout;

    /// <summary>A connection with no traffic for this long is closed (default zero: never).</summary>
    public TimeSpan IdleTimeout { get; set; } = ConnectionDefaults.IdleTimeout;

    /// <summary>How long a send may wait for a full send buffer to drain before the peer is cut off with 1008 (default 30 s).</summary>
    public TimeSpan SendTimeout { get; set; } = ConnectionDefaults.SendTimeout;

    /// <summary>How long to wait for the client's close frame after the server's (default 5 s).</summary>
    public TimeSpan CloseTimeout { get; set; } = ConnectionDefaults.CloseTimeout;

    /// <summary>
    /// Accept permessage-deflate (RFC 7692) offers (default false), with the settings in <see cref="Compression"/>.
    /// </summary>
    public bool EnableCompression { get; set; }

    /// <summary>
    /// permessage-deflate settings, used when <see cref="EnableCompression"/> is true (e.g. "Sockeye:Compression:CompressionLevel").
    /// </summary>
    public PerMessageDeflateOptions Compression { get; } = new();

    /// <summary>Time allowed for a complete request head (default 10 s).</summary>
    public TimeSpan HandshakeTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>On stop, how long connections have to finish their closing handshakes (default 5 s).</summary>
    public TimeSpan ShutdownTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Browser origins allowed besides the server's own; "*" allows all (see WebSocketServerOptions.AllowedOrigins).</summary>
    public IList<string> AllowedOrigins { get; } = [];

    /// <summary>Host header names accepted besides the loopback names (see WebSocketServerOptions.AllowedHosts).</summary>
    public IList<string> AllowedHosts { get; } = [];
}
