using Sockeye.Server;

namespace Sockeye.Topics;

/// <summary>Maps a <see cref="TopicHub"/> onto a <see cref="WebSocketServer"/>.</summary>
public static class TopicServerExtensions
{
    /// <summary>
    /// Serves <paramref name="hub"/> on <paramref name="path"/> (or, with a null path, on every path no other endpoint
    /// takes): offers the <c>sockeye.v1</c> subprotocol, and plain clients publish to and receive their path's topic.
    /// </summary>
    public static WebSocketEndpoint MapTopics(this WebSocketServer server, string? path, TopicHub hub, EndpointOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(server);
        ArgumentNullException.ThrowIfNull(hub);
        options ??= new EndpointOptions();
        if (!options.Subprotocols.Contains(TopicHub.Subprotocol))
        {
            options.Subprotocols.Add(TopicHub.Subprotocol);
        }

        return path is null ? server.MapFallback(hub.HandleAsync, options) : server.Map(path, hub.HandleAsync, options);
    }
}
