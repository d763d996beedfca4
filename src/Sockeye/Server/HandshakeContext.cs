namespace Sockeye.Server;

/// <summary>
/// What a handshake hook sees and decides before the 101 answer: inspect the request, refuse it with a status,
/// choose the subprotocol, attach per-connection state (e.g. the authenticated user).
/// </summary>
public sealed class HandshakeContext
{
    private string? _subprotocol;

    internal HandshakeContext(WebSocketRequest request, IReadOnlyList<string> offeredSubprotocols, string? subprotocol,
        CancellationToken aborted = default)
    {
        Request = request;
        Aborted = aborted;
        OfferedSubprotocols = offeredSubprotocols;
        _subprotocol = subprotocol;
    }

    /// <summary>The upgrade request: path, query, headers, cookies, remote address.</summary>
    public WebSocketRequest Request { get; }

    /// <summary>
    /// Canceled when the server shuts down (<see cref="WebSocketServer.StopAsync"/>, or the host stopping): pass it to
    /// the hook's long waits (an authentication service, a database). A handshake still running then is refused with
    /// 503, whatever the hook decides.
    /// </summary>
    public CancellationToken Aborted { get; }

    /// <summary>Subprotocols the client offered, in its order of preference.</summary>
    public IReadOnlyList<string> OfferedSubprotocols { get; }

    /// <summary>
    /// The subprotocol to answer with (initially the endpoint's choice). Only a value the client offered may be set
    /// (RFC 6455 §4.2.2); anything else throws.
    /// </summary>
    public string? Subprotocol
    {
        get => _subprotocol;
        set
        {
            if (value is not null && !OfferedSubprotocols.Contains(value, StringComparer.Ordinal))
            {
                throw new ArgumentException($"The client did not offer subprotocol '{value}'.", nameof(value));
            }

            _subprotocol = value;
        }
    }

    /// <summary>State to attach to the connection (<see cref="WebSocketConnection.State"/>).</summary>
    public object? State { get; set; }

    /// <summary>Extra headers for the 101 response (e.g. Set-Cookie).</summary>
    public IList<KeyValuePair<string, string>> ResponseHeaders { get; } = [];

    /// <summary>The refusal status, when <see cref="Reject"/> was called.</summary>
    public int? RejectStatus { get; private set; }

    /// <summary>The refusal reason, when <see cref="Reject"/> was called.</summary>
    public string? RejectReason { get; private set; }

    /// <summary>Refuses the upgrade with an HTTP status (e.g. 401, 403, 503) and a reason (logged and sent as the body).</summary>
    public void Reject(int status, string reason)
    {
        if (status is < 400 or > 599)
        {
            throw new ArgumentOutOfRangeException(nameof(status), status, "Use a 4xx or 5xx status.");
        }

        RejectStatus = status;
        RejectReason = reason;
    }

    /// <summary>The value of cookie <paramref name="name"/> from the Cookie header, or null.</summary>
    public string? GetCookie(string name) => Request.GetCookie(name);
}

/// <summary>A hook that runs before a WebSocket upgrade is accepted; see <see cref="HandshakeContext"/>.</summary>
public delegate ValueTask HandshakeHook(HandshakeContext context);
