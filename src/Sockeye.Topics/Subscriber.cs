using System.Buffers;

namespace Sockeye.Topics;

/// <summary>
/// One connection's outgoing side: a bounded queue of what its subscriptions receive, and a pump that sends it.
/// </summary>
/// <remarks>
/// Contract: publishers only ever enqueue (under the topic's lock, never blocking, never touching the socket); the pump
/// alone sends, batching everything queued into one flush with <see cref="WebSocketConnection.SendAsync(ReadOnlyMemory{PreparedMessage}, CancellationToken)"/>.
/// So a subscriber that stops reading blocks only its own pump: its queue fills and its topic's
/// <see cref="SlowSubscriberPolicy"/> decides (close, drop oldest, or make publishers wait), while publishers and other
/// subscribers go on. The queue holds references to shared <see cref="TopicMessage"/>s, not copies; an idle
/// subscriber holds no buffer.
/// <para>
/// The pump is this object queued as a thread-pool work item, once per burst: the enqueue that finds it idle
/// schedules it, it drains the queue, and it goes idle again when the queue is empty. That costs one work item per
/// wake-up and no channel, task or state machine of its own, which matters when every publish wakes thousands of
/// pumps for one message each (bench/README.md, fan-out).
/// </para>
/// </remarks>
internal sealed class Subscriber : IThreadPoolWorkItem
{
    private const int Batch = 64;
    // Frames of the protocol itself (acks, presence) a client may leave unread before it is cut off.
    private const long MaxControlBytes = 1024 * 1024;

    private readonly TopicHub _hub;
    private readonly Lock _lock = new();
    private readonly Action _resume;

    private Entry[] _ring = [];
    private int _head;
    private int _count;
    private int _queuedMessages;
    private long _queuedBytes;
    private long _controlBytes;
    private Dictionary<string, (long From, long To)>? _gaps;

    /// <summary>Messages queued for this connection (read without the lock, for metrics).</summary>
    internal int QueuedMessages => Volatile.Read(ref _queuedMessages);

    /// <summary>Payload bytes queued for this connection (read without the lock, for metrics).</summary>
    internal long QueuedBytes => Volatile.Read(ref _queuedBytes);
    private TaskCompletionSource? _room;
    private int _roomMessages;
    private long _roomBytes;
    private bool _closed;

    // 1 while the pump is queued or running: only the enqueue that moves it from 0 to 1 schedules it.
    private int _scheduled;

    // The batch being sent when its send did not complete at once; the pump resumes from it.
    private ValueTask<bool> _pending;

    public Subscriber(TopicHub hub, WebSocketConnection connection, TopicFormat format, string memberId)
    {
        _hub = hub;
        _resume = Resume;
        Connection = connection;
        Format = format;
        MemberId = memberId;
    }

    public WebSocketConnection Connection { get; }

    public TopicFormat Format { get; }

    public string MemberId { get; }

    /// <summary>This connection's subscriptions by topic. Guarded by <see cref="SubscriptionsLock"/>.</summary>
    public Dictionary<string, Subscription> Subscriptions { get; } = new(StringComparer.Ordinal);

    public Lock SubscriptionsLock { get; } = new();

    public bool IsClosed => Volatile.Read(ref _closed);

    /// <summary>Starts the pump (it sends whatever was queued, then waits for more).</summary>
    public void Start() => Wake();

    /// <summary>
    /// Queues a message for this subscriber (caller holds the topic's lock). Returns false when the subscriber is
    /// closed, now or because this message overflowed it under <see cref="SlowSubscriberPolicy.Close"/>.
    /// </summary>
    public bool Enqueue(TopicMessage message, Subscription subscription, bool replay = false)
    {
        TopicOptions options = subscription.Options;
        int bytes = message.Payload.Length;
        lock (_lock)
        {
            if (_closed)
            {
                return false;
            }

            // Replayed history is bounded by the history size, so it is not held against the live limits.
            if (!replay && _queuedMessages > 0
                && (_queuedMessages + 1 > options.MaxQueuedMessages || _queuedBytes + bytes > options.MaxQueuedBytes))
            {
                switch (options.SlowSubscriberPolicy)
                {
                    case SlowSubscriberPolicy.Close:
                        CloseSlowLocked($"{_queuedMessages} messages ({_queuedBytes} bytes) queued on topic '{subscription.Topic}'");
                        return false;
                    case SlowSubscriberPolicy.DropOldest:
                        DropOldestLocked(options, bytes);
                        break;
                    case SlowSubscriberPolicy.Wait:
                        break; // the publisher waits for room before its next publish (TopicHub.WaitForRoomAsync)
                }
            }

            message.Retain();
            Push(new Entry(message, subscription, null, replay));
            if (!replay)
            {
                _queuedMessages++;
                _queuedBytes += bytes;
            }
        }

        Wake();
        return true;
    }

    /// <summary>Queues a protocol frame (takes over one reference of <paramref name="frame"/>).</summary>
    public void EnqueueControl(ControlFrame frame)
    {
        lock (_lock)
        {
            if (_closed)
            {
                frame.Release();
                return;
            }

            _controlBytes += frame.Frame.Payload.Length;
            if (_controlBytes > MaxControlBytes)
            {
                frame.Release();
                CloseSlowLocked($"{_controlBytes} bytes of unread acknowledgements and events");
                return;
            }

            Push(new Entry(null, null, frame, false));
        }

        Wake();
    }

    public void EnqueueControl(PreparedMessage frame) => EnqueueControl(new ControlFrame(frame));

    /// <summary>True when a publisher under <see cref="SlowSubscriberPolicy.Wait"/> must wait before publishing more.</summary>
    public Task? RoomTask(TopicOptions options)
    {
        lock (_lock)
        {
            if (_closed || (_queuedMessages < options.MaxQueuedMessages && _queuedBytes < options.MaxQueuedBytes))
            {
                return null;
            }

            _room ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _roomMessages = options.MaxQueuedMessages;
            _roomBytes = options.MaxQueuedBytes;
            return _room.Task;
        }
    }

    /// <summary>Stops the pump and gives every queued reference back.</summary>
    public void Close()
    {
        TaskCompletionSource? room;
        lock (_lock)
        {
            if (_closed)
            {
                return;
            }

            _closed = true;
            ClearLocked();
            room = _room;
            _room = null;
        }

        room?.TrySetResult(); // a pump still running or queued sees _closed and stops
    }

    private void Push(Entry entry)
    {
        if (_count == _ring.Length)
        {
            var grown = new Entry[Math.Max(16, _ring.Length * 2)];
            for (int i = 0; i < _count; i++)
            {
                grown[i] = _ring[(_head + i) % _ring.Length];
            }

            _ring = grown;
            _head = 0;
        }

        _ring[(_head + _count) % _ring.Length] = entry;
        _count++;
    }

    // Drops the oldest live messages until the new one fits; remembers the dropped range per topic so the client is
    // told (docs/protocol.md §5 `dropped`) before that topic's next message.
    private void DropOldestLocked(TopicOptions options, int incoming)
    {
        long dropped = 0;
        for (int i = 0; i < _count && _queuedMessages > 0
             && (_queuedMessages + 1 > options.MaxQueuedMessages || _queuedBytes + incoming > options.MaxQueuedBytes); i++)
        {
            ref Entry entry = ref _ring[(_head + i) % _ring.Length];
            if (entry.Message is not { } message || entry.Replay)
            {
                continue;
            }

            _gaps ??= new Dictionary<string, (long, long)>(StringComparer.Ordinal);
            long offset = message.Position.Offset;
            _gaps[message.Topic] = _gaps.TryGetValue(message.Topic, out (long From, long To) gap)
                ? (Math.Min(gap.From, offset), Math.Max(gap.To, offset))
                : (offset, offset);
            _queuedMessages--;
            _queuedBytes -= message.Payload.Length;
            message.Release();
            entry = new Entry(null, null, null, false); // a hole the pump skips
            dropped++;
        }

        _hub.CountDropped(this, dropped);
    }

    private void CloseSlowLocked(string detail)
    {
        _closed = true;
        ClearLocked();
        TaskCompletionSource? room = _room;
        _room = null;
        room?.TrySetResult();
        _hub.OnSlowSubscriber(this, detail);
    }

    private void ClearLocked()
    {
        for (int i = 0; i < _count; i++)
        {
            ref Entry entry = ref _ring[(_head + i) % _ring.Length];
            entry.Message?.Release();
            entry.Control?.Release();
            entry = default;
        }

        _count = 0;
        _head = 0;
        _queuedMessages = 0;
        _queuedBytes = 0;
        _controlBytes = 0;
        _ring = [];
    }

    private void Wake()
    {
        if (Interlocked.Exchange(ref _scheduled, 1) == 0)
        {
            ThreadPool.UnsafeQueueUserWorkItem(this, preferLocal: false);
        }
    }

    void IThreadPoolWorkItem.Execute() => Drain();

    // The pump: sends batches until the queue is empty, then goes idle. A send that does not complete at once resumes
    // the pump from its completion (Resume), so a subscriber that stops reading holds no thread.
    private void Drain()
    {
        while (!Volatile.Read(ref _closed))
        {
            if (Volatile.Read(ref _count) == 0)
            {
                // Idle, then look again: an enqueue between the last look and the reset found the pump still
                // scheduled and did not wake it (both sides use full fences, so one of them sees the other).
                Volatile.Write(ref _scheduled, 0);
                Interlocked.MemoryBarrier();
                if ((Volatile.Read(ref _count) == 0 && !Volatile.Read(ref _closed)) || Interlocked.Exchange(ref _scheduled, 1) != 0)
                {
                    return;
                }

                continue;
            }

            ValueTask<bool> send = SendBatchAsync();
            if (!send.IsCompleted)
            {
                _pending = send;
                send.ConfigureAwait(false).GetAwaiter().UnsafeOnCompleted(_resume);
                return;
            }

            Complete(send);
        }
    }

    private void Resume()
    {
        ValueTask<bool> send = _pending;
        _pending = default;
        Complete(send);
        Drain();
    }

    private void Complete(ValueTask<bool> send)
    {
        try
        {
            send.GetAwaiter().GetResult();
        }
        catch (Exception ex) when (ex is WebSocketClosedException or OperationCanceledException or ObjectDisposedException)
        {
            Close(); // the connection ended; its handler detaches the subscriber
        }
        catch (Exception ex)
        {
            _hub.OnPumpFailed(this, ex);
            Close();
        }
    }

    // Takes up to Batch entries and sends them with one flush. Returns false when the queue was empty.
    [System.Runtime.CompilerServices.AsyncMethodBuilder(typeof(System.Runtime.CompilerServices.PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<bool> SendBatchAsync()
    {
        PreparedMessage[] frames = ArrayPool<PreparedMessage>.Shared.Rent(Batch + 1);
        Entry[] owned = ArrayPool<Entry>.Shared.Rent(Batch);
        ControlFrame? gapNotice = null;
        int frameCount = 0;
        int ownedCount = 0;
        TaskCompletionSource? room = null;
        try
        {
            lock (_lock)
            {
                while (_count > 0 && ownedCount < Batch && gapNotice is null)
                {
                    Entry entry = _ring[_head];
                    _ring[_head] = default;
                    _head = (_head + 1) % _ring.Length;
                    _count--;
                    if (entry.Message is { } message)
                    {
                        if (!entry.Replay)
                        {
                            _queuedMessages--;
                            _queuedBytes -= message.Payload.Length;
                        }

                        if (!entry.Subscription!.Active)
                        {
                            message.Release();
                            continue;
                        }

                        if (_gaps is not null && Format == TopicFormat.V1 && _gaps.Remove(message.Topic, out (long From, long To) gap))
                        {
                            gapNotice = new ControlFrame(V1Writer.Dropped(message.Topic, gap.From, gap.To));
                            frames[frameCount++] = gapNotice.Frame;
                        }

                        frames[frameCount++] = message.GetFrame(Format);
                    }
                    else if (entry.Control is { } control)
                    {
                        _controlBytes -= control.Frame.Payload.Length;
                        frames[frameCount++] = control.Frame;
                    }
                    else
                    {
                        continue; // a dropped message's hole
                    }

                    owned[ownedCount++] = entry;
                }

                if (_room is not null && _queuedMessages < _roomMessages && _queuedBytes < _roomBytes)
                {
                    room = _room;
                    _room = null;
                }
            }

            room?.TrySetResult();
            if (frameCount == 0)
            {
                return _count > 0;
            }

            await Connection.SendAsync(frames.AsMemory(0, frameCount)).ConfigureAwait(false);
            _hub.CountDelivered(frameCount);
            return true;
        }
        finally
        {
            for (int i = 0; i < ownedCount; i++)
            {
                owned[i].Message?.Release();
                owned[i].Control?.Release();
            }

            gapNotice?.Release();
            Array.Clear(frames, 0, frameCount);
            Array.Clear(owned, 0, ownedCount);
            ArrayPool<PreparedMessage>.Shared.Return(frames);
            ArrayPool<Entry>.Shared.Return(owned);
        }
    }

    internal readonly record struct Entry(TopicMessage? Message, Subscription? Subscription, ControlFrame? Control, bool Replay);
}
