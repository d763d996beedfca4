namespace Sockeye;

public sealed partial class WebSocketConnection
{
    private static readonly CancellationToken s_canceled = new(canceled: true);

    // Made on the first read of Aborted only: a connection nobody asks for a token costs nothing. Never disposed: it
    // has no timer and no links, and a disposed source would throw from Aborted for a late caller.
    private CancellationTokenSource? _abortedSource;
    private int _abortSignaled;

    /// <summary>
    /// Canceled once the connection is closing: either side started the closing handshake (a server's
    /// <see cref="Server.WebSocketServer.StopAsync"/> closes every connection with 1001 first), the connection
    /// failed or was aborted, or the TCP connection ended. Pass it to the long waits of a handler or hook (an event,
    /// a database call) so they end when nobody is left to answer, like ASP.NET Core's <c>HttpContext.RequestAborted</c>.
    /// </summary>
    /// <remarks>Costs nothing until first read; its callbacks run on the thread pool, never inside the engine.</remarks>
    public CancellationToken Aborted
    {
        get
        {
            if (Volatile.Read(ref _abortSignaled) != 0)
            {
                return s_canceled;
            }

            CancellationTokenSource? source = Volatile.Read(ref _abortedSource);
            if (source is null)
            {
                var created = new CancellationTokenSource();
                source = Interlocked.CompareExchange(ref _abortedSource, created, null) ?? created;
                if (source != created)
                {
                    created.Dispose();
                }

                // SignalAborted sets its flag, then reads the source; we published the source, then read the flag:
                // at least one of the two sees the other and cancels.
                if (Volatile.Read(ref _abortSignaled) != 0)
                {
                    _ = source.CancelAsync();
                }
            }

            return source.Token;
        }
    }

    /// <summary>
    /// The connection is closing: cancel <see cref="Aborted"/>. Callers have already made <see cref="IsClosing"/>
    /// true, so a handler that returns when released does not replace the close code (e.g. a shutdown's 1001 by 1000).
    /// </summary>
    private void SignalAborted()
    {
        if (Interlocked.Exchange(ref _abortSignaled, 1) == 0 && Volatile.Read(ref _abortedSource) is { } source)
        {
            // CancelAsync runs the token's callbacks (and the continuations they complete) on the thread pool, not
            // here: inside the read loop, a close or an abort, user code must not run under our locks.
            _ = source.CancelAsync();
        }
    }
}
