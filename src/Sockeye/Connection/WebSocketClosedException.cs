namespace Sockeye;

/// <summary>
/// Thrown by a send on a connection that is closing or closed: the message was not sent. Every message a send call
/// accepted is either written before the close frame or reported through this exception.
/// </summary>
public sealed class WebSocketClosedException : IOException
{
    /// <summary>Creates the exception.</summary>
    public WebSocketClosedException() : base("The WebSocket connection is closed.") { }

    /// <summary>Creates the exception with a message.</summary>
    public WebSocketClosedException(string message) : base(message) { }

    /// <summary>Creates the exception with a message and cause.</summary>
    public WebSocketClosedException(string message, Exception inner) : base(message, inner) { }
}
