namespace Sockeye.Topics;

/// <summary>
/// Decides whether <paramref name="connection"/> may subscribe to <paramref name="topic"/>: return null to allow, or
/// the reason to refuse (sent to the client as a <c>forbidden</c> error, and logged). Long waits take
/// <see cref="WebSocketConnection.Aborted"/>, canceled when the connection closes or the server shuts down.
/// </summary>
public delegate ValueTask<string?> SubscribeHook(WebSocketConnection connection, string topic);

/// <summary>
/// Decides what happens to a message <paramref name="connection"/> publishes to <paramref name="topic"/>: allow it,
/// refuse it with a reason, or publish a replacement payload (validation, redaction, enrichment). Long waits take
/// <see cref="WebSocketConnection.Aborted"/>, canceled when the connection closes or the server shuts down.
/// </summary>
public delegate ValueTask<PublishDecision> PublishHook(WebSocketConnection connection, string topic, MessageType type, ReadOnlyMemory<byte> payload);

/// <summary>The answer of a <see cref="PublishHook"/>.</summary>
public readonly struct PublishDecision
{
    private PublishDecision(string? refusal, MessageType? type, ReadOnlyMemory<byte> replacement, bool consumed = false)
    {
        Refusal = refusal;
        ReplacementType = type;
        Replacement = replacement;
        IsConsumed = consumed;
    }

    /// <summary>Publish the message unchanged.</summary>
    public static PublishDecision Allow => default;

    /// <summary>Refuse the message; <paramref name="reason"/> goes to the client as a <c>forbidden</c> error.</summary>
    public static PublishDecision Refuse(string reason) => new(reason ?? "refused", null, default);

    /// <summary>Publish <paramref name="payload"/> (of <paramref name="type"/>) instead of what the client sent.</summary>
    public static PublishDecision Replace(MessageType type, ReadOnlyMemory<byte> payload) => new(null, type, payload);

    /// <summary>
    /// The hook took the message itself (e.g. handed it to a program): it is not published, and the client's
    /// acknowledgement carries the topic's current position.
    /// </summary>
    public static PublishDecision Consumed => new(null, null, default, consumed: true);

    /// <summary>True when the hook took the message (<see cref="Consumed"/>).</summary>
    public bool IsConsumed { get; }

    /// <summary>The refusal reason, or null when allowed.</summary>
    public string? Refusal { get; }

    /// <summary>The replacement's type, or null to publish the original.</summary>
    public MessageType? ReplacementType { get; }

    /// <summary>The replacement payload (when <see cref="ReplacementType"/> is set).</summary>
    public ReadOnlyMemory<byte> Replacement { get; }
}
