using System.Runtime.CompilerServices;
using Microsoft.AspNetCore.Http;
using Sockeye.Server;

namespace Sockeye.AspNetCore;

/// <summary>The ASP.NET Core request behind a connection accepted by <see cref="SockeyeEndpointRouteBuilderExtensions.MapSockeye"/>.</summary>
public static class SockeyeHttpContext
{
    // Weak: an entry lives exactly as long as its connection object.
    private static readonly ConditionalWeakTable<WebSocketConnection, HttpContext> s_contexts = [];
    private static readonly ConditionalWeakTable<WebSocketRequest, HttpContext> s_requests = [];

    /// <summary>
    /// The <see cref="HttpContext"/> that was upgraded to <paramref name="connection"/> (its <c>User</c>, features,
    /// services), or null for a connection not accepted by ASP.NET Core. Valid while the handler runs.
    /// </summary>
    public static HttpContext? GetHttpContext(this WebSocketConnection connection)
    {
        ArgumentNullException.ThrowIfNull(connection);
        return s_contexts.TryGetValue(connection, out HttpContext? context) ? context : null;
    }

    /// <summary>
    /// The <see cref="HttpContext"/> of the request being decided, for a <c>SockeyeOptions.OnHandshake</c> hook (the
    /// signed-in <c>User</c> and its claims, services, features), or null for a handshake not served by ASP.NET Core.
    /// </summary>
    public static HttpContext? GetHttpContext(this HandshakeContext handshake)
    {
        ArgumentNullException.ThrowIfNull(handshake);
        return s_requests.TryGetValue(handshake.Request, out HttpContext? context) ? context : null;
    }

    internal static void Attach(WebSocketConnection connection, HttpContext context) => s_contexts.AddOrUpdate(connection, context);

    internal static void Attach(WebSocketRequest request, HttpContext context) => s_requests.AddOrUpdate(request, context);
}
