namespace Sockeye.Topics;

/// <summary>Where a <see cref="TopicClient"/>'s connection stands.</summary>
public enum TopicClientState
{
    /// <summary>The first connection is being opened.</summary>
    Connecting,

    /// <summary>Connected: requests are sent at once and subscriptions are live.</summary>
    Open,

    /// <summary>The connection was lost; the client is reconnecting (requests wait, within their timeout).</summary>
    Reconnecting,

    /// <summary>Disposed: no reconnect, every request fails.</summary>
    Closed,
}

/// <summary>A change of <see cref="TopicClient.State"/>.</summary>
public sealed class TopicClientStateChangedEventArgs : EventArgs
{
    internal TopicClientStateChangedEventArgs(TopicClientState state, string? connectionId, ushort? closeStatus, string? closeReason)
    {
        State = state;
        ConnectionId = connectionId;
        CloseStatus = closeStatus;
        CloseReason = closeReason;
    }

    /// <summary>The new state.</summary>
    public TopicClientState State { get; }

    /// <summary>The connection's id as presence shows it (when <see cref="State"/> is <see cref="TopicClientState.Open"/>).</summary>
    public string? ConnectionId { get; }

    /// <summary>The close code of the connection that was lost (when leaving <see cref="TopicClientState.Open"/>).</summary>
    public ushort? CloseStatus { get; }

    /// <summary>The close reason that goes with <see cref="CloseStatus"/>.</summary>
    public string? CloseReason { get; }
}
