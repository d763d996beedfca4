using System.Buffers;
using System.IO.Pipelines;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using Microsoft.Extensions.Logging;
using Sockeye.Diagnostics;
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

    /// <summary>Answers with an error status; the reason (which may quote the client) is escaped for the log and the body.</summary>
    private async Task RefuseAsync(IWebSocketTransport transport, int status, string reason, string remote, string? target, bool counted = false)
    {
        reason = LogText.Escape(reason);
        _logger.LogInformation("{Remote} refused {Target} with {Status}: {Reason}", remote, LogText.Escape(target) ?? "request", status, reason);
        if (!counted) // the policy counts its own decisions
        {
            SockeyeMetrics.HandshakeRefused(status);
        }

        await transport.Output.WriteAsync(UpgradeRequest.BuildErrorResponse(status, reason)).ConfigureAwait(false);
    }

    /// <summary>The DNS-rebinding guard for static files (upgrades get it from the policy): the refusal reason, or null.</summary>
    private string? CheckHost(HttpHead head) => _policy.CheckHost(head.Get("Host"));

    /// <summary>Decides an upgrade with the policy and answers it; returns true when a connection was started, false when refused.</summary>
    private async Task<bool> StartWebSocketAsync(IWebSocketTransport transport, HttpHead head, string remote)
    {
        var request = new WebSocketRequest(head, transport.RemoteEndPoint, transport.LocalEndPoint);
        HandshakeDecision decision = await _policy.DecideAsync(request, Options.Certificate is not null, _connections.Count, _stopping.Token).ConfigureAwait(false);
        if (!decision.IsAccepted)
        {
            await RefuseAsync(transport, decision.Status, decision.Reason!, remote, head.Target, counted: true).ConfigureAwait(false);
            await transport.CloseAsync(TimeSpan.FromSeconds(1)).ConfigureAwait(false);
            return false;
        }

        byte[] answer = UpgradeRequest.BuildAcceptResponse(head, decision.Subprotocol, decision.Extensions, decision.HookHeaders);
        WebSocketConnection connection = decision.CreateConnection(transport, _connectionLogger);
        await transport.Output.WriteAsync(answer).ConfigureAwait(false);
        _logger.LogDebug("{Remote} #{Id} upgraded on {Path} (subprotocol {Subprotocol}, extensions {Extensions})", remote, connection.Id,
            LogText.Escape(request.Path), LogText.Escape(decision.Subprotocol) ?? "none", decision.Extensions ?? "none");

        // Registered before it starts, so StopAsync finds it; RunAsync starts it before its first await.
        _connections[connection.Id] = connection;
        _ = RunHandlerAsync(decision, connection);
        return true;
    }

    /// <summary>The connection's whole life after the upgrade (<see cref="HandshakeDecision.RunAsync"/>), then this server's bookkeeping.</summary>
    private async Task RunHandlerAsync(HandshakeDecision decision, WebSocketConnection connection)
    {
        try
        {
            await decision.RunAsync(connection, _logger).ConfigureAwait(false);
        }
        finally
        {
            _connections.TryRemove(connection.Id, out _);
            EndSession();
        }
    }
}
