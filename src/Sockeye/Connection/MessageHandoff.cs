using System.Threading.Tasks.Sources;

namespace Sockeye;

/// <summary>
/// The rendezvous between the connection's read loop and the application's receive calls. The read loop may only
/// deliver when a receive is pending, and may only reuse the delivered bytes once the application asks for the next
/// message; this is what makes zero-copy delivery safe and gives natural backpressure (an application that stops
/// receiving stops the socket being read). Allocation-free: both directions use reusable value-task sources.
/// </summary>
internal sealed class MessageHandoff
{
    private readonly Lock _lock = new();
    private readonly Source<WebSocketMessage> _app = new();
    private readonly Source<ReceiveMode> _loop = new();
    private ReceiveMode? _pendingRequest;
    private bool _appWaiting;
    private bool _loopWaiting;
    private bool _completed;
    private bool _discarding;
    private bool _closeRequested;

    /// <summary>Application: ask for the next message (which also releases the previous one).</summary>
    public ValueTask<WebSocketMessage> RequestAsync(ReceiveMode mode)
    {
        bool wakeLoop;
        lock (_lock)
        {
            if (_completed)
            {
                return new ValueTask<WebSocketMessage>(WebSocketMessage.Closed);
            }

            if (_appWaiting)
            {
                throw new InvalidOperationException("Another receive is already pending on this connection; receives must not overlap.");
            }

            _app.Core.Reset();
            _appWaiting = true;
            if (_discarding)
            {
                mode = ReceiveMode.Discard;
            }

            wakeLoop = _loopWaiting;
            _loopWaiting = false;
            if (!wakeLoop)
            {
                _pendingRequest = mode;
            }
        }

        var result = new ValueTask<WebSocketMessage>(_app, _app.Core.Version);
        if (wakeLoop)
        {
            _loop.Core.SetResult(mode);
        }

        return result;
    }

    /// <summary>
    /// Read loop: wait until the application asks for a message; returns how to deliver it. Once our close is
    /// going out and no receive is pending, answers Discard at once instead of waiting for a receive that may never
    /// come (the read loop then keeps any delivered bytes alive, since the application may still be reading them).
    /// </summary>
    public ValueTask<ReceiveMode> WaitForRequestAsync()
    {
        lock (_lock)
        {
            if (_discarding || _completed)
            {
                return new ValueTask<ReceiveMode>(ReceiveMode.Discard);
            }

            if (_pendingRequest is { } mode)
            {
                _pendingRequest = null;
                return new ValueTask<ReceiveMode>(mode);
            }

            if (_closeRequested)
            {
                return new ValueTask<ReceiveMode>(ReceiveMode.Discard);
            }

            _loop.Core.Reset();
            _loopWaiting = true;
            return new ValueTask<ReceiveMode>(_loop, _loop.Core.Version);
        }
    }

    /// <summary>Read loop: hand a message to the pending receive.</summary>
    public void Deliver(in WebSocketMessage message)
    {
        lock (_lock)
        {
            if (!_appWaiting)
            {
                return; // the application gave up (discarding); nothing to deliver to
            }

            _appWaiting = false;
        }

        _app.Core.SetResult(message);
    }

    /// <summary>
    /// Our close frame is going out: data messages that start while no receive is pending are dropped, so the
    /// closing handshake completes even when nothing is receiving; a receive loop still gets what arrives.
    /// </summary>
    public void RequestClose()
    {
        bool wakeLoop;
        lock (_lock)
        {
            _closeRequested = true;
            // Wake the loop wherever it waits, also after a delivery: it must read the close reply. (The loop then
            // keeps the delivered bytes alive, since the application may still be reading them.)
            wakeLoop = _loopWaiting;
            if (wakeLoop)
            {
                _loopWaiting = false;
            }
        }

        if (wakeLoop)
        {
            _loop.Core.SetResult(ReceiveMode.Discard);
        }
    }

    /// <summary>Nothing will receive any more (the handler returned): drop all further data messages.</summary>
    public void StartDiscarding()
    {
        bool wakeLoop;
        lock (_lock)
        {
            _discarding = true;
            wakeLoop = _loopWaiting;
            _loopWaiting = false;
        }

        if (wakeLoop)
        {
            _loop.Core.SetResult(ReceiveMode.Discard);
        }
    }

    /// <summary>No more messages: the pending and all later receives return a Close message.</summary>
    public void Complete()
    {
        bool wakeApp;
        bool wakeLoop;
        lock (_lock)
        {
            _completed = true;
            wakeApp = _appWaiting;
            _appWaiting = false;
            wakeLoop = _loopWaiting;
            _loopWaiting = false;
        }

        if (wakeApp)
        {
            _app.Core.SetResult(WebSocketMessage.Closed);
        }

        if (wakeLoop)
        {
            _loop.Core.SetResult(ReceiveMode.Discard);
        }
    }

    // A reusable value-task source. The application side's continuations run inline: its code runs straight on the
    // read loop's thread, with no hop.
    private sealed class Source<T> : IValueTaskSource<T>
    {
        public ManualResetValueTaskSourceCore<T> Core;

        public T GetResult(short token) => Core.GetResult(token);

        public ValueTaskSourceStatus GetStatus(short token) => Core.GetStatus(token);

        public void OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
            Core.OnCompleted(continuation, state, token, flags);
    }
}
