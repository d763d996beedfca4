using Sockeye.Server;

namespace Sockeye.Hosting;

/// <summary>
/// Describes the hosted server's endpoints and code-only settings. The steps run once, in order, when the server is
/// created at host start, with the application's services at hand.
/// </summary>
public sealed class SockeyeBuilder
{
    // Made by AddSockeye only.
    internal SockeyeBuilder()
    {
    }

    internal List<Action<IServiceProvider, WebSocketServerOptions>> OptionSteps { get; } = [];

    internal List<Action<IServiceProvider, WebSocketServer>> ServerSteps { get; } = [];

    /// <summary>Routes WebSocket connections for <paramref name="path"/> to <paramref name="handler"/> (see <see cref="WebSocketServer.Map"/>).</summary>
    public SockeyeBuilder Map(string path, WebSocketHandler handler, EndpointOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(handler);
        if (!path.StartsWith('/'))
        {
            throw new ArgumentException("Paths start with '/'.", nameof(path)); // now, not at host start
        }

        ServerSteps.Add((_, server) => server.Map(path, handler, options));
        return this;
    }

    /// <summary>Routes connections whose path matches no <see cref="Map"/> to <paramref name="handler"/>.</summary>
    public SockeyeBuilder MapFallback(WebSocketHandler handler, EndpointOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(handler);
        ServerSteps.Add((_, server) => server.MapFallback(handler, options));
        return this;
    }

    /// <summary>
    /// Works on the server before it listens, with the application's services: e.g.
    /// <c>b.ConfigureServer((sp, server) =&gt; server.MapTopics("/topics", sp.GetRequiredService&lt;TopicHub&gt;()))</c>.
    /// </summary>
    public SockeyeBuilder ConfigureServer(Action<IServiceProvider, WebSocketServer> configure)
    {
        ArgumentNullException.ThrowIfNull(configure);
        ServerSteps.Add(configure);
        return this;
    }

    /// <summary>
    /// Sets what configuration cannot hold (certificate, static files, handshake hook), after the bound
    /// <see cref="SockeyeOptions"/> have been applied.
    /// </summary>
    public SockeyeBuilder ConfigureOptions(Action<IServiceProvider, WebSocketServerOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(configure);
        OptionSteps.Add(configure);
        return this;
    }
}
