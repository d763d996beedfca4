using System.IO.Pipelines;
using System.Net;

namespace Sockeye.Transport;

/// <summary>A byte transport under a WebSocket connection: a duplex pipe plus the ways to end it.</summary>
public interface IWebSocketTransport : IDuplexPipe
{
    /// <summary>The peer's address, when known.</summary>
    EndPoint? RemoteEndPoint { get; }

    /// <summary>Our address, when known.</summary>
    EndPoint? LocalEndPoint { get; }

    /// <summary>
    /// Sends what is queued, ends the send side, waits up to <paramref name="lingerTimeout"/> for the peer's end,
    /// then closes. Does not complete <see cref="IDuplexPipe.Input"/>: its reader completes it when done with the
    /// bytes it read (a delivered message may still point into them).
    /// </summary>
    Task CloseAsync(TimeSpan lingerTimeout);

    /// <summary>Closes at once, dropping unsent bytes; pending reads of Input end.</summary>
    void Abort();
}
