using System.Collections.Concurrent;

namespace Sockeye.Extensions;

/// <summary>
/// One direction's compression context of one connection (RFC 7692 §7.1.1). Without context takeover it borrows a
/// pooled zlib stream per message. With context takeover the stream stays while messages flow; once the connection
/// has been idle for a while, a sweeper keeps only the window's bytes (at most 2^bits, usually far less) and hands the
/// stream back to the pool — the next message re-primes a pooled stream with that history
/// (<c>deflateSetDictionary</c> / <c>inflateSetDictionary</c>), which the peer cannot tell apart.
/// </summary>
/// <remarks>
/// One user at a time (the send path under the frame lock, or the read loop); the sweeper only takes a context
/// between messages, by the same <c>_busy</c> flag.
/// </remarks>
internal sealed class ZlibContext<T> : IDisposable
    where T : ZlibCodec
{
    private readonly Func<T> _rent;
    private readonly bool _takeover;
    private readonly long _idleMs;
    private T? _live;
    private byte[]? _history;
    private int _busy;
    private bool _held;
    private bool _registered;
    private bool _disposed;  // read and written with Volatile
    private long _lastUse;

    public ZlibContext(Func<T> rent, bool contextTakeover, TimeSpan idleRelease)
    {
        _rent = rent;
        _takeover = contextTakeover;
        _idleMs = (long)idleRelease.TotalMilliseconds;
    }

    /// <summary>Whether a zlib stream is attached right now (for tests and memory accounting).</summary>
    public bool HoldsStream => _live is not null;

    /// <summary>Bytes of history kept while the stream is released.</summary>
    public int HistoryBytes => _history?.Length ?? 0;

    /// <summary>The stream for the current message; the same one until <see cref="EndMessage"/>.</summary>
    /// <exception cref="ObjectDisposedException">The connection is over.</exception>
    public T Acquire()
    {
        if (!_held)
        {
            SpinWait spin = default;
            while (Interlocked.CompareExchange(ref _busy, 1, 0) != 0)
            {
                spin.SpinOnce(); // the sweeper is saving this context's history: microseconds
            }

            if (Volatile.Read(ref _disposed))
            {
                Volatile.Write(ref _busy, 0);
                throw new ObjectDisposedException(nameof(ZlibContext<T>));
            }

            _held = true;
        }

        if (_live is null)
        {
            _live = _rent();
            if (_history is not null)
            {
                _live.SetDictionary(_history);
                _history = null;
            }
        }

        return _live;
    }

    /// <summary>Ends a message: without context takeover the stream goes back to the pool, reset.</summary>
    public void EndMessage()
    {
        if (!_held)
        {
            return;
        }

        if (_live is not null)
        {
            if (!_takeover)
            {
                ZlibPool.Return(_live);
                _live = null;
            }
            else if (_idleMs >= 0)
            {
                _lastUse = Environment.TickCount64;
                if (!_registered)
                {
                    _registered = true;
                    ZlibIdleSweeper.Register(this, Sweep);
                }
            }
        }

        _held = false;
        ReleaseBusy();
    }

    /// <summary>
    /// After the peer ended its deflate stream with a final block (BFINAL), the next message starts a new stream
    /// that may still refer to the old window (context takeover): restart, keeping the history.
    /// </summary>
    public void RestartKeepingHistory()
    {
        if (_live is not null)
        {
            byte[] history = _takeover ? _live.GetDictionary() : [];
            _live.Reset();
            if (history.Length > 0)
            {
                _live.SetDictionary(history);
            }
        }
    }

    // Called by the sweeper's timer.
    private void Sweep(long now)
    {
        if (Volatile.Read(ref _busy) != 0 || now - Volatile.Read(ref _lastUse) < _idleMs ||
            Interlocked.CompareExchange(ref _busy, 1, 0) != 0)
        {
            return;
        }

        try
        {
            if (_live is not null && !Volatile.Read(ref _disposed))
            {
                T live = _live;
                _live = null;
                try
                {
                    _history = live.GetDictionary();
                    ZlibPool.Return(live);
                }
                catch (Exception ex) when (ex is InvalidOperationException or InsufficientMemoryException)
                {
                    // Cannot happen with a healthy stream; keep it rather than lose the shared history.
                    _history = null;
                    _live = live;
                    return;
                }
            }

            // Unregistered while busy, so a message that follows registers again and is not lost.
            ZlibIdleSweeper.Unregister(this);
            _registered = false;
        }
        finally
        {
            ReleaseBusy();
        }
    }

    // Whoever holds the context when it is disposed frees it on the way out.
    private void ReleaseBusy()
    {
        if (Volatile.Read(ref _disposed))
        {
            Free();
        }

        Volatile.Write(ref _busy, 0);
    }

    private void Free()
    {
        _history = null;
        _live?.Dispose();
        _live = null;
        if (_registered)
        {
            ZlibIdleSweeper.Unregister(this);
            _registered = false;
        }
    }

    /// <summary>
    /// Frees the stream (the connection is over). A message in progress on another thread frees it when it ends;
    /// the owner ends its own message (<see cref="EndMessage"/>) before disposing.
    /// </summary>
    public void Dispose()
    {
        Volatile.Write(ref _disposed, true);
        if (Interlocked.CompareExchange(ref _busy, 1, 0) == 0)
        {
            Free();
            Volatile.Write(ref _busy, 0);
        }
    }
}

/// <summary>One process-wide timer that releases the zlib streams of connections that went idle.</summary>
internal static class ZlibIdleSweeper
{
    private static readonly ConcurrentDictionary<object, Action<long>> s_contexts = new(ReferenceEqualityComparer.Instance);
    private static readonly Lock s_timerLock = new();
    private static Timer? s_timer;

    /// <summary>How often idle contexts are looked for.</summary>
    public static TimeSpan Period { get; } = TimeSpan.FromMilliseconds(500);

    public static void Register(object context, Action<long> sweep)
    {
        s_contexts[context] = sweep;
        if (s_timer is null)
        {
            lock (s_timerLock)
            {
                s_timer ??= new Timer(static _ => Tick(), null, Period, Period);
            }
        }
    }

    public static void Unregister(object context) => s_contexts.TryRemove(context, out _);

    /// <summary>Runs one sweep now (tests use it instead of waiting for the timer).</summary>
    public static void Tick()
    {
        long now = Environment.TickCount64;
        int before = s_contexts.Count;
        foreach (KeyValuePair<object, Action<long>> entry in s_contexts)
        {
            entry.Value(now); // a context that releases its stream unregisters itself; a failing one stays
        }

        if (s_contexts.Count < before)
        {
            NativeHeap.Trim();
        }
    }
}
