using System.Collections.Concurrent;
using System.Security.Cryptography;
using Microsoft.Extensions.Logging;
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
public sealed partial class NatsBackplane : ScaleOutBackplane
{
    private const int MaxPublishAttempts = 100;
    private const int MaxCachedTails = 10_000;
    private readonly NatsConnection _nats;
    private readonly NatsJSContext _js;
    private readonly NatsKVContext _kv;
    private readonly NatsBackplaneOptions _options;
    private readonly NatsLayout _layout;
    private readonly ConcurrentDictionary<string, Tail> _tails = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _recovery = new(1, 1);
    private volatile bool _up;
    private long _conflicts;

    private NatsBackplane(NatsConnection nats, NatsBackplaneOptions options, string node)
        : base("nats", node, options.Logger, options.MaxPendingPerTopic)
    {
        _nats = nats;
        _options = options;
        _layout = new NatsLayout(options.Prefix);
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
            backplane.Log.LogDebug("nats backplane: first connect failed: {Reason}", ex.Message);
        }

        if (nats.ConnectionState == NatsConnectionState.Open)
        {
            await backplane.RecoverAsync().ConfigureAwait(false);
        }

        if (!backplane._up)
        {
            backplane.CountOutage("not reachable at start");
        }

        backplane.StartHeartbeat(options.PresenceHeartbeat);
        return backplane;
    }

    /// <summary>True while NATS is reachable and the stream and buckets are in place.</summary>
    public override bool IsConnected => _up;

    /// <summary>Counts since the backplane started.</summary>
    public NatsBackplaneCounters Counters => new(
        Outages, LocalPublishes, Delivery.Discontinuities, Delivery.Fetched, Delivery.Duplicates, FailedPublishes,
        Interlocked.Read(ref _conflicts));

    /// <inheritdoc/>
    protected override BackplaneTopic CreateTopic(OrderedDelivery delivery) => new NatsTopic(new TopicSubjects(_layout, delivery.Topic), delivery);

    /// <inheritdoc/>
    public override async ValueTask<StreamPosition> PublishAsync(string topic, TopicOptions options, MessageType type, ReadOnlyMemory<byte> payload, CancellationToken cancellationToken)
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
            CountFailedPublish();
            _tails.TryRemove(topic, out _);
            throw new TopicException("unavailable", $"nats: {ex.Message}");
        }

        CountFailedPublish();
        throw new TopicException("unavailable", $"nats: {MaxPublishAttempts} conflicting publishes in a row on '{topic}'");
    }

    /// <inheritdoc/>
    public override async ValueTask<HistoryRead> ReadAsync(string topic, StreamPosition? since, TopicOptions options, ICollection<TopicMessage> into, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(into);
        if (!IsConnected)
        {
            return ReadLocal(topic, since);
        }

        TopicSubjects subjects = SubjectsOf(topic);
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
            return ReadLocal(topic, since);
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
    protected override async ValueTask DisposeStoreAsync(IReadOnlyList<BackplaneTopic> topics)
    {
        foreach (BackplaneTopic state in topics)
        {
            await StopListeningAsync(state).ConfigureAwait(false);
        }

        _nats.ConnectionDisconnected -= OnDisconnectedAsync;
        _nats.ConnectionOpened -= OnOpenedAsync;
        await _nats.DisposeAsync().ConfigureAwait(false);
    }

    /// <inheritdoc/>
    protected override bool IsStoreFailure(Exception exception) => IsNatsFailure(exception);

    private TopicSubjects SubjectsOf(string topic) => Topics.TryGetValue(topic, out BackplaneTopic? state) ? ((NatsTopic)state).Subjects : new TopicSubjects(_layout, topic);

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
