
namespace Sockeye;

public sealed partial class WebSocketConnection
{
    private int _finishing;

    /// <summary>
    /// Starts the closing handshake (§7.1.2) with <paramref name="code"/> and <paramref name="reason"/> (truncated to
    /// fit 123 bytes) and waits until the connection is closed: the peer's close frame arrives, or
    /// <see cref="WebSocketOptions.CloseTimeout"/> passes and the TCP connection is cut. Data messages that arrive
    /// meanwhile are delivered to a receive loop if one is running (it ends with a Close message), otherwise dropped.
    /// </summary>
    public async Task CloseAsync(ushort code = CloseCode.NormalClosure, string? reason = null, CancellationToken cancellationToken = default)
    {
        if (!CloseCode.IsValidOnWire(code))
        {
            throw new ArgumentOutOfRangeException(nameof(code), code, "Not a close code that may be sent (RFC 6455 §7.4).");
        }

        _handoff.RequestClose();
        await SendCloseFrameAsync(code, reason).ConfigureAwait(false);
        SignalAborted(); // after our close frame: a handler released now cannot send a different code first
        try
        {
            await _closeReceivedSignal.Task.WaitAsync(_options.CloseTimeout, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            // §7.1.1 / §7.1.7: a peer that never answers is cut off.
            Log.CloseTimeout(_logger, Id, _options.CloseTimeout);
            Abort("close handshake timed out");
        }

        await Completion.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The application will never receive again (its handler ended): further data messages are dropped.</summary>
    internal void StopReceiving() => _handoff.StartDiscarding();

    /// <summary>Closes after the application stopped receiving for good (its handler returned).</summary>
    internal Task CloseAfterHandlerAsync(ushort code, string? reason)
    {
        _handoff.StartDiscarding();
        return CloseAsync(code, reason);
    }

    /// <summary>
    /// After the read loop ends: stop sending (waiting for a frame being written), then close TCP. §7.1.1: the server
    /// closes the TCP connection first; a client half-closes and waits for the server's FIN, within the timeout.
    /// </summary>
    private async Task FinishAsync()
    {
        if (Interlocked.Exchange(ref _finishing, 1) != 0)
        {
            return;
        }

        StopKeepalive();
        bool locked = false;
        try
        {
            locked = await _frameLock.WaitAsync(_options.CloseTimeout).ConfigureAwait(false);
            if (!locked)
            {
                // A sender is stuck on a full send buffer: release it (its send fails) before closing the pipe.
                _output.CancelPendingFlush();
                locked = await _frameLock.WaitAsync(_options.CloseTimeout).ConfigureAwait(false);
            }

            _outputClosed = true;
            if (locked)
            {
                await _transport.CloseAsync(_options.CloseTimeout).ConfigureAwait(false);
            }
            else
            {
                _transport.Abort();
            }
        }
        catch (Exception ex) when (ex is IOException or InvalidOperationException or ObjectDisposedException)
        {
            Log.TransportError(_logger, Id, ex.Message);
            _transport.Abort();
        }
        finally
        {
            if (locked)
            {
                _frameLock.Release();
            }

            // Done reading. A payload retained for the application stays valid: its pipe is left to the GC.
            if (_retainFrom is null && _retainedOffset < 0)
            {
                await _input.CompleteAsync().ConfigureAwait(false);
                _assembly.Dispose();
            }

            _deflate?.Dispose();
            Log.Closed(_logger, Id, CloseStatus, LogText.Escape(CloseReason)); // the reason is the peer's text
            SignalAborted(); // every way a connection ends passes here (failures, TCP gone without a close frame)
            _closed.TrySetResult();
        }
    }
}
