namespace Sockeye;

/// <summary>
/// Per-connection limits and timeouts, shared by server and client. Defaults are safe for the open internet; the
/// full table, compared with ws, websockets and Kestrel, is in docs/security.md.
/// </summary>
public sealed class WebSocketOptions
{
    /// <summary>Largest message accepted, in bytes (default 1 MiB). Larger messages close the connection with 1009.</summary>
    public long MaxMessageSize { get; set; } = 1024 * 1024;

    /// <summary>Largest single frame accepted, in bytes (default: <see cref="MaxMessageSize"/>). Applies to streamed messages too.</summary>
    public long? MaxFrameSize { get; set; }

    /// <summary>
    /// What a fragment smaller than this costs against <see cref="MaxMessageSize"/> (default 64 bytes): bounds
    /// floods of tiny fragments while a 4 MiB message in 64-byte fragments still fits a 4 MiB limit. The final
    /// fragment is charged its real size.
    /// </summary>
    public int MinFragmentCharge { get; set; } = 64;

    /// <summary>How long to wait for the peer's close frame (or, for the client, its TCP close) after ours (default 5 s).</summary>
    public TimeSpan CloseTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Send a ping this often (default 20 s); <see cref="TimeSpan.Zero"/> turns keepalive off.</summary>
    public TimeSpan PingInterval { get; set; } = TimeSpan.FromSeconds(20);

    /// <summary>Close with 1011 when a ping's pong has not arrived within this time (default 20 s).</summary>
    public TimeSpan PingTimeout { get; set; } = TimeSpan.FromSeconds(20);

    /// <summary>Close with 1001 when no frame has been received for this long (default: off).</summary>
    public TimeSpan IdleTimeout { get; set; } = TimeSpan.Zero;

    /// <summary>
    /// Most bytes queued for sending before a send waits (default 1 MiB). Applies backpressure to senders when the
    /// peer reads slowly.
    /// </summary>
    public long MaxSendBuffer { get; set; } = 1024 * 1024;

    /// <summary>
    /// How long a send may wait for a full send buffer to drain (default 30 s). A peer that stays that slow is cut
    /// off with status 1008 and the waiting send fails with <see cref="WebSocketClosedException"/>.
    /// </summary>
    public TimeSpan SendTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// permessage-deflate (RFC 7692): null (the default) neither offers nor accepts it. A server accepts the first
    /// acceptable offer within these settings; a client offers them.
    /// </summary>
    public PerMessageDeflateOptions? Deflate { get; set; }

    internal long EffectiveMaxFrameSize => MaxFrameSize ?? MaxMessageSize;

    /// <summary>A copy, so a connection's limits cannot change under it.</summary>
    public WebSocketOptions Clone()
    {
        var copy = (WebSocketOptions)MemberwiseClone();
        copy.Deflate = Deflate?.Clone();
        return copy;
    }
}
