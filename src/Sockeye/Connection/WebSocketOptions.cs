namespace Sockeye;

/// <summary>Per-connection limits and timeouts, shared by server and client. Defaults are safe for the open internet.</summary>
public sealed class WebSocketOptions
{
    /// <summary>Largest message accepted, in bytes (default 1 MiB). Larger messages close the connection with 1009.</summary>
    public long MaxMessageSize { get; set; } = 1024 * 1024;

    /// <summary>Largest single frame accepted, in bytes (default: <see cref="MaxMessageSize"/>). Applies to streamed messages too.</summary>
    public long? MaxFrameSize { get; set; }

    /// <summary>How long to wait for the peer's close frame (or, for the client, its TCP close) after ours (default 5 s).</summary>
    public TimeSpan CloseTimeout { get; set; } = TimeSpan.FromSeconds(5);

    internal long EffectiveMaxFrameSize => MaxFrameSize ?? MaxMessageSize;

    /// <summary>A copy, so a connection's limits cannot change under it.</summary>
    public WebSocketOptions Clone() => (WebSocketOptions)MemberwiseClone();
}
