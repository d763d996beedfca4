using System.CommandLine;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Sockeye.Server;

namespace Sockeye.Cli;

/// <summary>The <c>sockeye serve</c> options for origins, host names, TLS, keepalive, limits and shutdown (docs/security.md).</summary>
internal sealed class ServeSafetyOptions
{
    private readonly Option<string[]> _origin = new("--origin") { Description = "Also allow browser pages from this origin (repeatable; '*' allows all). By default only pages from the server's own host may connect." };
    private readonly Option<string[]> _allowedHost = new("--allowed-host") { Description = "Also accept this name in the Host header (repeatable; '*' accepts any). On a loopback --host only localhost, *.localhost, 127.x.x.x and [::1] are accepted, which stops DNS rebinding; others get HTTP 421." };
    private readonly Option<FileInfo?> _tlsCert = new("--tls-cert") { Description = "Serve https:// and wss:// with this certificate: a PEM file (with --tls-key) or a PKCS#12 (.pfx/.p12) file." };
    private readonly Option<FileInfo?> _tlsKey = new("--tls-key") { Description = "PEM private key for --tls-cert." };
    private readonly Option<string?> _tlsPassword = new("--tls-password") { Description = "Password of a PKCS#12 --tls-cert (or of an encrypted PEM key)." };
    private readonly Option<double> _pingInterval = new Option<double>("--ping-interval") { Description = "Seconds between keepalive pings (0 = off).", DefaultValueFactory = _ => 20 }.Seconds(zero: true);
    private readonly Option<double> _pingTimeout = new Option<double>("--ping-timeout") { Description = "Seconds to wait for a pong before closing with 1011.", DefaultValueFactory = _ => 20 }.Seconds(zero: false);
    private readonly Option<double> _idleTimeout = new Option<double>("--idle-timeout") { Description = "Close connections that receive nothing for this many seconds with 1001 (0 = off).", DefaultValueFactory = _ => 0 }.Seconds(zero: true);
    private readonly Option<double> _handshakeTimeout = new Option<double>("--handshake-timeout") { Description = "Seconds allowed for the TLS handshake and each HTTP request head.", DefaultValueFactory = _ => 10 }.Seconds(zero: false);
    private readonly Option<double> _shutdownTimeout = new Option<double>("--shutdown-timeout") { Description = "On SIGTERM/Ctrl-C, seconds to wait for connections to answer close 1001.", DefaultValueFactory = _ => 5 }.Seconds(zero: true);
    private readonly Option<double> _sendTimeout = new Option<double>("--send-timeout") { Description = "Close a peer with 1008 when its send buffer stays full this many seconds (static files: cut the connection).", DefaultValueFactory = _ => 30 }.Seconds(zero: false);
    private readonly Option<long> _maxSendBuffer = new Option<long>("--max-send-buffer") { Description = "Bytes queued for sending per connection before senders wait.", DefaultValueFactory = _ => 1024 * 1024 }.Bytes();
    private readonly Option<int?> _maxConnections = new Option<int?>("--max-connections") { Description = "Most WebSocket connections at once; more get HTTP 503 (default: what the open-file limit can serve, at most 100000)." }.Whole(1, "a number of connections (1 or more)");

    public void AddTo(Command command)
    {
        _origin.HelpName = "URL";
        _allowedHost.HelpName = "NAME";
        _tlsCert.HelpName = "FILE";
        _tlsKey.HelpName = "PEM";
        _tlsPassword.HelpName = "PASSWORD";
        foreach (Option<double> seconds in (Option<double>[])[_pingInterval, _pingTimeout, _idleTimeout, _handshakeTimeout, _shutdownTimeout, _sendTimeout])
        {
            seconds.HelpName = "SECONDS";
        }

        _maxSendBuffer.HelpName = "BYTES";
        _maxConnections.HelpName = "N";
        foreach (Option option in (Option[])[_origin, _allowedHost, _tlsCert, _tlsKey, _tlsPassword, _pingInterval, _pingTimeout, _idleTimeout,
                     _handshakeTimeout, _shutdownTimeout, _sendTimeout, _maxSendBuffer, _maxConnections])
        {
            command.Options.Add(option);
        }
    }

    /// <summary>Applies the options; returns an error message for the user, or null.</summary>
    public string? Apply(ParseResult parse, WebSocketServerOptions options)
    {
        foreach (string origin in parse.GetValue(_origin) ?? [])
        {
            options.AllowedOrigins.Add(origin);
        }

        foreach (string name in parse.GetValue(_allowedHost) ?? [])
        {
            options.AllowedHosts.Add(name);
        }

        WebSocketOptions ws = options.WebSocket;
        ws.PingInterval = TimeSpan.FromSeconds(parse.GetValue(_pingInterval));
        ws.PingTimeout = TimeSpan.FromSeconds(parse.GetValue(_pingTimeout));
        ws.IdleTimeout = TimeSpan.FromSeconds(parse.GetValue(_idleTimeout));
        ws.SendTimeout = TimeSpan.FromSeconds(parse.GetValue(_sendTimeout));
        ws.MaxSendBuffer = parse.GetValue(_maxSendBuffer);
        options.HandshakeTimeout = TimeSpan.FromSeconds(parse.GetValue(_handshakeTimeout));
        options.ShutdownTimeout = TimeSpan.FromSeconds(parse.GetValue(_shutdownTimeout));
        if (parse.GetValue(_maxConnections) is { } maxConnections)
        {
            options.MaxConnections = maxConnections;
        }

        FileInfo? cert = parse.GetValue(_tlsCert);
        FileInfo? key = parse.GetValue(_tlsKey);
        if (cert is null)
        {
            return key is null ? null : "--tls-key needs --tls-cert";
        }

        try
        {
            options.Certificate = LoadCertificate(cert, key, parse.GetValue(_tlsPassword));
            return null;
        }
        catch (Exception ex) when (ex is CryptographicException or IOException or ArgumentException)
        {
            return $"cannot load TLS certificate {cert.FullName}: {ex.Message}";
        }
    }

    /// <summary>
    /// Without <c>--max-connections</c>, the library derives the limit from the open-file limit at one descriptor per
    /// connection; a bridge costs more (a child's three pipes, a backend socket), so the limit shrinks to match.
    /// </summary>
    public void ScaleDefaultMaxConnections(ParseResult parse, WebSocketServerOptions options, int descriptorsPerConnection)
    {
        if (parse.GetValue(_maxConnections) is null && descriptorsPerConnection > 1)
        {
            options.MaxConnections = Math.Max(1, options.MaxConnections / descriptorsPerConnection);
        }
    }

    private static X509Certificate2 LoadCertificate(FileInfo cert, FileInfo? key, string? password)
    {
        string extension = cert.Extension.ToUpperInvariant();
        if (key is null && extension is ".PFX" or ".P12")
        {
            return X509CertificateLoader.LoadPkcs12FromFile(cert.FullName, password);
        }

        if (key is null)
        {
            throw new ArgumentException("a PEM certificate needs --tls-key (or use a .pfx/.p12 file)");
        }

        X509Certificate2 pem = password is null
            ? X509Certificate2.CreateFromPemFile(cert.FullName, key.FullName)
            : X509Certificate2.CreateFromEncryptedPemFile(cert.FullName, password, key.FullName);
        // Round-trip through PKCS#12 so the key is usable by SslStream on every platform.
        using (pem)
        {
            return X509CertificateLoader.LoadPkcs12(pem.Export(X509ContentType.Pkcs12), null);
        }
    }
}
