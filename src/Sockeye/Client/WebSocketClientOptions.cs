using Microsoft.Extensions.Logging;

namespace Sockeye.Client;

/// <summary>Client settings.</summary>
public sealed class WebSocketClientOptions
{
    /// <summary>Subprotocols to offer, in order of preference.</summary>
    public IList<string> Subprotocols { get; } = [];

    /// <summary>Extra request headers (e.g. Origin, Authorization, Cookie).</summary>
    public IList<KeyValuePair<string, string>> Headers { get; } = [];

    /// <summary>Limits and timeouts for the connection.</summary>
    public WebSocketOptions WebSocket { get; set; } = new();

    /// <summary>Time allowed to connect and complete the opening handshake (default 10 s).</summary>
    public TimeSpan HandshakeTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Largest response head accepted.</summary>
    public int MaxResponseHeaderBytes { get; set; } = 16 * 1024;

    /// <summary>
    /// Accept any server certificate for wss:// (for testing against self-signed certificates only). Off by
    /// default: certificates are validated against the system's trust store and the host name.
    /// </summary>
    public bool AllowInvalidCertificates { get; set; }

    /// <summary>Custom certificate validation for wss://, overriding the default (e.g. to pin a certificate).</summary>
    public System.Net.Security.RemoteCertificateValidationCallback? RemoteCertificateValidation { get; set; }

    /// <summary>Where the connection logs; null for no logging.</summary>
    public ILoggerFactory? LoggerFactory { get; set; }
}
