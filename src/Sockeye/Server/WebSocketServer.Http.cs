using System.Buffers;
using System.IO.Pipelines;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Text;
using Microsoft.Extensions.Logging;
using Sockeye.Extensions;
using Sockeye.Protocol;
using Sockeye.Transport;

namespace Sockeye.Server;

public sealed partial class WebSocketServer
{
    /// <summary>
    /// One accepted TCP connection: read HTTP/1.1 requests (static files may use keep-alive) until one is a valid
    /// WebSocket upgrade, which turns the connection over to a <see cref="WebSocketConnection"/>. Any refused
    /// upgrade or malformed request gets its status and the connection is closed: bytes pipelined after it are
    /// never processed.
    /// </summary>
    private async Task ServeConnectionAsync(Socket socket)
    {
        string remote = FormatEndPoint(socket.RemoteEndPoint);
        IWebSocketTransport? transport = await CreateTransportAsync(socket, remote).ConfigureAwait(false);
        if (transport is null)
        {
            EndSession();
            return;
        }

        try
        {
            while (true)
            {
                HttpHead? head = await ReadRequestHeadAsync(transport, remote).ConfigureAwait(false);
                if (head is null)
                {
                    break;
                }

                UpgradeCheck check = UpgradeRequest.Check(head);
                if (check.Kind == UpgradeKind.NotUpgrade)
                {
                    if (!await ServeStaticAsync(transport, head, remote).ConfigureAwait(false))
                    {
                        break;
                    }

                    continue;
                }

                if (check.Kind == UpgradeKind.Invalid)
                {
                    await RefuseAsync(transport, check.Status, check.Reason, remote, head.Target).ConfigureAwait(false);
                    break;
                }

                // Once upgraded, the connection lives in RunHandlerAsync alone: this method's state (and the
                // memory it holds) is released while the connection is open.
                if (await StartWebSocketAsync(transport, head, remote).ConfigureAwait(false))
                {
                    return;
                }

                EndSession();
                return; // refused: the transport is already closed
            }
        }
        catch (Exception ex) when (ex is IOException or SocketException or InvalidOperationException or OperationCanceledException)
        {
            _logger.LogDebug("{Remote} connection error: {Error}", remote, ex.Message);
        }
        catch (Exception ex)
        {
            // Never let one connection's failure reach the process.
            _logger.LogError(ex, "{Remote} unexpected error", remote);
        }

        await transport.CloseAsync(TimeSpan.FromSeconds(1)).ConfigureAwait(false);
        EndSession();
    }

    /// <summary>Plain TCP, or TLS when a certificate is configured (the TLS handshake counts against the handshake timeout).</summary>
    private async Task<IWebSocketTransport?> CreateTransportAsync(Socket socket, string remote)
    {
        if (Options.Certificate is null)
        {
            return new SocketTransport(socket, maxBufferedOutput: Options.WebSocket.MaxSendBuffer);
        }

        var ssl = new SslStream(new NetworkStream(socket, ownsSocket: false), leaveInnerStreamOpen: false);
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(_stopping.Token);
            timeout.CancelAfter(Options.HandshakeTimeout);
            await ssl.AuthenticateAsServerAsync(new SslServerAuthenticationOptions
            {
                ServerCertificate = Options.Certificate,
                ApplicationProtocols = [SslApplicationProtocol.Http11],
                ClientCertificateRequired = false,
            }, timeout.Token).ConfigureAwait(false);
            return new StreamTransport(socket, ssl);
        }
        catch (Exception ex) when (ex is IOException or AuthenticationException or OperationCanceledException or SocketException)
        {
            _logger.LogInformation("{Remote} TLS handshake failed: {Error}", remote, ex.Message);
            await ssl.DisposeAsync().ConfigureAwait(false);
            socket.Dispose();
            return null;
        }
    }

    /// <summary>Reads one request head within the handshake timeout; null when the client left, timed out or was refused.</summary>
    private async Task<HttpHead?> ReadRequestHeadAsync(IWebSocketTransport transport, string remote)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(_stopping.Token);
        timeout.CancelAfter(Options.HandshakeTimeout);
        PipeReader input = transport.Input;
        while (true)
        {
            ReadResult result;
            try
            {
                result = await input.ReadAsync(timeout.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                _logger.LogInformation("{Remote} request head not received within {Timeout}; closing", remote, Options.HandshakeTimeout);
                return null;
            }

            ReadOnlySequence<byte> buffer = result.Buffer;
            HttpParseStatus status = HttpHeadParser.TryParseRequest(buffer, Options.MaxRequestHeaderBytes, Options.MaxRequestHeaderFields,
                out HttpHead? head, out SequencePosition consumed, out int errorStatus, out string error);
            switch (status)
            {
                case HttpParseStatus.Done:
                    input.AdvanceTo(consumed);
                    return head;
                case HttpParseStatus.Invalid:
                    input.AdvanceTo(buffer.End);
                    await RefuseAsync(transport, errorStatus, error, remote, target: null).ConfigureAwait(false);
                    return null;
                default:
                    input.AdvanceTo(buffer.Start, buffer.End);
                    if (result.IsCompleted)
                    {
                        if (buffer.Length > 0)
                        {
                            _logger.LogInformation("{Remote} connection closed inside a request head", remote);
                        }

                        return null;
                    }

                    break;
            }
        }
    }

    private async Task RefuseAsync(IWebSocketTransport transport, int status, string reason, string remote, string? target)
    {
        _logger.LogInformation("{Remote} refused {Target} with {Status}: {Reason}", remote, target ?? "request", status, reason);
        await transport.Output.WriteAsync(UpgradeRequest.BuildErrorResponse(status, reason)).ConfigureAwait(false);
    }

    /// <summary>Routes and checks an upgrade; returns true when a connection was started, false when refused.</summary>
    private async Task<bool> StartWebSocketAsync(IWebSocketTransport transport, HttpHead head, string remote)
    {
        var request = new WebSocketRequest(head, transport.RemoteEndPoint, transport.LocalEndPoint);
        WebSocketEndpoint? endpoint = Route(request.Path);
        if (endpoint is null)
        {
            await RefuseAsync(transport, 404, "no WebSocket endpoint at this path", remote, head.Target).ConfigureAwait(false);
            await transport.CloseAsync(TimeSpan.FromSeconds(1)).ConfigureAwait(false);
            return false;
        }

        // §10.2: refuse browser pages from other origins unless allowed.
        if (!OriginPolicy.IsAllowed(head.Get("Origin"), head.Get("Host"), Options.AllowedOrigins, Options.Certificate is not null))
        {
            await RefuseAsync(transport, 403, $"origin {head.Get("Origin")} not allowed", remote, head.Target).ConfigureAwait(false);
            await transport.CloseAsync(TimeSpan.FromSeconds(1)).ConfigureAwait(false);
            return false;
        }

        if (_connections.Count >= Options.MaxConnections)
        {
            await RefuseAsync(transport, 503, "server at its connection limit", remote, head.Target).ConfigureAwait(false);
            await transport.CloseAsync(TimeSpan.FromSeconds(1)).ConfigureAwait(false);
            return false;
        }

        List<string> offered = UpgradeRequest.OfferedSubprotocols(head);
        var handshake = new HandshakeContext(request, offered, endpoint.ChooseSubprotocol(offered));
        foreach (HandshakeHook? hook in new[] { Options.OnHandshake, endpoint.Options.OnHandshake })
        {
            if (hook is not null && handshake.RejectStatus is null)
            {
                await hook(handshake).ConfigureAwait(false);
            }
        }

        if (handshake.RejectStatus is { } status)
        {
            await RefuseAsync(transport, status, handshake.RejectReason ?? "refused", remote, head.Target).ConfigureAwait(false);
            await transport.CloseAsync(TimeSpan.FromSeconds(1)).ConfigureAwait(false);
            return false;
        }

        WebSocketOptions options = endpoint.SharedOptions ??= (endpoint.Options.WebSocket ?? Options.WebSocket).Clone();
        // RFC 7692 §5.1: accept the first permessage-deflate offer we can; invalid offers are declined, not fatal.
        PerMessageDeflateParameters? compression = options.Deflate is { } deflate
            ? PerMessageDeflateNegotiation.Accept(ExtensionHeader.Parse(head), deflate)
            : null;
        head.Compact(); // kept for connection.Request for the connection's life: keep it small
        var connection = new WebSocketConnection(transport, Role.Server, options, request, handshake.Subprotocol, _connectionLogger, compression)
        {
            State = handshake.State,
        };
        await transport.Output.WriteAsync(UpgradeRequest.BuildAcceptResponse(head, handshake.Subprotocol, compression?.Header, handshake.ResponseHeaders)).ConfigureAwait(false);
        _logger.LogDebug("{Remote} #{Id} upgraded on {Path} (subprotocol {Subprotocol}, extensions {Extensions})", remote, connection.Id, request.Path,
            handshake.Subprotocol ?? "none", compression?.Header ?? "none");

        _connections[connection.Id] = connection;
        connection.Start();
        _ = RunHandlerAsync(endpoint, connection);
        return true;
    }

    /// <summary>The connection's whole life after the upgrade: the handler, the close, then the bookkeeping.</summary>
    private async Task RunHandlerAsync(WebSocketEndpoint endpoint, WebSocketConnection connection)
    {
        try
        {
            await endpoint.Handler(connection).ConfigureAwait(false);
            if (!connection.IsClosing)
            {
                await connection.CloseAfterHandlerAsync(CloseCode.NormalClosure, null).ConfigureAwait(false);
            }
        }
        catch (WebSocketClosedException)
        {
            // The handler was sending when the connection closed; nothing more to do.
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            _logger.LogError(ex, "#{Id} handler for {Path} failed", connection.Id, endpoint.Path);
            if (!connection.IsClosing)
            {
                await connection.CloseAfterHandlerAsync(CloseCode.InternalError, "internal error").ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }
        }
        finally
        {
            // Whatever way the handler ended, nothing will receive on this connection any more: a read loop parked
            // for a receive must not wait for one that never comes (the connection would never be released).
            connection.StopReceiving();
            await connection.Completion.ConfigureAwait(false);
            _connections.TryRemove(connection.Id, out _);
            EndSession();
        }
    }

    /// <summary>Answers a plain HTTP request from <see cref="WebSocketServerOptions.StaticFiles"/>. Returns whether to keep the connection.</summary>
    private async Task<bool> ServeStaticAsync(IWebSocketTransport transport, HttpHead head, string remote)
    {
        bool isHead = head.Method == "HEAD";
        if (head.Method != "GET" && !isHead)
        {
            await RefuseAsync(transport, 405, "only GET and HEAD are served", remote, head.Target).ConfigureAwait(false);
            return false;
        }

        // A GET with a body is not something we read; refuse rather than misparse the body as the next request.
        string? contentLength = head.Get("Content-Length");
        if (head.Count("Transfer-Encoding") > 0 || (contentLength is not null && contentLength.Trim() != "0"))
        {
            await RefuseAsync(transport, 400, "request body not allowed", remote, head.Target).ConfigureAwait(false);
            return false;
        }

        var request = new WebSocketRequest(head, null, null);
        StaticFile? file = Options.StaticFiles?.Find(request.Path);
        bool keepAlive = head.IsHttp11OrLater ? !head.HasToken("Connection", "close") : head.HasToken("Connection", "keep-alive");
        if (file is null)
        {
            string body = Options.StaticFiles is null ? "This is a WebSocket server.\n" : "Not found.\n";
            _logger.LogDebug("{Remote} GET {Path} 404", remote, request.Path);
            await WriteResponseHeadAsync(transport, 404, "text/plain; charset=utf-8", Encoding.UTF8.GetByteCount(body), keepAlive).ConfigureAwait(false);
            if (!isHead)
            {
                await transport.Output.WriteAsync(Encoding.UTF8.GetBytes(body)).ConfigureAwait(false);
            }

            return keepAlive;
        }

        _logger.LogDebug("{Remote} GET {Path} 200", remote, request.Path);
        await WriteResponseHeadAsync(transport, 200, file.ContentType, file.Length, keepAlive).ConfigureAwait(false);
        if (!isHead)
        {
            Stream content = file.Open();
            await using (content.ConfigureAwait(false))
            {
                await content.CopyToAsync(transport.Output).ConfigureAwait(false);
            }

            await transport.Output.FlushAsync().ConfigureAwait(false);
        }

        return keepAlive;
    }

    private static async Task WriteResponseHeadAsync(IWebSocketTransport transport, int status, string contentType, long length, bool keepAlive)
    {
        string head = $"HTTP/1.1 {status} {UpgradeRequest.ReasonPhrase(status)}\r\nContent-Type: {contentType}\r\n" +
            $"Content-Length: {length}\r\nCache-Control: no-cache\r\nX-Content-Type-Options: nosniff\r\n" +
            (keepAlive ? string.Empty : "Connection: close\r\n") + "\r\n";
        await transport.Output.WriteAsync(Encoding.ASCII.GetBytes(head)).ConfigureAwait(false);
    }
}
