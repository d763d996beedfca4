namespace Sockeye.Conformance.Judging;

/// <summary>
/// Upper bounds for waiting on the peer. Cases never sleep: they proceed on the awaited event and only a
/// misbehaving peer makes them wait this long.
/// </summary>
internal sealed record Timeouts
{
    /// <summary>For an echo, pong or other expected reply.</summary>
    public TimeSpan Reply { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>For the peer to fail the connection after a bad frame.</summary>
    public TimeSpan Fail { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>6.4.x: how long the peer has to fail on invalid UTF-8 before we send the rest of the message.</summary>
    public TimeSpan FailFast { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>For the Close reply, and for the TCP close after the closing handshake.</summary>
    public TimeSpan Close { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Server mode: for the peer process to connect.</summary>
    public TimeSpan Connect { get; init; } = TimeSpan.FromSeconds(20);

    /// <summary>Server mode: for the peer process to exit once the connection is closed.</summary>
    public TimeSpan PeerExit { get; init; } = TimeSpan.FromSeconds(10);

    public static Timeouts Default { get; } = new();

    public Timeouts Scale(double factor) => new()
    {
        Reply = Reply * factor,
        Fail = Fail * factor,
        FailFast = FailFast * factor,
        Close = Close * factor,
        Connect = Connect * factor,
        PeerExit = PeerExit * factor,
    };
}
