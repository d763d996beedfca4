using System.Runtime.CompilerServices;
using Microsoft.AspNetCore.Http;

namespace Sockeye.AspNetCore;

/// <summary>The ASP.NET Core request behind a connection accepted by <see cref="SockeyeEndpointRouteBuilderExtensions.MapSockeye"/>.</summary>
public static class SockeyeHttpContext
{
    // Weak: an entry lives exactly as long as its connection object.
    private static readonly ConditionalWeakTable<WebSocketConnection, HttpContext> s_contexts = [];

    /// <summary>
    /// The <see cref="HttpContext"/> that was upgraded to <paramref name="connection"/> (its <c>User</c>, features,
    /// services), or null for a connection not accepted by ASP.NET Core. Valid while the handler runs.
    /// </summary>
    public static HttpContext? GetHttpContext(this WebSocketConnection connection)
    {
        ArgumentNullException.ThrowIfNull(connection);
        return s_contexts.TryGetValue(connection, out HttpContext? context) ? context : null;
    }

    internal static void Attach(WebSocketConnection connection, HttpContext context) => s_contexts.AddOrUpdate(connection, context);
}
