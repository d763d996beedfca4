using System.Buffers;
using System.Runtime.ExceptionServices;
using Microsoft.Extensions.Logging;

namespace Sockeye.Topics;

/// <summary>
/// One connection's publishes in flight at the backplane (docs/topics.md "Publishing"). The connection's reader
/// prepares each publish (checks, hook, <c>wait</c> policy) in order, copies its payload into a pooled buffer (the
/// receive buffer is reused by the next read) and calls the backplane without awaiting, up to
/// <see cref="TopicHubOptions.MaxPublishesInFlight"/> at a time; the answers (acks, errors, a plain client's close) are
/// given strictly in request order, by the reader when a publish completed at once, otherwise by a drain loop that
/// runs while any is in flight. Every other answer of the connection waits for <see cref="DrainAsync"/> first, so
/// answers never overtake one another. With a backplane that does not promise call order
/// (<see cref="ITopicBackplane.PreservesPublishOrder"/>) each publish is awaited, as before.
/// </summary>
internal sealed class PublishPipeline
{
    private readonly TopicHub _hub;
    private readonly Subscriber _owner;
    private readonly Pending[] _ring;
    private readonly bool _pipelined;
    private readonly Lock _lock = new();
    private int _head;
    private int _count;
    private bool _draining;
    private Task _drainer = Task.CompletedTask;
    private TaskCompletionSource? _space;
    private Task? _closing;
    private ExceptionDispatchInfo? _fault;
    private int _refused;

    public PublishPipeline(TopicHub hub, Subscriber owner)
    {
        _hub = hub;
        _owner = owner;
        int capacity = hub.Options.MaxPublishesInFlight;
        _pipelined = capacity > 1 && hub.Backplane.PreservesPublishOrder;
        _ring = new Pending[_pipelined ? capacity : 1];
    }

    /// <summary>A plain client's publish was refused: it is being closed, nothing it sends later is published.</summary>
    public bool Refused => Volatile.Read(ref _refused) != 0;

    /// <summary>
    /// Publishes (or queues the publish of) <paramref name="payload"/>, which is only read before this returns. The
    /// answer, success or refusal, is given in order with the connection's other publishes; nothing is thrown for a
    /// refusal. Returns once the publish is at the backplane (waiting while the pipeline is full).
    /// </summary>
    public async ValueTask PublishAsync(string topic, MessageType type, ReadOnlyMemory<byte> payload, long? id)
    {
        TopicHub.PreparedPublish prepared;
        try
        {
            prepared = await _hub.PreparePublishAsync(_owner, topic, type, payload, CancellationToken.None).ConfigureAwait(false);
            if (prepared.IsConsumed || !_pipelined)
            {
                await DrainAsync().ConfigureAwait(false);
                StreamPosition position;
                if (prepared.IsConsumed)
                {
                    position = await _hub.CurrentPositionAsync(topic, CancellationToken.None).ConfigureAwait(false);
                }
                else
                {
                    position = await _hub.Backplane.PublishAsync(topic, prepared.Options!, prepared.Type, prepared.Payload, CancellationToken.None).ConfigureAwait(false);
                    _hub.CountPublished();
                }

                Answer(topic, id, position, null);
                return;
            }
        }
        catch (TopicException ex)
        {
            // Refused before reaching the backplane: answered after the publishes sent before it.
            await DrainAsync().ConfigureAwait(false);
            Answer(topic, id, default, ex);
            return;
        }

        await WaitForSpaceAsync().ConfigureAwait(false);
        int length = prepared.Payload.Length;
        byte[] buffer = ArrayPool<byte>.Shared.Rent(length);
        prepared.Payload.Span.CopyTo(buffer);
        ValueTask<StreamPosition> publish;
        // CA2012: the ValueTask is kept (in the ring) and consumed exactly once, inline below or by the drain loop.
#pragma warning disable CA2012
        try
        {
            publish = _hub.Backplane.PublishAsync(topic, prepared.Options!, prepared.Type, buffer.AsMemory(0, length), CancellationToken.None);
        }
        catch (Exception ex)
        {
            publish = ValueTask.FromException<StreamPosition>(ex); // answered in its turn like any other failure
        }
#pragma warning restore CA2012

        var pending = new Pending(publish, buffer, topic, id);
        bool now = false;
        bool start = false;
        lock (_lock)
        {
            if (_count == 0 && publish.IsCompleted)
            {
                now = true; // the common case of a synchronous backplane: no queueing
            }
            else
            {
                _ring[(_head + _count) % _ring.Length] = pending;
                _count++;
                start = !_draining;
                _draining |= start;
            }
        }

        if (now)
        {
            StreamPosition position = default;
            Exception? error = null;
            try
            {
                position = publish.GetAwaiter().GetResult();
            }
            catch (Exception ex)
            {
                error = ex;
            }

            Complete(pending, position, error);
        }
        else if (start)
        {
            _drainer = DrainLoopAsync();
        }
    }

    /// <summary>
    /// Waits until every publish sent so far is answered. Called by the reader before any other answer, and before
    /// the connection's subscriptions end; rethrows a failure that was not a refusal (a backplane fault).
    /// </summary>
    public async ValueTask DrainAsync()
    {
        Task drainer;
        lock (_lock)
        {
            drainer = _draining ? _drainer : Task.CompletedTask;
        }

        await drainer.ConfigureAwait(false);
        _fault?.Throw();
    }

    /// <summary>After the reader stopped: every in-flight publish answered, buffers returned, the close finished.</summary>
    public async Task CompleteAsync()
    {
        Task drainer;
        lock (_lock)
        {
            drainer = _draining ? _drainer : Task.CompletedTask;
        }

        await drainer.ConfigureAwait(false);
        if (_closing is { } closing)
        {
            await closing.ConfigureAwait(false);
        }

        _fault?.Throw();
    }

    private async ValueTask WaitForSpaceAsync()
    {
        while (true)
        {
            Task space;
            lock (_lock)
            {
                if (_count < _ring.Length)
                {
                    return;
                }

                _space ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                space = _space.Task;
            }

            await space.ConfigureAwait(false);
        }
    }

    private async Task DrainLoopAsync()
    {
        while (true)
        {
            Pending head;
            lock (_lock)
            {
                if (_count == 0)
                {
                    _draining = false;
                    return;
                }

                head = _ring[_head];
            }

            StreamPosition position = default;
            Exception? error = null;
            try
            {
                position = await head.Publish.ConfigureAwait(false); // a ValueTask: awaited once, here
            }
            catch (Exception ex)
            {
                error = ex;
            }

            Complete(head, position, error);
            TaskCompletionSource? space = null;
            lock (_lock)
            {
                _ring[_head] = default;
                _head = (_head + 1) % _ring.Length;
                _count--;
                // Hysteresis: a full pipeline wakes its reader when half empty, one wake per many publishes.
                if (_space is not null && _count <= _ring.Length / 2)
                {
                    space = _space;
                    _space = null;
                }
            }

            space?.TrySetResult();
        }
    }

    // The publish has completed: give its buffer back and answer it.
    private void Complete(in Pending pending, StreamPosition position, Exception? error)
    {
        ArrayPool<byte>.Shared.Return(pending.Buffer!);
        switch (error)
        {
            case null:
                _hub.CountPublished();
                Answer(pending.Topic, pending.Id, position, null);
                break;
            case TopicException refusal:
                Answer(pending.Topic, pending.Id, default, refusal);
                break;
            default:
                // Not a refusal: a fault of the backplane. The connection is cut and its reader rethrows it, as it did
                // when it awaited each publish itself.
                _fault ??= ExceptionDispatchInfo.Capture(error);
                _owner.Connection.Abort("topic publish failed");
                break;
        }
    }

    private void Answer(string topic, long? id, StreamPosition position, TopicException? refusal)
    {
        if (_owner.Format == TopicFormat.V1)
        {
            if (refusal is not null)
            {
                _hub.LogRefusal(_owner, topic, refusal);
                _owner.EnqueueControl(V1Writer.Error(refusal.Code, refusal.Message, id, topic));
            }
            else if (id is { } ack)
            {
                _owner.EnqueueControl(V1Writer.Ack(ack, topic, position));
            }

            return;
        }

        // A plain client has no way to hear of a refusal but the close (1008), once; publishes it sent before or
        // after the refused one are independent messages, published or refused on their own.
        if (refusal is not null && Interlocked.Exchange(ref _refused, 1) == 0)
        {
            _hub.LogPlainRefusal(_owner, topic, refusal);
            _closing = _owner.Connection.CloseAsync(1008, refusal.Message);
        }
    }

    private readonly record struct Pending(ValueTask<StreamPosition> Publish, byte[]? Buffer, string Topic, long? Id);
}
