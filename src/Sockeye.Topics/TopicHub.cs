using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Sockeye.Topics;

/// <summary>
/// Publish/subscribe over WebSocket connections: subscribe connections to named topics, publish from anywhere, and
/// every subscriber gets each message once, in order, framed once for all of them (docs/topics.md). Use
/// <see cref="HandleAsync"/> as an endpoint's handler (or <see cref="TopicServerExtensions.MapTopics"/>) for the
/// <c>sockeye.v1</c> protocol and plain clients, or call <see cref="SubscribeAsync"/> from your own handler.
/// </summary>
public sealed partial class TopicHub : ITopicSink, IAsyncDisposable
{
    /// <summary>The subprotocol of the topics wire protocol (docs/protocol.md).</summary>
    public const string Subprotocol = "sockeye.v1";

    private readonly ConcurrentDictionary<string, LocalTopic> _topics = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<WebSocketConnection, Subscriber> _subscribers = new();
    private const long DropLogIntervalMs = 10_000;
    private readonly ILogger _log;
    private readonly string _node;
    private long _published;
    private long _delivered;
    private long _dropped;
    private long _slowClosed;
    private readonly System.Diagnostics.Metrics.Meter _meter;
    // So the first drop is logged at once (long.MinValue would overflow `now - last` and silence it for good).
    private long _lastDropLogMs = -DropLogIntervalMs;
    private long _droppedSinceLog;

    /// <summary>Creates a hub; with no backplane in <paramref name="options"/> it uses a new <see cref="InMemoryBackplane"/>.</summary>
    public TopicHub(TopicHubOptions? options = null)
    {
        Options = options ?? new TopicHubOptions();
        Options.Topics.Validate();
        ArgumentOutOfRangeException.ThrowIfLessThan(Options.MaxSubscriptionsPerConnection, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(Options.MaxPublishesInFlight, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(Options.MaxPublishesInFlight, 1024);
        Backplane = Options.Backplane ?? new InMemoryBackplane();
        Backplane.Attach(this);
        _log = Options.Logger ?? NullLogger.Instance;
        _node = Options.NodeName ?? Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(3));
        _meter = TopicHubMetrics.Create(this);
    }

    /// <summary>The hub's settings.</summary>
    public TopicHubOptions Options { get; }

    /// <summary>Where the hub's streams live.</summary>
    public ITopicBackplane Backplane { get; }

    /// <summary>This hub's meter (<see cref="TopicHubMetrics"/>), for tests that must not see other hubs' counts.</summary>
    internal System.Diagnostics.Metrics.Meter Meter => _meter;

    /// <summary>Counts since the hub started.</summary>
    public TopicHubCounters Counters => new(
        Interlocked.Read(ref _published), Interlocked.Read(ref _delivered), Interlocked.Read(ref _dropped), Interlocked.Read(ref _slowClosed));

    /// <summary>Connections with at least one subscription on this hub, for metrics.</summary>
    internal ICollection<Subscriber> Subscribers => _subscribers.Values;

    /// <summary>Subscribers of <paramref name="topic"/> on this node.</summary>
    public int SubscriberCount(string topic) => _topics.TryGetValue(topic, out LocalTopic? local) ? local.Subscriptions.Length : 0;

    /// <summary>
    /// Publishes to <paramref name="topic"/> and returns the message's position. The payload is copied; text must be
    /// valid UTF-8. Under <see cref="SlowSubscriberPolicy.Wait"/> this waits for room in this node's subscribers.
    /// </summary>
    public ValueTask<StreamPosition> PublishAsync(string topic, MessageType type, ReadOnlyMemory<byte> payload, CancellationToken cancellationToken = default) =>
        PublishCoreAsync(null, topic, type, payload, cancellationToken);

    /// <summary>Publishes a text message to <paramref name="topic"/>.</summary>
    public ValueTask<StreamPosition> PublishTextAsync(string topic, string text, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(text);
        return PublishCoreAsync(null, topic, MessageType.Text, Encoding.UTF8.GetBytes(text), cancellationToken);
    }

    /// <summary>
    /// Subscribes <paramref name="connection"/> to <paramref name="topic"/> until it unsubscribes or closes. With
    /// <paramref name="since"/>, the messages after it are delivered first when the topic's history still has them
    /// (<see cref="HistoryRead.Recovered"/>). A <c>sockeye.v1</c> connection gets protocol envelopes, any other the
    /// payloads alone. Throws <see cref="TopicException"/> when refused.
    /// </summary>
    public ValueTask<HistoryRead> SubscribeAsync(WebSocketConnection connection, string topic, StreamPosition? since = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(connection);
        return SubscribeCoreAsync(Attach(connection), topic, since, null, null, cancellationToken);
    }

    /// <summary>Ends <paramref name="connection"/>'s subscription to <paramref name="topic"/>; false if it had none.</summary>
    public ValueTask<bool> UnsubscribeAsync(WebSocketConnection connection, string topic, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(connection);
        return _subscribers.TryGetValue(connection, out Subscriber? owner)
            ? UnsubscribeCoreAsync(owner, topic, null, null, notify: true, cancellationToken)
            : ValueTask.FromResult(false);
    }

    /// <summary>The members of a topic with presence on.</summary>
    public ValueTask<IReadOnlyList<PresenceMember>> GetPresenceAsync(string topic, CancellationToken cancellationToken = default) =>
        Backplane.GetPresenceAsync(topic, cancellationToken);

    /// <summary>
    /// An endpoint handler: <c>sockeye.v1</c> clients speak the protocol; plain clients are subscribed to the topic
    /// named by their path (or <see cref="TopicHubOptions.PlainClientTopic"/>) and every message they send is
    /// published there. Map it with <see cref="TopicServerExtensions.MapTopics"/> so the subprotocol is offered.
    /// </summary>
    public Task HandleAsync(WebSocketConnection connection)
    {
        ArgumentNullException.ThrowIfNull(connection);
        return string.Equals(connection.Subprotocol, Subprotocol, StringComparison.Ordinal)
            ? new V1Session(this, Attach(connection)).RunAsync()
            : RunPlainAsync(connection);
    }

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        _meter.Dispose();
        foreach (Subscriber owner in _subscribers.Values)
        {
            await DetachAsync(owner).ConfigureAwait(false);
        }

        if (Options.Backplane is null)
        {
            await Backplane.DisposeAsync().ConfigureAwait(false);
        }
    }

    internal TopicOptions OptionsFor(string topic) => Options.TopicOptionsFor?.Invoke(topic) ?? Options.Topics;

    internal Subscriber Attach(WebSocketConnection connection)
    {
        if (_subscribers.TryGetValue(connection, out Subscriber? existing))
        {
            return existing;
        }

        TopicFormat format = string.Equals(connection.Subprotocol, Subprotocol, StringComparison.Ordinal) ? TopicFormat.V1 : TopicFormat.Raw;
        var created = new Subscriber(this, connection, format, $"{_node}.{connection.Id}");
        Subscriber owner = _subscribers.GetOrAdd(connection, created);
        if (ReferenceEquals(owner, created))
        {
            owner.Start();
            // Subscriptions end with the connection, whoever subscribed it.
            _ = connection.Completion.ContinueWith(static (_, state) =>
            {
                var (hub, subscriber) = ((TopicHub, Subscriber))state!;
                return hub.DetachAsync(subscriber).AsTask();
            }, (this, owner), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default).Unwrap();
        }

        return owner;
    }

    internal async ValueTask DetachAsync(Subscriber owner)
    {
        owner.Close();
        if (!_subscribers.TryRemove(new KeyValuePair<WebSocketConnection, Subscriber>(owner.Connection, owner)))
        {
            return; // already detached
        }

        string[] topics;
        lock (owner.SubscriptionsLock)
        {
            topics = [.. owner.Subscriptions.Keys];
        }

        foreach (string topic in topics)
        {
            try
            {
                await UnsubscribeCoreAsync(owner, topic, null, null, notify: false, CancellationToken.None).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is TopicException or OperationCanceledException or IOException or InvalidOperationException)
            {
                _log.LogWarning("topics: unsubscribing {Connection} from '{Topic}' failed: {Reason}", owner.Connection, topic, ex.Message);
            }
        }
    }

    internal void LogRefusal(Subscriber owner, string? topic, TopicException ex) =>
        _log.LogInformation("topics: {Connection} refused on '{Topic}': {Code} {Reason}", owner.Connection, topic, ex.Code, ex.Message);

    internal void LogPlainRefusal(Subscriber owner, string topic, TopicException ex) =>
        _log.LogInformation("topics: publish by {Connection} to '{Topic}' refused: {Reason}", owner.Connection, topic, ex.Message);

    internal void CountDelivered(int count) => Interlocked.Add(ref _delivered, count);

    internal void CountDropped(Subscriber subscriber, long count)
    {
        if (count == 0)
        {
            return;
        }

        Interlocked.Add(ref _dropped, count);
        long pending = Interlocked.Add(ref _droppedSinceLog, count);
        long now = Environment.TickCount64;
        long last = Interlocked.Read(ref _lastDropLogMs);
        // One line per 10 s at most: a flood of drops must not become a flood of log lines.
        if (now - last >= DropLogIntervalMs && Interlocked.CompareExchange(ref _lastDropLogMs, now, last) == last)
        {
            Interlocked.Add(ref _droppedSinceLog, -pending);
            _log.LogWarning("topics: dropped {Count} messages for slow subscribers (latest {Connection}); policy drop-oldest", pending, subscriber.Connection);
        }
    }

    // Called under the subscriber's lock (and maybe a topic's): only schedule the close.
    internal void OnSlowSubscriber(Subscriber subscriber, string detail)
    {
        Interlocked.Increment(ref _slowClosed);
        _log.LogWarning("topics: closing {Connection} with 1008, subscriber too slow: {Detail}", subscriber.Connection, detail);
        _ = Task.Run(() => CloseSlowAsync(subscriber));
    }

    internal void OnPumpFailed(Subscriber subscriber, Exception ex)
    {
        _log.LogError(ex, "topics: sending to {Connection} failed", subscriber.Connection);
        subscriber.Connection.Abort("topic delivery failed");
    }

    private async Task CloseSlowAsync(Subscriber subscriber)
    {
        // The close frame queues behind what the pump is already sending; a peer that reads nothing at all will never
        // get to it, so after the close timeout the connection is cut (the log line above says why).
        WebSocketConnection connection = subscriber.Connection;
        Task close = connection.CloseAsync(1008, "subscriber too slow");
        if (await Task.WhenAny(close, Task.Delay(connection.Options.CloseTimeout)).ConfigureAwait(false) != close)
        {
            connection.Abort("subscriber too slow");
        }

        _ = close.ContinueWith(static t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
        await DetachAsync(subscriber).ConfigureAwait(false);
    }

    private async Task RunPlainAsync(WebSocketConnection connection)
    {
        string? topic = Options.PlainClientTopic is { } choose ? choose(connection) : connection.Request.Path;
        if (topic is null)
        {
            await connection.CloseAsync(1008, "this endpoint needs the sockeye.v1 subprotocol").ConfigureAwait(false);
            return;
        }

        Subscriber owner = Attach(connection);
        try
        {
            try
            {
                await SubscribeCoreAsync(owner, topic, null, null, null, CancellationToken.None).ConfigureAwait(false);
            }
            catch (TopicException ex)
            {
                _log.LogInformation("topics: {Connection} refused on '{Topic}': {Reason}", connection, topic, ex.Message);
                await connection.CloseAsync(1008, ex.Message).ConfigureAwait(false);
                return;
            }

            // Publishes go to the backplane in order without awaiting each (PublishPipeline); a refused one closes
            // the connection with 1008 and nothing received after it is published.
            var pipeline = new PublishPipeline(this, owner);
            try
            {
                while (!pipeline.Refused)
                {
                    WebSocketMessage message = await connection.ReceiveAsync().ConfigureAwait(false);
                    if (message.IsClose || pipeline.Refused)
                    {
                        return;
                    }

                    byte[]? rented = null;
                    try
                    {
                        ReadOnlyMemory<byte> payload = message.Payload.IsSingleSegment ? message.Payload.First : Contiguous(message.Payload, out rented);
                        await pipeline.PublishAsync(topic, message.Type, payload, null).ConfigureAwait(false);
                    }
                    finally
                    {
                        if (rented is not null)
                        {
                            System.Buffers.ArrayPool<byte>.Shared.Return(rented);
                        }
                    }
                }
            }
            finally
            {
                await pipeline.CompleteAsync().ConfigureAwait(false);
            }
        }
        finally
        {
            await DetachAsync(owner).ConfigureAwait(false);
        }
    }

    internal static ReadOnlyMemory<byte> Contiguous(System.Buffers.ReadOnlySequence<byte> payload, out byte[] rented)
    {
        rented = System.Buffers.ArrayPool<byte>.Shared.Rent((int)payload.Length);
        System.Buffers.BuffersExtensions.CopyTo(payload, rented);
        return rented.AsMemory(0, (int)payload.Length);
    }

}

/// <summary>Counts of a <see cref="TopicHub"/>.</summary>
/// <param name="Published">Messages published through this hub.</param>
/// <param name="Delivered">Frames sent to subscribers (messages and protocol frames).</param>
/// <param name="Dropped">Messages dropped for slow subscribers (<see cref="SlowSubscriberPolicy.DropOldest"/>).</param>
/// <param name="SlowSubscribersClosed">Subscribers closed with 1008 for being too slow.</param>
public readonly record struct TopicHubCounters(long Published, long Delivered, long Dropped, long SlowSubscribersClosed);
