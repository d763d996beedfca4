using Microsoft.Extensions.Logging;
using Sockeye.Diagnostics;
using Sockeye.Extensions;
using Sockeye.Protocol;
using Sockeye.Transport;

namespace Sockeye.Server;

/// <summary>
/// What <see cref="HandshakePolicy.DecideAsync"/> decided: a refusal (<see cref="Status"/> 4xx/5xx and
/// <see cref="Reason"/>) or an acceptance (<see cref="Endpoint"/>, <see cref="Subprotocol"/>,
/// <see cref="Extensions"/>, <see cref="ResponseHeaders"/>, <see cref="State"/>, <see cref="Options"/>). A value, not
/// an exception: the host writes the answer.
/// </summary>
public sealed class HandshakeDecision
{
    private readonly WebSocketRequest? _request;
    private readonly PerMessageDeflateParameters? _compression;
    private readonly IReadOnlyList<KeyValuePair<string, string>> _hookHeaders = [];
    private IReadOnlyList<KeyValuePair<string, string>>? _responseHeaders;

    private HandshakeDecision(int status, string? reason)
    {
        Status = status;
        Reason = reason;
        _responseHeaders = [];
    }

    private HandshakeDecision(WebSocketRequest request, WebSocketEndpoint endpoint, WebSocketOptions options, HandshakeContext handshake,
        PerMessageDeflateParameters? compression)
    {
        _request = request;
        _compression = compression;
        _hookHeaders = [.. handshake.ResponseHeaders];
        // RFC 8441 §5: an extended CONNECT is answered 200 and has no Sec-WebSocket-Accept; HTTP/1.1 answers 101.
        Status = request.IsExtendedConnect ? 200 : 101;
        Endpoint = endpoint;
        Options = options;
        Subprotocol = handshake.Subprotocol;
        State = handshake.State;
    }

    internal static HandshakeDecision Refuse(int status, string reason) => new(status, reason);

    internal static HandshakeDecision Accept(WebSocketRequest request, WebSocketEndpoint endpoint, WebSocketOptions options,
        HandshakeContext handshake, PerMessageDeflateParameters? compression) => new(request, endpoint, options, handshake, compression);

    /// <summary>Whether the upgrade is accepted.</summary>
    public bool IsAccepted => Endpoint is not null;

    /// <summary>
    /// The status to answer: accepted, 101 for an HTTP/1.1 upgrade or 200 for an extended CONNECT (RFC 8441 §5);
    /// refused, the 4xx/5xx status (426 asks for version 13: answer with <c>Sec-WebSocket-Version: 13</c>, RFC 6455 §4.4).
    /// </summary>
    public int Status { get; }

    /// <summary>Why the request was refused (may quote the client: escape it before logging), or null when accepted.</summary>
    public string? Reason { get; }

    /// <summary>The endpoint that takes the connection, or null when refused.</summary>
    public WebSocketEndpoint? Endpoint { get; }

    /// <summary>The chosen subprotocol, or null.</summary>
    public string? Subprotocol { get; }

    /// <summary>The agreed <c>Sec-WebSocket-Extensions</c> response value (permessage-deflate), or null.</summary>
    public string? Extensions => _compression?.Header;

    /// <summary>
    /// The header fields of the accepting answer, in order: for HTTP/1.1 <c>Upgrade</c>, <c>Connection</c> and
    /// <c>Sec-WebSocket-Accept</c>; then <c>Sec-WebSocket-Protocol</c> and <c>Sec-WebSocket-Extensions</c> when
    /// agreed; then those the hooks added. Empty when refused.
    /// </summary>
    public IReadOnlyList<KeyValuePair<string, string>> ResponseHeaders => _responseHeaders ??= BuildResponseHeaders(_request!);

    /// <summary>The state a hook attached, which becomes <see cref="WebSocketConnection.State"/>.</summary>
    public object? State { get; }

    /// <summary>The limits the connection runs with (the endpoint's, else the policy's), or null when refused.</summary>
    public WebSocketOptions? Options { get; }

    internal IReadOnlyList<KeyValuePair<string, string>> HookHeaders => _hookHeaders;

    // Built on first use: WebSocketServer writes its answer with UpgradeRequest and never asks.
    private List<KeyValuePair<string, string>> BuildResponseHeaders(WebSocketRequest request)
    {
        var headers = new List<KeyValuePair<string, string>>(4 + _hookHeaders.Count);
        if (!request.IsExtendedConnect)
        {
            // RFC 6455 §4.2.2 item 5.
            headers.Add(new("Upgrade", "websocket"));
            headers.Add(new("Connection", "Upgrade"));
            headers.Add(new("Sec-WebSocket-Accept", HandshakeKey.ComputeAccept(request.Head.Get("Sec-WebSocket-Key")!.Trim())));
        }

        if (Subprotocol is not null)
        {
            headers.Add(new("Sec-WebSocket-Protocol", Subprotocol));
        }

        if (_compression is not null)
        {
            headers.Add(new("Sec-WebSocket-Extensions", _compression.Header));
        }

        headers.AddRange(_hookHeaders);
        return headers;
    }

    /// <summary>
    /// The server side of the accepted connection over <paramref name="transport"/> (the stream after the answer was
    /// sent), not yet started: give it to <see cref="RunAsync"/>, which runs the endpoint's handler on it.
    /// </summary>
    public WebSocketConnection CreateConnection(IWebSocketTransport transport, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(transport);
        if (_request is null || Options is null)
        {
            throw new InvalidOperationException($"The handshake was refused ({Status}); there is no connection to create.");
        }

        _request.Head.Compact(); // kept for connection.Request for the connection's life: keep it small
        return new WebSocketConnection(transport, Role.Server, Options, _request, Subprotocol, logger, _compression) { State = State };
    }

    /// <summary>
    /// The connection's whole life, for hosts other than <see cref="WebSocketServer"/>: starts
    /// <paramref name="connection"/> (from <see cref="CreateConnection"/>), runs the endpoint's handler, closes with
    /// 1000 when it returns (1011 when it throws; <paramref name="logger"/> gets the error) and completes when the
    /// connection is released.
    /// </summary>
    public async Task RunAsync(WebSocketConnection connection, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(connection);
        WebSocketEndpoint endpoint = Endpoint ?? throw new InvalidOperationException($"The handshake was refused ({Status}).");
        SockeyeMetrics.ActiveConnections.Add(1);
        connection.Start();
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
            logger?.LogError(ex, "#{Id} handler for {Path} failed", connection.Id, LogText.Escape(connection.Request.Path));
            if (!connection.IsClosing)
            {
                await connection.CloseAfterHandlerAsync(CloseCode.InternalError, "internal error").ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }
        }
        finally
        {
            // Nothing will receive on this connection any more: a read loop parked for a receive must not wait for
            // one that never comes (the connection would never be released).
            connection.StopReceiving();
            await connection.Completion.ConfigureAwait(false);
            SockeyeMetrics.ActiveConnections.Add(-1);
            SockeyeMetrics.Closed(connection.CloseStatus);
        }
    }
}
