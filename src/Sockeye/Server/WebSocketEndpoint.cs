namespace Sockeye.Server;

/// <summary>
/// The application code for one path. It runs once per connection and owns it: receive in a loop, send from any
/// thread; when it returns the connection is closed with 1000 (1011 if it throws). Its long waits take
/// <see cref="WebSocketConnection.Aborted"/>, canceled when the connection closes or the server shuts down.
/// </summary>
public delegate Task WebSocketHandler(WebSocketConnection connection);

/// <summary>How an endpoint negotiates the opening handshake.</summary>
public sealed class EndpointOptions
{
    /// <summary>
    /// Subprotocols this endpoint speaks. The first one the client offered (in the client's order) that is listed
    /// here is chosen (§4.2.2 /subprotocol/); when none matches, the connection proceeds without a subprotocol.
    /// </summary>
    public IList<string> Subprotocols { get; } = [];

    /// <summary>
    /// Optional custom choice: given the client's offers, return one of them or null. Overrides
    /// <see cref="Subprotocols"/>. A value the client did not offer is never sent.
    /// </summary>
    public Func<IReadOnlyList<string>, string?>? SelectSubprotocol { get; set; }

    /// <summary>Runs before the upgrade is accepted (after the server-wide hook): may refuse, pick the subprotocol, attach state.</summary>
    public HandshakeHook? OnHandshake { get; set; }

    /// <summary>Limits for connections of this endpoint, or null to use the server's.</summary>
    public WebSocketOptions? WebSocket { get; set; }
}

/// <summary>A routed endpoint: a path, its options and its handler.</summary>
public sealed record WebSocketEndpoint(string Path, EndpointOptions Options, WebSocketHandler Handler)
{
    // One copy of the limits for all of this endpoint's connections, taken at its first connection.
    internal WebSocketOptions? SharedOptions { get; set; }

    internal string? ChooseSubprotocol(IReadOnlyList<string> offered)
    {
        if (Options.SelectSubprotocol is { } select)
        {
            string? chosen = select(offered);
            // §4.2.2: the server's choice must be one of the values the client sent.
            return chosen is not null && offered.Contains(chosen, StringComparer.Ordinal) ? chosen : null;
        }

        foreach (string candidate in offered)
        {
            if (Options.Subprotocols.Contains(candidate, StringComparer.Ordinal))
            {
                return candidate;
            }
        }

        return null;
    }
}
