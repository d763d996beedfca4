namespace Sockeye.Topics;

/// <summary>How a subscriber receives a topic's messages.</summary>
internal enum TopicFormat
{
    /// <summary>The payload alone, as a plain WebSocket message (plain clients).</summary>
    Raw,

    /// <summary>The <c>sockeye.v1</c> envelope (docs/protocol.md §5 <c>msg</c>).</summary>
    V1,
}
