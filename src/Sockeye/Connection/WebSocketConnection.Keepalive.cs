using System.Buffers.Binary;
using System.Diagnostics;
using Sockeye.Protocol;

namespace Sockeye;

public sealed partial class WebSocketConnection
{
    private Timer? _keepalive;
    private long _lastReceived;
    private long _pingSentTimestamp;
    private long _rttTicks = -1;

    /// <summary>Round-trip time measured by the last keepalive ping, or null before the first pong.</summary>
    public TimeSpan? RoundTripTime => _rttTicks < 0 ? null : Stopwatch.GetElapsedTime(0, Interlocked.Read(ref _rttTicks));

    /// <summary>
    /// One timer per connection, only when keepalive or an idle timeout is on. It ticks at the ping interval (or a
    /// quarter of the idle timeout), sends a ping carrying a timestamp, and fails the connection when the previous
    /// ping is unanswered for longer than <see cref="WebSocketOptions.PingTimeout"/>.
    /// </summary>
    private void StartKeepalive()
    {
        TimeSpan ping = _options.PingInterval;
        TimeSpan idle = _options.IdleTimeout;
        TimeSpan period = ping > TimeSpan.Zero ? ping : idle / 4;
        if (idle > TimeSpan.Zero && idle / 4 < period)
        {
            period = idle / 4;
        }

        if (period > TimeSpan.Zero)
        {
            _keepalive = new Timer(static s => ((WebSocketConnection)s!).OnKeepaliveTick(), this, period, period);
        }
    }

    private void StopKeepalive() => _keepalive?.Dispose();

    private void OnKeepaliveTick()
    {
        if (IsClosing)
        {
            return;
        }

        long now = Environment.TickCount64;
        if (_waitingForApp)
        {
            // Backpressure, not a dead or idle peer: the application is not receiving, so frames sit unread.
            Interlocked.Exchange(ref _pingSentTimestamp, 0);
            Volatile.Write(ref _lastReceived, now);
            return;
        }

        TimeSpan idle = _options.IdleTimeout;
        if (idle > TimeSpan.Zero && now - Volatile.Read(ref _lastReceived) > (long)idle.TotalMilliseconds)
        {
            Log.IdleTimeout(_logger, Id, idle);
            _ = CloseFromTimerAsync(CloseCode.GoingAway, "idle timeout");
            return;
        }

        if (_options.PingInterval <= TimeSpan.Zero)
        {
            return;
        }

        long sent = Interlocked.Read(ref _pingSentTimestamp);
        if (sent != 0 && Stopwatch.GetElapsedTime(sent) > _options.PingTimeout)
        {
            // §7.1.7 with status 1011: the peer stopped answering, it is gone or stuck.
            Log.KeepaliveTimeout(_logger, Id, _options.PingTimeout);
            _ = CloseFromTimerAsync(CloseCode.InternalError, "keepalive ping timeout");
            return;
        }

        if (sent == 0)
        {
            long timestamp = Stopwatch.GetTimestamp();
            Interlocked.Exchange(ref _pingSentTimestamp, timestamp);
            byte[] payload = new byte[8];
            BinaryPrimitives.WriteInt64BigEndian(payload, timestamp);
            _ = SendControlFrameAsync(Opcode.Ping, payload).AsTask();
        }
    }

    private void OnPong(ReadOnlySpan<byte> payload)
    {
        long sent = Interlocked.Read(ref _pingSentTimestamp);
        if (sent != 0 && payload.Length == 8 && BinaryPrimitives.ReadInt64BigEndian(payload) == sent)
        {
            Interlocked.Exchange(ref _rttTicks, Stopwatch.GetTimestamp() - sent);
            Interlocked.Exchange(ref _pingSentTimestamp, 0);
        }
    }

    private async Task CloseFromTimerAsync(ushort code, string reason)
    {
        if (CloseStatus is null)
        {
            CloseStatus = code;
            CloseReason = reason;
        }

        _handoff.StartDiscarding();
        await SendCloseFrameAsync(code, reason).ConfigureAwait(false);
        try
        {
            await _closeReceivedSignal.Task.WaitAsync(_options.CloseTimeout).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            Abort("close handshake timed out");
        }
    }
}
