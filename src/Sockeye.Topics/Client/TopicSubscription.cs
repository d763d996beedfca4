using System.Buffers;
using System.Runtime.CompilerServices;
using System.Threading.Channels;

namespace Sockeye.Topics;

/// <summary>
/// A <see cref="TopicClient"/>'s subscription to one topic. It lives across reconnects: after each one it is resumed
/// from the last position received, and messages arrive exactly once, in order, within an epoch.
/// </summary>
public sealed class TopicSubscription : IAsyncDisposable
{
    private readonly TopicClient _client;
    private readonly Lock _positionLock = new();
    private readonly Channel<Entry>? _channel;
    private readonly TaskCompletionSource _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private string? _epoch;
    private byte[] _epochUtf8 = [];
    private long _offset;

    internal TopicSubscription(TopicClient client, string topic, TopicMessageHandler? handler, TopicSubscribeOptions options)
    {
        _client = client;
        Topic = topic;
        Handler = handler;
        Options = options;
        if (options.Since is { } since)
        {
            SetPosition(since.Epoch, since.Offset);
        }

        if (handler is null)
        {
            _channel = Channel.CreateBounded<Entry>(new BoundedChannelOptions(options.Capacity)
            {
                FullMode = BoundedChannelFullMode.Wait,
                SingleReader = false,
                SingleWriter = false,
            });
        }
    }

    /// <summary>The topic.</summary>
    public string Topic { get; }

    /// <summary>
    /// The position of the last message delivered (or, before any, the topic's position when it was subscribed or
    /// reset); null before the first answer. This is what a resubscription resumes from.
    /// </summary>
    public StreamPosition? Position
    {
        get
        {
            lock (_positionLock)
            {
                return _epoch is null ? null : new StreamPosition(_epoch, _offset);
            }
        }
    }

    /// <summary>
    /// Completes when the subscription ends: successfully after <see cref="UnsubscribeAsync"/> or when the client is
    /// disposed; with a <see cref="TopicException"/> when the server ended it or refused to resume it.
    /// </summary>
    public Task Completion => _completion.Task;

    internal TopicMessageHandler? Handler { get; }

    internal TopicSubscribeOptions Options { get; }

    internal TaskCompletionSource Ready { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>The id of the latest <c>sub</c> request: only its answer counts (earlier ones belong to lost connections).</summary>
    internal long RequestId { get; set; }

    internal bool Active { get; set; } = true;

    /// <summary>
    /// The messages of a subscription made without a handler, in order, until it ends (then the enumeration ends, or
    /// throws the <see cref="TopicException"/> that ended it). <see cref="TopicSubscribeOptions.OnReset"/> and
    /// <see cref="TopicSubscribeOptions.OnGap"/> are called here, in order with the messages. A message's payload is
    /// valid until the next one is asked for. One reader at a time.
    /// </summary>
    public async IAsyncEnumerable<TopicClientMessage> ReadAllAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        if (_channel is null)
        {
            throw new InvalidOperationException("This subscription delivers to its handler; subscribe without a handler to read its messages.");
        }

        byte[]? previous = null;
        try
        {
            while (await _channel.Reader.WaitToReadAsync(cancellationToken).ConfigureAwait(false))
            {
                while (_channel.Reader.TryRead(out Entry entry))
                {
                    if (previous is not null)
                    {
                        ArrayPool<byte>.Shared.Return(previous);
                        previous = null;
                    }

                    switch (entry.Kind)
                    {
                        case EntryKind.Reset:
                            Options.OnReset?.Invoke(entry.Position);
                            break;
                        case EntryKind.Gap:
                            Options.OnGap?.Invoke(entry.From, entry.To);
                            break;
                        default:
                            previous = entry.Rented;
                            yield return new TopicClientMessage(Topic, entry.Position, entry.Type, entry.Rented!.AsMemory(0, entry.Length));
                            break;
                    }
                }
            }
        }
        finally
        {
            if (previous is not null)
            {
                ArrayPool<byte>.Shared.Return(previous);
            }
        }
    }

    /// <summary>Ends the subscription (no more messages, no resubscription on reconnect).</summary>
    public ValueTask UnsubscribeAsync(CancellationToken cancellationToken = default) => _client.UnsubscribeAsync(this, cancellationToken);

    /// <inheritdoc/>
    public ValueTask DisposeAsync() => UnsubscribeAsync();

    internal void SetPosition(string epoch, long offset)
    {
        lock (_positionLock)
        {
            if (!string.Equals(_epoch, epoch, StringComparison.Ordinal))
            {
                _epoch = epoch;
                _epochUtf8 = System.Text.Encoding.UTF8.GetBytes(epoch);
            }

            _offset = offset;
        }
    }

    /// <summary>
    /// Moves to a received message's position; false when it was already delivered (same epoch, offset not past
    /// the last one), so each offset is delivered once. Allocates only when the epoch changes.
    /// </summary>
    internal bool TryAdvance(ReadOnlySpan<byte> epoch, long offset, out StreamPosition position)
    {
        lock (_positionLock)
        {
            if (_epoch is not null && epoch.SequenceEqual(_epochUtf8))
            {
                if (offset <= _offset)
                {
                    position = default;
                    return false;
                }
            }
            else
            {
                _epoch = System.Text.Encoding.UTF8.GetString(epoch);
                _epochUtf8 = epoch.ToArray();
            }

            _offset = offset;
            position = new StreamPosition(_epoch, offset);
            return true;
        }
    }

    /// <summary>Queues a copy for <see cref="ReadAllAsync"/>; waits (holding the receive loop) while the queue is full.</summary>
    internal ValueTask EnqueueAsync(in TopicClientMessage message)
    {
        byte[] rented = ArrayPool<byte>.Shared.Rent(Math.Max(1, message.Payload.Length));
        message.Payload.Span.CopyTo(rented);
        return Write(new Entry(EntryKind.Message, rented, message.Payload.Length, message.Type, message.Position, 0, 0));
    }

    internal ValueTask Reset(StreamPosition position)
    {
        if (_channel is null)
        {
            if (Options.OnReset is { } onReset)
            {
                _client.Invoke(onReset, position);
            }

            return default;
        }

        return Write(new Entry(EntryKind.Reset, null, 0, default, position, 0, 0));
    }

    internal ValueTask Gap(long from, long to)
    {
        if (_channel is null)
        {
            if (Options.OnGap is { } onGap)
            {
                _client.Invoke(range => onGap(range.From, range.To), (From: from, To: to));
            }

            return default;
        }

        return Write(new Entry(EntryKind.Gap, null, 0, default, default, from, to));
    }

    /// <summary>Ends the subscription locally: the reader sees what was queued, then the end (or the error).</summary>
    internal void End(Exception? error)
    {
        Active = false;
        Ready.TrySetException(error ?? new TopicException("closed", $"the subscription to '{Topic}' ended"));
        _channel?.Writer.TryComplete(error);
        if (error is null)
        {
            _completion.TrySetResult();
        }
        else
        {
            _completion.TrySetException(error);
        }
    }

    private ValueTask Write(Entry entry)
    {
        if (_channel!.Writer.TryWrite(entry))
        {
            return default;
        }

        return WriteSlowAsync(entry);
    }

    private async ValueTask WriteSlowAsync(Entry entry)
    {
        try
        {
            await _channel!.Writer.WriteAsync(entry).ConfigureAwait(false);
        }
        catch (ChannelClosedException)
        {
            // Unsubscribed while waiting for room: the message is no longer wanted.
            if (entry.Rented is not null)
            {
                ArrayPool<byte>.Shared.Return(entry.Rented);
            }
        }
    }

    private enum EntryKind
    {
        Message,
        Reset,
        Gap,
    }

    private readonly record struct Entry(EntryKind Kind, byte[]? Rented, int Length, MessageType Type, StreamPosition Position, long From, long To);
}
