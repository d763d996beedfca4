namespace Sockeye.Client;

/// <summary>The opening handshake failed: the server refused the upgrade or answered something invalid.</summary>
public sealed class WebSocketHandshakeException : IOException
{
    /// <summary>Creates the exception.</summary>
    public WebSocketHandshakeException() { }

    /// <summary>Creates the exception with a message.</summary>
    public WebSocketHandshakeException(string message) : base(message) { }

    /// <summary>Creates the exception with a message and cause.</summary>
    public WebSocketHandshakeException(string message, Exception inner) : base(message, inner) { }

    /// <summary>Creates the exception with the server's status code.</summary>
    public WebSocketHandshakeException(string message, int statusCode) : base(message) => StatusCode = statusCode;

    /// <summary>The HTTP status the server answered, when it answered one.</summary>
    public int? StatusCode { get; }
}
