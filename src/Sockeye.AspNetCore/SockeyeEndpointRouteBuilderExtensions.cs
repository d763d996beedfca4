using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;
using Sockeye.Server;
using Sockeye.Topics;

namespace Sockeye.AspNetCore;

/// <summary>Maps Sockeye WebSocket endpoints onto ASP.NET Core endpoint routing.</summary>
public static class SockeyeEndpointRouteBuilderExtensions
{
    /// <summary>
    /// Serves WebSocket connections on <paramref name="pattern"/> with <paramref name="handler"/>: HTTP/1.1 upgrades
    /// and WebSockets over HTTP/2 (RFC 8441 extended CONNECT), each run by Sockeye's engine over the upgraded
    /// stream. Refused requests get their status (400, 403, 426, 503, or a hook's) and one log line. Returns the
    /// endpoint's convention builder: <c>.RequireAuthorization()</c>, <c>.RequireCors()</c> and the like apply
    /// before the handshake; the handler finds the request with <see cref="SockeyeHttpContext.GetHttpContext(WebSocketConnection)"/>.
    /// </summary>
    public static IEndpointConventionBuilder MapSockeye(this IEndpointRouteBuilder endpoints, string pattern, WebSocketHandler handler,
        SockeyeOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        ArgumentNullException.ThrowIfNull(pattern);
        ArgumentNullException.ThrowIfNull(handler);
        options ??= new SockeyeOptions();
        var serverOptions = new WebSocketServerOptions
        {
            Host = "*", // not a loopback listener: Host names are filtered by ASP.NET Core, not by the policy
            WebSocket = options.WebSocket,
            MaxConnections = options.MaxConnections,
        };
        foreach (string origin in options.AllowedOrigins)
        {
            serverOptions.AllowedOrigins.Add(origin);
        }

        var endpoint = new EndpointOptions { SelectSubprotocol = options.SelectSubprotocol, OnHandshake = options.OnHandshake };
        foreach (string subprotocol in options.Subprotocols)
        {
            endpoint.Subprotocols.Add(subprotocol);
        }

        // ASP.NET Core routes: the policy takes every request that reaches it (its fallback endpoint).
        var policy = new HandshakePolicy(serverOptions);
        policy.MapFallback(handler, endpoint);
        var upgrader = new SockeyeUpgrader(policy, options.ReleaseReadBufferWhenIdle);
        return endpoints.Map(pattern, upgrader.HandleAsync).WithDisplayName("Sockeye WebSocket " + pattern);
    }

    /// <summary>
    /// Serves <paramref name="hub"/> on <paramref name="pattern"/> as <c>MapTopics</c> does on a
    /// <see cref="WebSocketServer"/>: offers the <c>sockeye.v1</c> subprotocol, and plain clients publish to and
    /// receive their path's topic.
    /// </summary>
    public static IEndpointConventionBuilder MapSockeyeTopics(this IEndpointRouteBuilder endpoints, string pattern, TopicHub hub,
        SockeyeOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(hub);
        options ??= new SockeyeOptions();
        if (!options.Subprotocols.Contains(TopicHub.Subprotocol))
        {
            options.Subprotocols.Add(TopicHub.Subprotocol);
        }

        return endpoints.MapSockeye(pattern, hub.HandleAsync, options);
    }
}
