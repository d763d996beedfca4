using System.Collections.Concurrent;
using System.Security.Cryptography;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using NATS.Client.Core;
using NATS.Client.JetStream;
using NATS.Client.KeyValueStore;
using Sockeye.Topics;
using Sockeye.Topics.Backplanes;

namespace Sockeye.Nats;

/// <summary>
/// A topics backplane on NATS JetStream, so several nodes share topics (docs/scale-out.md, "NATS JetStream"): one
/// stream keeps every topic's messages under its own subject, each message carrying its topic's epoch and offset,
/// written with an expected-last-subject-sequence so offsets stay contiguous whoever publishes; the stream republishes
/// what it stored, in its order, to the nodes with subscribers; resume against any node; presence across nodes in KV
/// buckets with node liveness. When NATS is unreachable, local delivery goes on in a local epoch and subscribers are
/// told (<c>reset</c>) when the stream continues; a missed range is fetched from the stream, or reported.
/// </summary>
public sealed partial class NatsBackplane : ITopicBackplane
{
    private const int MaxPublishAttempts = 100;
    private const int MaxCachedTails = 10_000;
    private readonly NatsConnection _nats;
    private readonly NatsJSContext _js;
    private readonly NatsKVContext _kv;
    private readonly NatsBackplaneOptions _options;
    private readonly NatsLayout _layout;
    private readonly ILogger _log;
    private readonly string _node;
    private readonly ConcurrentDictionary<string, NatsTopic> _topics = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Tail> _tails = new(StringComparer.Ordinal);
    private readonly string _epochPrefix = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6));
    private readonly CancellationTokenSource _stop = new();
    private readonly SemaphoreSlim _recovery = new(1, 1);
    private Task _heartbeat = Task.CompletedTask;
    private ITopicSink? _sink;
    private long _generation;
    private volatile bool _up;
    private long _downSinceMs;
    private long _outages;
    private long _localPublishes;
    private readonly DeliveryCounters _delivery = new();
    private long _failedPublishes;
    private long _conflicts;

    private NatsBackplane(NatsConnection nats, NatsBackplaneOptions options, string node)
    {
        _nats = nats;
        _options = options;
        _node = node;
        _layout = new NatsLayout(options.Prefix);
        _log = options.Logger ?? NullLogger.Instance;
        _js = new NatsJSContext(nats);
        _kv = new NatsKVContext(_js);
        nats.ConnectionDisconnected += OnDisconnectedAsync;
        nats.ConnectionOpened += OnOpenedAsync;
    }

    /// <summary>
    /// Connects to NATS, creates (or updates) the stream and buckets, and starts the node's heartbeat. If NATS is not
    /// reachable yet the backplane starts anyway (local delivery) and connects as soon as it can.
    /// </summary>
    public static async Task<NatsBackplane> ConnectAsync(NatsBackplaneOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        string node = options.NodeId ?? Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6));
        var nats = new NatsConnection(new NatsOpts
        {
            Url = options.Url,
            Name = "sockeye-" + node,
            ConnectTimeout = options.CommandTimeout,
            RequestTimeout = options.CommandTimeout,
            CommandTimeout = options.CommandTimeout,
            RetryOnInitialConnect = true,             // start without NATS; connect by itself
            MaxReconnectRetry = -1,
            ReconnectWaitMin = TimeSpan.FromMilliseconds(250),
            ReconnectWaitMax = TimeSpan.FromSeconds(2),
            PingInterval = TimeSpan.FromSeconds(5),   // a silent dead server is noticed within two pings
            SubPendingChannelCapacity = 16_384,       // per topic subscription: memory stays bounded
            SubPendingChannelFullMode = System.Threading.Channels.BoundedChannelFullMode.DropNewest, // a gap, then a sync
        });
        var backplane = new NatsBackplane(nats, options, node);
        Task connect = nats.ConnectAsync().AsTask();
        try
        {
            await connect.WaitAsync(options.CommandTimeout, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            // Goes on connecting in the background; ConnectionOpened recovers.
        }
        catch (NatsException ex)
        {
            backplane._log.LogDebug("nats backplane: first connect failed: {Reason}", ex.Message);
        }

        if (nats.ConnectionState == NatsConnectionState.Open)
        {
            await backplane.RecoverAsync().ConfigureAwait(false);
        }

        if (!backplane._up)
        {
            backplane.CountOutage("not reachable at start");
        }

        backplane._heartbeat = Task.Run(backplane.HeartbeatLoopAsync, CancellationToken.None);
        return backplane;
    }

    /// <summary>This node's id in the presence buckets.</summary>
    public string NodeId => _node;

    /// <summary>True while NATS is reachable and the stream and buckets are in place.</summary>
    public bool IsConnected => _up;

    /// <summary>Counts since the backplane started.</summary>
    public NatsBackplaneCounters Counters => new(
        Interlocked.Read(ref _outages), Interlocked.Read(ref _localPublishes), _delivery.Discontinuities,
        _delivery.Fetched, _delivery.Duplicates, Interlocked.Read(ref _failedPublishes),
        Interlocked.Read(ref _conflicts));

    private ITopicSink Sink => _sink ?? throw new InvalidOperationException("The backplane has no sink; attach it to a TopicHub first.");

    /// <inheritdoc/>
    public void Attach(ITopicSink sink) => _sink = sink ?? throw new ArgumentNullException(nameof(sink));

    /// <inheritdoc/>
    public ValueTask SubscribeAsync(string topic, CancellationToken cancellationToken) => BackplaneTopic.SubscribeAsync(_topics, topic,
        name => new NatsTopic(new TopicSubjects(_layout, name), new OrderedDelivery(name, Sink, _delivery, _log, "nats", _options.MaxPendingPerTopic)),
        ActivateAsync, cancellationToken);

    /// <inheritdoc/>
    public ValueTask UnsubscribeAsync(string topic, CancellationToken cancellationToken) =>
        BackplaneTopic.UnsubscribeAsync(_topics, topic, StopListeningAsync, cancellationToken);

    /// <inheritdoc/>
    public async ValueTask<StreamPosition> PublishAsync(string topic, TopicOptions options, MessageType type, ReadOnlyMemory<byte> payload, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(topic);
        ArgumentNullException.ThrowIfNull(options);
        if (!IsConnected)
        {
            return PublishLocal(topic, type, payload.Span);
        }

        TopicSubjects subjects = SubjectsOf(topic);
        try
        {
            for (int attempt = 0; attempt < MaxPublishAttempts; attempt++)
            {
                Tail? tail = _tails.TryGetValue(topic, out Tail? cached) ? cached : await ReadTailAsync(subjects, cancellationToken).ConfigureAwait(false);
                string epoch = tail?.Epoch ?? NextEpoch();
                long offset = (tail?.Offset ?? 0) + 1;
                (ulong seq, bool conflict) = await AppendAsync(subjects, epoch, offset, tail?.Seq ?? 0, type, payload, cancellationToken).ConfigureAwait(false);
                if (conflict)
                {
                    // Another node appended first (or the topic's messages are gone): read where the topic is now.
                    Interlocked.Increment(ref _conflicts);
                    _tails.TryRemove(topic, out _);
                    continue;
                }

                RememberTail(topic, new Tail(epoch, offset, seq));
                return new StreamPosition(epoch, offset);
            }
        }
        catch (Exception ex) when (IsNatsFailure(ex))
        {
            // It may or may not have been stored: refusing is the only answer that cannot deliver it twice.
            Interlocked.Increment(ref _failedPublishes);
            _tails.TryRemove(topic, out _);
            throw new TopicException("unavailable", $"nats: {ex.Message}");
        }

        Interlocked.Increment(ref _failedPublishes);
        throw new TopicException("unavailable", $"nats: {MaxPublishAttempts} conflicting publishes in a row on '{topic}'");
    }

    /// <inheritdoc/>
    public async ValueTask<HistoryRead> ReadAsync(string topic, StreamPosition? since, TopicOptions options, ICollection<TopicMessage> into, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(into);
        _topics.TryGetValue(topic, out NatsTopic? state);
        if (!IsConnected)
        {
            return ReadLocal(topic, state, since);
        }

        TopicSubjects subjects = state?.Subjects ?? SubjectsOf(topic);
        Range? range = null;
        try
        {
            // Read the missed range only when the topic's history settings allow resuming that far back.
            long from = 0;
            if (since is { Offset: >= 0 } resume && options.KeepsHistory)
            {
                from = resume.Offset + 1;
            }

            range = await ReadRangeAsync(topic, subjects, since?.Epoch ?? "", from, 0, restart: false, cancellationToken).ConfigureAwait(false);
            var current = new StreamPosition(range.Epoch, range.Offset);
            if (since is not { } position)
            {
                return new HistoryRead(current, false);
            }

            bool recovered = string.Equals(position.Epoch, range.Epoch, StringComparison.Ordinal) && position.Offset >= 0 && position.Offset <= range.Offset;
            if (recovered && position.Offset < range.Offset)
            {
                // Everything after `since` must still be kept (within the topic's count and age): the first read
                // entry is the next one and none is missing.
                long missed = range.Offset - position.Offset;
                long cutoff = options.HistoryAge is { } age ? DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() - (long)age.TotalMilliseconds : long.MinValue;
                recovered = options.KeepsHistory
                    && (options.HistorySize == 0 || missed <= options.HistorySize)
                    && range.Messages.Count == missed
                    && range.Messages[0].Message.Position.Offset == position.Offset + 1
                    && range.Messages[0].TimeMs >= cutoff;
            }

            if (recovered)
            {
                foreach (Fetched fetched in range.Messages)
                {
                    into.Add(fetched.Message); // the caller releases them
                }

                range.Messages.Clear();
            }

            return new HistoryRead(current, recovered);
        }
        catch (Exception ex) when (IsNatsFailure(ex))
        {
            MarkDown(ex.Message);
            return ReadLocal(topic, state, since);
        }
        finally
        {
            if (range is not null)
            {
                ReleaseAll(range.Messages);
            }
        }
    }

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        if (_stop.IsCancellationRequested)
        {
            return;
        }

        await _stop.CancelAsync().ConfigureAwait(false);
        try
        {
            await _heartbeat.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }

        if (IsConnected)
        {
            try
            {
                // A clean stop leaves presence at once instead of after the timeout.
                foreach (KeyValuePair<(string Topic, string Connection), Member> member in _members)
                {
                    await RemoveMemberAsync(member.Key.Topic, member.Key.Connection, member.Value.Info.Info, CancellationToken.None).ConfigureAwait(false);
                }

                INatsKVStore nodes = NodesStore;
                await nodes.PurgeAsync(NatsSubjects.Encode(_node)).ConfigureAwait(false);
            }
            catch (Exception ex) when (IsNatsFailure(ex))
            {
                _log.LogDebug("nats backplane: leaving presence at shutdown failed: {Reason}", ex.Message);
            }
        }

        foreach (NatsTopic state in _topics.Values)
        {
            lock (state.Lock)
            {
                state.Delivery.Close();
            }

            await StopListeningAsync(state).ConfigureAwait(false);
        }

        _topics.Clear();
        _nats.ConnectionDisconnected -= OnDisconnectedAsync;
        _nats.ConnectionOpened -= OnOpenedAsync;
        await _nats.DisposeAsync().ConfigureAwait(false);
        _stop.Dispose();
    }

    private string NextEpoch() => $"{_epochPrefix}{Interlocked.Increment(ref _generation):x}";

    private TopicSubjects SubjectsOf(string topic) => _topics.TryGetValue(topic, out NatsTopic? state) ? state.Subjects : new TopicSubjects(_layout, topic);

    private void RememberTail(string topic, Tail tail)
    {
        if (_tails.Count >= MaxCachedTails)
        {
            _tails.Clear(); // a cache: bounded, refilled by the next publish of each topic
        }

        _tails[topic] = tail;
    }

    internal static bool IsNatsFailure(Exception ex) => ex is NatsException or TimeoutException or ObjectDisposedException or FormatException
        or OperationCanceledException { CancellationToken.IsCancellationRequested: false };

    private static void ReleaseAll(List<Fetched> messages)
    {
        foreach (Fetched fetched in messages)
        {
            fetched.Message.Release();
        }

        messages.Clear();
    }
}

/// <summary>Counts of a <see cref="NatsBackplane"/>.</summary>
/// <param name="Outages">Times NATS became unreachable.</param>
/// <param name="LocalPublishes">Messages published while NATS was unreachable, delivered on this node only in a local epoch.</param>
/// <param name="Resets">Discontinuities reported to this node's subscribers (<c>reset</c>).</param>
/// <param name="Fetched">Messages missed on delivery and fetched from the stream instead.</param>
/// <param name="Duplicates">Messages received twice and delivered once.</param>
/// <param name="FailedPublishes">Publishes refused with <c>unavailable</c> because NATS failed while they were in flight.</param>
/// <param name="Conflicts">Publishes retried because another node appended to the topic first.</param>
public readonly record struct NatsBackplaneCounters(long Outages, long LocalPublishes, long Resets, long Fetched, long Duplicates, long FailedPublishes, long Conflicts);
