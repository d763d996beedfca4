namespace Sockeye;

/// <summary>What a received <see cref="WebSocketMessage"/> holds.</summary>
public enum MessageType
{
    /// <summary>A text message: its payload is valid UTF-8.</summary>
    Text,
    /// <summary>A binary message.</summary>
    Binary,
    /// <summary>The connection is closed; no message follows. See <see cref="WebSocketConnection.CloseStatus"/>.</summary>
    Close,
}
