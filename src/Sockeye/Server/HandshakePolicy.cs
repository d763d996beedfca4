using System.Diagnostics;
using System.Net;
using Sockeye.Diagnostics;
using Sockeye.Extensions;
using Sockeye.Protocol;

namespace Sockeye.Server;

/// <summary>
/// The server side of the opening handshake as one decision with no I/O: the request's WebSocket fields, the Host
/// (DNS-rebinding guard), routing to an endpoint, the origin, the connection limit, the handshake hooks, the
/// subprotocol and permessage-deflate (RFC 7692 §5.1). <see cref="WebSocketServer"/> answers with it, and so can any
/// other HTTP host (Sockeye.AspNetCore): the host reads the request, asks <see cref="DecideAsync"/>, writes the answer
/// and, when accepted, runs the connection over its upgraded stream (<see cref="HandshakeDecision.CreateConnection"/>).
/// </summary>
/// <remarks>
/// Each decision is one <see cref="Activity"/> (<see cref="SockeyeActivity.SourceName"/>) and one count on
/// the <c>sockeye.server.handshakes</c> counter.
/// </remarks>
public sealed class HandshakePolicy
{
    private readonly Dictionary<string, WebSocketEndpoint> _endpoints = new(StringComparer.Ordinal);
    private WebSocketEndpoint? _fallback;
    // Whether Options.Host is a loopback listener (the DNS-rebinding guard): 0 not yet known, 1 yes, 2 no.
    private volatile int _loopbackListener;

    /// <summary>
    /// A policy that reads its settings from <paramref name="options"/> at each decision: <see cref="WebSocketServerOptions.AllowedOrigins"/>,
    /// <see cref="WebSocketServerOptions.AllowedHosts"/> (with <see cref="WebSocketServerOptions.Host"/>: a loopback
    /// host turns the DNS-rebinding guard on), <see cref="WebSocketServerOptions.MaxConnections"/>,
    /// <see cref="WebSocketServerOptions.OnHandshake"/> and <see cref="WebSocketServerOptions.WebSocket"/>. The
    /// listener settings (port, certificate, static files) are not used.
    /// </summary>
    public HandshakePolicy(WebSocketServerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        Options = options;
    }

    /// <summary>The settings this policy reads.</summary>
    public WebSocketServerOptions Options { get; }

    /// <summary>Routes requests for <paramref name="path"/> (exact, decoded) to <paramref name="handler"/>.</summary>
    public WebSocketEndpoint Map(string path, WebSocketHandler handler, EndpointOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(handler);
        if (!path.StartsWith('/'))
        {
            throw new ArgumentException("Paths start with '/'.", nameof(path));
        }

        var endpoint = new WebSocketEndpoint(path, options ?? new EndpointOptions(), handler);
        lock (_endpoints)
        {
            _endpoints[path] = endpoint;
        }

        return endpoint;
    }

    /// <summary>
    /// Routes requests whose path matches no <see cref="Map"/> to <paramref name="handler"/> (a host that routes by
    /// itself, like ASP.NET Core, maps only this).
    /// </summary>
    public WebSocketEndpoint MapFallback(WebSocketHandler handler, EndpointOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(handler);
        _fallback = new WebSocketEndpoint("*", options ?? new EndpointOptions(), handler);
        return _fallback;
    }

    internal WebSocketEndpoint? Route(string path)
    {
        lock (_endpoints)
        {
            return _endpoints.TryGetValue(path, out var endpoint) ? endpoint : _fallback;
        }
    }

    /// <summary>
    /// Decides an upgrade request: a refusal (status and reason, for the answer and one log line) or an acceptance
    /// (endpoint, subprotocol, extension, response headers, state, limits). Runs the handshake hooks; never throws
    /// for anything the client sent.
    /// </summary>
    /// <param name="request">The request (an HTTP/1.1 GET upgrade or an RFC 8441 extended CONNECT).</param>
    /// <param name="secure">Whether it arrived over TLS: the scheme its own origin has (RFC 6454 §4).</param>
    /// <param name="openConnections">Connections the host has open now, for <see cref="WebSocketServerOptions.MaxConnections"/>.</param>
    /// <param name="stopping">
    /// The host's shutdown token, handed to the hooks as <see cref="HandshakeContext.Aborted"/>. Once it has fired,
    /// the request is refused with 503: a connection accepted after the host began closing its connections would be
    /// left open.
    /// </param>
    public async ValueTask<HandshakeDecision> DecideAsync(WebSocketRequest request, bool secure, int openConnections, CancellationToken stopping = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        using Activity? activity = SockeyeActivity.StartHandshake(request);
        HandshakeDecision decision = await DecideCoreAsync(request, secure, openConnections, stopping).ConfigureAwait(false);
        if (decision.IsAccepted)
        {
            SockeyeMetrics.HandshakeAccepted(decision.Status);
        }
        else
        {
            SockeyeMetrics.HandshakeRefused(decision.Status);
        }

        SockeyeActivity.Finish(activity, decision);
        return decision;
    }

    private async ValueTask<HandshakeDecision> DecideCoreAsync(WebSocketRequest request, bool secure, int openConnections, CancellationToken stopping)
    {
        HttpHead head = request.Head;
        if (CheckUpgrade(request) is { } invalid)
        {
            return invalid;
        }

        // RFC 9110 §15.5.20: 421 for a request this server will not answer for that name; before routing, so a
        // rebinding page learns nothing about the endpoints.
        if (CheckHost(head.Get("Host")) is { } hostProblem)
        {
            return HandshakeDecision.Refuse(421, hostProblem);
        }

        WebSocketEndpoint? endpoint = Route(request.Path);
        if (endpoint is null)
        {
            return HandshakeDecision.Refuse(404, "no WebSocket endpoint at this path");
        }

        // RFC 6455 §10.2: refuse browser pages from other origins unless allowed.
        if (!OriginPolicy.IsAllowed(head.Get("Origin"), head.Get("Host"), Options.AllowedOrigins, secure))
        {
            return HandshakeDecision.Refuse(403, $"origin {head.Get("Origin")} refused: not this server's own origin; allow it with --origin (AllowedOrigins)");
        }

        if (openConnections >= Options.MaxConnections)
        {
            return HandshakeDecision.Refuse(503, "server at its connection limit");
        }

        List<string> offered = UpgradeRequest.OfferedSubprotocols(head);
        var handshake = new HandshakeContext(request, offered, endpoint.ChooseSubprotocol(offered), stopping);
        foreach (HandshakeHook? hook in new[] { Options.OnHandshake, endpoint.Options.OnHandshake })
        {
            if (hook is not null && handshake.RejectStatus is null)
            {
                try
                {
                    await hook(handshake).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (stopping.IsCancellationRequested)
                {
                    break; // released by HandshakeContext.Aborted: refused below
                }
            }
        }

        // The host closes the connections it has when it stops; one accepted after that began would stay open.
        if (handshake.RejectStatus is null && stopping.IsCancellationRequested)
        {
            return HandshakeDecision.Refuse(503, "server shutting down");
        }

        if (handshake.RejectStatus is { } status)
        {
            return HandshakeDecision.Refuse(status, handshake.RejectReason ?? "refused");
        }

        foreach (var header in handshake.ResponseHeaders)
        {
            // Header injection guard: a CR or LF in an application-supplied header would split the response.
            if (header.Key.AsSpan().IndexOfAny('\r', '\n') >= 0 || header.Value.AsSpan().IndexOfAny('\r', '\n') >= 0)
            {
                return HandshakeDecision.Refuse(500, "a handshake hook set a response header with CR or LF");
            }
        }

        WebSocketOptions options = endpoint.SharedOptions ??= (endpoint.Options.WebSocket ?? Options.WebSocket).Clone();
        // RFC 7692 §5.1: accept the first permessage-deflate offer we can; invalid offers are declined, not fatal.
        PerMessageDeflateParameters? compression = options.Deflate is { } deflate
            ? PerMessageDeflateNegotiation.Accept(ExtensionHeader.Parse(head), deflate)
            : null;
        return HandshakeDecision.Accept(request, endpoint, options, handshake, compression);
    }

    /// <summary>
    /// The WebSocket fields of the request. HTTP/1.1: RFC 6455 §4.2.1 (<see cref="UpgradeRequest.Check"/>). Extended
    /// CONNECT (the host checked <c>:protocol = websocket</c>): RFC 8441 §5 keeps every field but the key, so only the
    /// version is left to check (§4.4: 426 for another one).
    /// </summary>
    private static HandshakeDecision? CheckUpgrade(WebSocketRequest request)
    {
        HttpHead head = request.Head;
        if (request.IsExtendedConnect)
        {
            string? version = head.Get("Sec-WebSocket-Version");
            if (version is null)
            {
                return HandshakeDecision.Refuse(400, "missing Sec-WebSocket-Version header");
            }

            return version.Trim() == "13" ? null : HandshakeDecision.Refuse(426, "unsupported WebSocket version");
        }

        UpgradeCheck check = UpgradeRequest.Check(head);
        return check.Kind switch
        {
            UpgradeKind.Valid => null,
            UpgradeKind.Invalid => HandshakeDecision.Refuse(check.Status, check.Reason),
            _ => HandshakeDecision.Refuse(400, "not a WebSocket upgrade request"),
        };
    }

    /// <summary>
    /// The DNS-rebinding guard (<see cref="HostPolicy"/>) for upgrades and static files alike: the refusal reason, or
    /// null when a request with this Host value may be served. The Host's syntax was checked before.
    /// </summary>
    internal string? CheckHost(string? value)
    {
        string? host = value is not null && HostHeader.TryParse(value, out string parsed) ? parsed : null;
        if (_loopbackListener == 0)
        {
            // Options.Host as WebSocketServer binds it: "localhost" is 127.0.0.1.
            bool loopback = Options.Host == "localhost" || (IPAddress.TryParse(Options.Host, out IPAddress? address) && IPAddress.IsLoopback(address));
            _loopbackListener = loopback ? 1 : 2;
        }

        return HostPolicy.IsAllowed(host, Options.AllowedHosts, _loopbackListener == 1)
            ? null
            : $"host {value} refused: this server accepts only loopback host names (localhost, 127.0.0.1, [::1]); allow others with --allowed-host (AllowedHosts)";
    }
}
