using System.Net.Sockets;
using System.Text;
using Microsoft.Extensions.Logging;

namespace Sockeye.Server;

public sealed partial class WebSocketServer
{
    // Out of descriptors, accept fails at once for as long as the backlog holds connections: without a pause the
    // loop spins a core and floods the log. Pauses grow from 10 ms to 1 s and reset on the next good accept.
    private static readonly TimeSpan MinAcceptPause = TimeSpan.FromMilliseconds(10);
    private static readonly TimeSpan MaxAcceptPause = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan AcceptLogInterval = TimeSpan.FromSeconds(10);
    private static readonly byte[] s_overloaded = Encoding.ASCII.GetBytes(
        "HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nRetry-After: 1\r\nContent-Type: text/plain\r\nContent-Length: 44\r\n\r\nserver at its descriptor limit, retry later\n");

    private async Task AcceptLoopAsync(Socket listener)
    {
        // One descriptor held back: when accept fails for lack of descriptors, it is given up to accept the
        // waiting connection and answer it 503, so clients are shed with an answer instead of hanging in the
        // backlog (the same trick as libev's and nginx's reserve descriptor).
        using var reserve = new DescriptorReserve();
        // Accepted connections (handshaking, static, upgraded) the open-file limit can hold with headroom to spare.
        int sessionLimit = DescriptorLimit.DefaultMaxConnections(DescriptorLimit.Current(), DescriptorLimit.InUse());
        TimeSpan pause = TimeSpan.Zero;
        long failures = 0;
        long shed = 0;
        long lastLog = -1;
        while (!_stopping.IsCancellationRequested)
        {
            Socket socket;
            try
            {
                socket = await listener.AcceptAsync(_stopping.Token).ConfigureAwait(false);
                pause = TimeSpan.Zero;
            }
            catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException)
            {
                break;
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                // Never let the accept loop die: the server would look alive and accept nothing.
                failures++;
                SocketError error = (ex as SocketException)?.SocketErrorCode ?? SocketError.SocketError;
                long answered = 0;
                if (error is SocketError.TooManyOpenSockets or SocketError.NoBufferSpaceAvailable
                    && reserve.Release())
                {
                    answered = await ShedOneAsync(listener).ConfigureAwait(false);
                    shed += answered;
                    reserve.Reacquire();
                }

                // One line per interval, whatever the rate (87,000 lines in 10 s were seen without this).
                long now = Environment.TickCount64;
                if (lastLog < 0 || now - lastLog >= (long)AcceptLogInterval.TotalMilliseconds)
                {
                    lastLog = now;
                    _logger.LogWarning(
                        "accept failed: {Error} ({Failures} failures, {Shed} connections answered 503 since the last report; descriptor limit {Limit}, {Connections} WebSocket connections open)",
                        ex is SocketException ? error : ex.GetType().Name + ": " + ex.Message, failures, shed, DescriptorLimit.Current()?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "unknown", _connections.Count);
                    failures = 0;
                    shed = 0;
                }

                if (answered > 0)
                {
                    continue; // a waiting client was answered: work per incoming connection, not a spin
                }

                pause = pause == TimeSpan.Zero ? MinAcceptPause : TimeSpan.FromTicks(Math.Min(pause.Ticks * 2, MaxAcceptPause.Ticks));
                try
                {
                    await Task.Delay(pause, _stopping.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    break;
                }

                continue;
            }

            if (Volatile.Read(ref _sessionCount) >= sessionLimit)
            {
                // Every accepted connection holds a descriptor; past the budget the runtime itself starts failing
                // (loading an assembly, reading /proc), so answer 503 and close instead of holding it.
                shed += Answer503AndClose(socket);
                long now = Environment.TickCount64;
                if (lastLog < 0 || now - lastLog >= (long)AcceptLogInterval.TotalMilliseconds)
                {
                    lastLog = now;
                    _logger.LogWarning("at the descriptor budget ({Limit} connections for the open-file limit): {Shed} connections answered 503 since the last report",
                        sessionLimit, shed);
                    shed = 0;
                }

                continue;
            }

            Interlocked.Increment(ref _sessionCount);
            _ = ServeConnectionAsync(socket);
        }
    }

    /// <summary>Accepts one waiting connection with the reserve's descriptor and answers it 503. Returns 1 if it did.</summary>
    private async Task<long> ShedOneAsync(Socket listener)
    {
        Socket socket;
        // Canceled, not abandoned, when nothing is waiting: an abandoned accept would later take a connection that
        // nobody serves or closes.
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(_stopping.Token);
        timeout.CancelAfter(MinAcceptPause);
        try
        {
            socket = await listener.AcceptAsync(timeout.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is SocketException or OperationCanceledException or ObjectDisposedException)
        {
            return 0;
        }

        return Answer503AndClose(socket);
    }

    private static int Answer503AndClose(Socket socket)
    {
        using (socket)
        {
            try
            {
                // Non-blocking best effort: the answer fits any socket buffer; a peer that is gone gets nothing.
                socket.Blocking = false;
                socket.Send(s_overloaded, SocketFlags.None, out _);
                socket.Shutdown(SocketShutdown.Send);
            }
            catch (SocketException)
            {
            }
        }

        return 1;
    }

    /// <summary>One descriptor (<c>/dev/null</c>) held so it can be given back when the process runs out.</summary>
    private sealed class DescriptorReserve : IDisposable
    {
        private FileStream? _held = Open();

        public bool Release()
        {
            if (_held is null)
            {
                return false;
            }

            _held.Dispose();
            _held = null;
            return true;
        }

        public void Reacquire() => _held ??= Open();

        public void Dispose() => Release();

        private static FileStream? Open()
        {
            try
            {
                return OperatingSystem.IsWindows() ? null : new FileStream("/dev/null", FileMode.Open, FileAccess.Read);
            }
            catch (IOException)
            {
                return null; // out of descriptors right now: try again after the next shed
            }
        }
    }
}
