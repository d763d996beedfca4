using Sockeye.Client;

namespace Sockeye.Topics;

/// <summary>Settings of a <see cref="TopicClient"/>.</summary>
public sealed class TopicClientOptions
{
    /// <summary>
    /// How each connection is opened (headers, TLS, limits, logging, handshake timeout). The <c>sockeye.v1</c>
    /// subprotocol is offered in addition to any listed here.
    /// </summary>
    public WebSocketClientOptions Connection { get; set; } = new();

    /// <summary>How long a publish, subscribe or presence query waits for its answer (default 10 s).</summary>
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>The bound of the first reconnect delay (default 250 ms); it doubles per failed attempt.</summary>
    public TimeSpan MinReconnectDelay { get; set; } = TimeSpan.FromMilliseconds(250);

    /// <summary>The ceiling of the reconnect delay (default 15 s).</summary>
    public TimeSpan MaxReconnectDelay { get; set; } = TimeSpan.FromSeconds(15);

    internal void Validate()
    {
        ArgumentNullException.ThrowIfNull(Connection);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(RequestTimeout, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfLessThan(MinReconnectDelay, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxReconnectDelay, MinReconnectDelay);
    }
}
