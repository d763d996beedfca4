using System.Collections.Concurrent;
using System.Security.Cryptography;

namespace Sockeye.Topics;

/// <summary>
/// The single-process backplane: positions, history and presence in memory. Each topic's stream gets its own epoch
/// when it is created (a random per-process prefix and a counter), so a restart, or a topic forgotten because nobody
/// was subscribed and it kept no history, can never be mistaken for the same stream.
/// </summary>
public sealed class InMemoryBackplane : ITopicBackplane
{
    private readonly ConcurrentDictionary<string, TopicState> _topics = new(StringComparer.Ordinal);
    private readonly string _epochPrefix = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4));
    private readonly int _maxTopics;
    private readonly long _maxHistoryBytes;
    private long _historyBytes;
    private long _generation;
    private ITopicSink? _sink;

    /// <summary>
    /// Creates the backplane. At most <paramref name="maxTopics"/> topics exist at once (publishing to more is
    /// refused with <c>unavailable</c>), and the history of all topics together holds at most
    /// <paramref name="maxHistoryBytes"/> of payload: past it, a topic that publishes gives up its own oldest messages
    /// first (a resume from before them is then answered "not recovered"), so no client can make history grow without
    /// bound by spreading messages over many topics.
    /// </summary>
    public InMemoryBackplane(int maxTopics = 100_000, long maxHistoryBytes = 256L * 1024 * 1024)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxTopics, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxHistoryBytes, 0);
        _maxTopics = maxTopics;
        _maxHistoryBytes = maxHistoryBytes;
    }

    /// <summary>Payload bytes held in history across all topics.</summary>
    public long HistoryBytes => Interlocked.Read(ref _historyBytes);

    /// <summary>Topics currently held (for tests and metrics).</summary>
    public int TopicCount => _topics.Count;

    /// <inheritdoc/>
    public void Attach(ITopicSink sink) => _sink = sink ?? throw new ArgumentNullException(nameof(sink));

    private ITopicSink Sink => _sink ?? throw new InvalidOperationException("The backplane has no sink; attach it to a TopicHub first.");

    /// <inheritdoc/>
    public ValueTask SubscribeAsync(string topic, CancellationToken cancellationToken)
    {
        while (true)
        {
            TopicState state = GetOrCreate(topic);
            lock (state.Lock)
            {
                if (state.Removed)
                {
                    continue;
                }

                state.Interest++;
                return ValueTask.CompletedTask;
            }
        }
    }

    /// <inheritdoc/>
    public ValueTask UnsubscribeAsync(string topic, CancellationToken cancellationToken)
    {
        if (_topics.TryGetValue(topic, out TopicState? state))
        {
            lock (state.Lock)
            {
                state.Interest = Math.Max(0, state.Interest - 1);
                EvictIfUnused(topic, state);
            }
        }

        return ValueTask.CompletedTask;
    }

    /// <summary>True: a publish is applied (offset assigned, payload copied, delivered) before the call returns.</summary>
    public bool PreservesPublishOrder => true;

    /// <inheritdoc/>
    public ValueTask<StreamPosition> PublishAsync(string topic, TopicOptions options, MessageType type, ReadOnlyMemory<byte> payload, CancellationToken cancellationToken)
    {
        while (true)
        {
            TopicState state = GetOrCreate(topic);
            lock (state.Lock)
            {
                if (state.Removed)
                {
                    continue;
                }

                var position = new StreamPosition(state.Epoch, ++state.Last);
                TopicMessage message = TopicMessage.Create(topic, position, type, payload.Span);
                // Delivered under the topic's lock: concurrent publishers are ordered by offset for every subscriber.
                if (state.Interest > 0)
                {
                    Sink.OnMessage(message);
                }

                if (options.KeepsHistory)
                {
                    state.History.Enqueue(message); // the history keeps the creation reference
                    Interlocked.Add(ref _historyBytes, message.Payload.Length);
                    Trim(state, options);
                    // Over the global budget: this topic pays with its own oldest messages, down to none.
                    while (Interlocked.Read(ref _historyBytes) > _maxHistoryBytes && state.History.TryDequeue(out TopicMessage? old))
                    {
                        Forget(old);
                    }

                    EvictIfUnused(topic, state);
                }
                else
                {
                    message.Release();
                    EvictIfUnused(topic, state);
                }

                return new ValueTask<StreamPosition>(position);
            }
        }
    }

    /// <inheritdoc/>
    public ValueTask<HistoryRead> ReadAsync(string topic, StreamPosition? since, TopicOptions options, ICollection<TopicMessage> into, CancellationToken cancellationToken)
    {
        while (true)
        {
            TopicState state = GetOrCreate(topic);
            lock (state.Lock)
            {
                if (state.Removed)
                {
                    continue;
                }

                Trim(state, options);
                var current = new StreamPosition(state.Epoch, state.Last);
                bool recovered = since is { } from && CanResume(state, from);
                if (recovered)
                {
                    foreach (TopicMessage message in state.History)
                    {
                        if (message.Position.Offset > since!.Value.Offset)
                        {
                            message.Retain();
                            into.Add(message);
                        }
                    }
                }

                EvictIfUnused(topic, state);
                return new ValueTask<HistoryRead>(new HistoryRead(current, recovered));
            }
        }
    }

    // Resumable when it is this stream and nothing after `from` has left the history (docs/protocol.md §5 subscribed).
    private static bool CanResume(TopicState state, StreamPosition from)
    {
        if (!string.Equals(from.Epoch, state.Epoch, StringComparison.Ordinal) || from.Offset < 0 || from.Offset > state.Last)
        {
            return false;
        }

        long oldestKept = state.History.TryPeek(out TopicMessage? oldest) ? oldest.Position.Offset : state.Last + 1;
        return from.Offset + 1 >= oldestKept;
    }

    /// <inheritdoc/>
    public ValueTask JoinAsync(string topic, PresenceMember member, CancellationToken cancellationToken)
    {
        while (true)
        {
            TopicState state = GetOrCreate(topic);
            lock (state.Lock)
            {
                if (state.Removed)
                {
                    continue;
                }

                state.Members[member.Connection] = member;
                Sink.OnPresence(topic, member, joined: true);
                return ValueTask.CompletedTask;
            }
        }
    }

    /// <inheritdoc/>
    public ValueTask LeaveAsync(string topic, PresenceMember member, CancellationToken cancellationToken)
    {
        if (_topics.TryGetValue(topic, out TopicState? state))
        {
            lock (state.Lock)
            {
                if (state.Members.Remove(member.Connection))
                {
                    Sink.OnPresence(topic, member, joined: false);
                }

                EvictIfUnused(topic, state);
            }
        }

        return ValueTask.CompletedTask;
    }

    /// <inheritdoc/>
    public ValueTask<IReadOnlyList<PresenceMember>> GetPresenceAsync(string topic, CancellationToken cancellationToken)
    {
        if (_topics.TryGetValue(topic, out TopicState? state))
        {
            lock (state.Lock)
            {
                return new ValueTask<IReadOnlyList<PresenceMember>>(state.Members.Values.ToArray());
            }
        }

        return new ValueTask<IReadOnlyList<PresenceMember>>(Array.Empty<PresenceMember>());
    }

    /// <inheritdoc/>
    public ValueTask DisposeAsync()
    {
        foreach (KeyValuePair<string, TopicState> pair in _topics)
        {
            lock (pair.Value.Lock)
            {
                pair.Value.Removed = true;
                while (pair.Value.History.TryDequeue(out TopicMessage? message))
                {
                    Forget(message);
                }
            }
        }

        _topics.Clear();
        return ValueTask.CompletedTask;
    }

    private TopicState GetOrCreate(string topic)
    {
        if (_topics.TryGetValue(topic, out TopicState? state))
        {
            return state;
        }

        if (_topics.Count >= _maxTopics)
        {
            throw new TopicException("unavailable", $"too many topics (the limit is {_maxTopics})");
        }

        return _topics.GetOrAdd(topic, static (_, self) =>
            new TopicState($"{self._epochPrefix}-{Interlocked.Increment(ref self._generation)}"), this);
    }

    private void Forget(TopicMessage message)
    {
        Interlocked.Add(ref _historyBytes, -message.Payload.Length);
        message.Release();
    }

    private void Trim(TopicState state, TopicOptions options)
    {
        if (options.HistorySize > 0)
        {
            while (state.History.Count > options.HistorySize && state.History.TryDequeue(out TopicMessage? old))
            {
                Forget(old);
            }
        }
        else if (options.HistoryAge is null)
        {
            while (state.History.TryDequeue(out TopicMessage? old))
            {
                Forget(old);
            }
        }

        if (options.HistoryAge is { } age)
        {
            long cutoff = Environment.TickCount64 - (long)age.TotalMilliseconds;
            while (state.History.TryPeek(out TopicMessage? old) && old.PublishedAtMs < cutoff)
            {
                state.History.Dequeue();
                Forget(old);
            }
        }
    }

    // Under state.Lock. A topic that nobody listens to and that keeps nothing is forgotten (its epoch with it).
    private void EvictIfUnused(string topic, TopicState state)
    {
        if (state.Interest == 0 && state.History.Count == 0 && state.Members.Count == 0 && !state.Removed)
        {
            state.Removed = true;
            _topics.TryRemove(new KeyValuePair<string, TopicState>(topic, state));
        }
    }

    private sealed class TopicState(string epoch)
    {
        public readonly Lock Lock = new();
        public readonly string Epoch = epoch;
        public readonly Queue<TopicMessage> History = new();
        public readonly Dictionary<string, PresenceMember> Members = new(StringComparer.Ordinal);
        public long Last;
        public int Interest;
        public bool Removed;
    }
}
