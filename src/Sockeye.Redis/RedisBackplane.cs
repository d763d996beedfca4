using System.Security.Cryptography;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Sockeye.Topics;
using Sockeye.Topics.Backplanes;
using StackExchange.Redis;
using StreamPosition = Sockeye.Topics.StreamPosition;

namespace Sockeye.Redis;

/// <summary>
/// A topics backplane on Redis, so several nodes share topics (docs/scale-out.md): positions and history in a Redis
/// Stream per topic, assigned and published by one Lua script per message (so every node sees the same order),
/// delivery over pub/sub to the nodes with subscribers, resume against any node, presence across nodes with node
/// liveness. When Redis is unreachable, local delivery goes on in a local epoch and subscribers are told
/// (<c>reset</c>) when the stream continues elsewhere; a missed range is fetched from the stream, or reported.
/// </summary>
public sealed partial class RedisBackplane : ScaleOutBackplane
{
    private readonly ConnectionMultiplexer _redis;
    private readonly IDatabase _db;
    private readonly ISubscriber _subscriber;
    private readonly RedisBackplaneOptions _options;
    private readonly string _prefix;
    private readonly RedisKey _nodes;
    private readonly RedisValue _expiryMs;
    private string _candidateEpoch;
    private readonly Lock _link = new();
    private volatile bool _up;

    private RedisBackplane(ConnectionMultiplexer redis, RedisBackplaneOptions options, string node)
        : base("redis", node, options.Logger, options.MaxPendingPerTopic)
    {
        _redis = redis;
        _options = options;
        _prefix = options.KeyPrefix;
        _nodes = RedisKeys.Nodes(_prefix);
        _expiryMs = (long)options.TopicExpiry.TotalMilliseconds;
        _db = redis.GetDatabase();
        _subscriber = redis.GetSubscriber();
        _candidateEpoch = NextEpoch();
        _up = redis.IsConnected && _subscriber.IsConnected();
        redis.ConnectionFailed += OnConnectionFailed;
        redis.ConnectionRestored += OnConnectionRestored;
    }

    /// <summary>
    /// Connects to Redis and starts the node's heartbeat. If Redis is not reachable yet the backplane starts
    /// anyway (local delivery) and connects as soon as it can.
    /// </summary>
    public static async Task<RedisBackplane> ConnectAsync(RedisBackplaneOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        string node = options.NodeId ?? Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6));
        ConfigurationOptions config = ConfigurationOptions.Parse(options.Configuration);
        int timeout = (int)Math.Min(int.MaxValue, options.CommandTimeout.TotalMilliseconds);
        config.AbortOnConnectFail = false;              // start without Redis; reconnect by itself
        config.BacklogPolicy = BacklogPolicy.FailFast;  // no queue of commands while down: memory stays bounded
        config.ReconnectRetryPolicy = new ExponentialRetry(250, 5000);
        config.ConnectTimeout = timeout;
        config.ConnectRetry = 1;                        // a Redis that is down at start must not delay the node
        config.AsyncTimeout = timeout;
        config.SyncTimeout = timeout;
        config.ClientName ??= "sockeye-" + node;
        ConnectionMultiplexer redis = await ConnectionMultiplexer.ConnectAsync(config).WaitAsync(cancellationToken).ConfigureAwait(false);
        var backplane = new RedisBackplane(redis, options, node);
        if (!redis.IsConnected)
        {
            backplane.CountOutage("not reachable at start");
        }
        else
        {
            try
            {
                await backplane.HeartbeatAsync(rejoin: false).ConfigureAwait(false);
            }
            catch (Exception ex) when (IsRedisFailure(ex))
            {
                backplane.Log.LogWarning("redis backplane: first heartbeat failed: {Reason}", ex.Message);
            }
        }

        backplane.StartHeartbeat(options.PresenceHeartbeat);
        return backplane;
    }

    /// <summary>True while Redis is reachable (both the command and the pub/sub connection).</summary>
    public override bool IsConnected => _up;

    /// <summary>Counts since the backplane started.</summary>
    public RedisBackplaneCounters Counters => new(
        Outages, LocalPublishes, Delivery.Discontinuities, Delivery.Fetched, Delivery.Duplicates, FailedPublishes);

    /// <inheritdoc/>
    protected override BackplaneTopic CreateTopic(OrderedDelivery delivery) => new RedisTopic(new RedisKeys(_prefix, delivery.Topic), delivery);

    /// <inheritdoc/>
    protected override async Task StopListeningAsync(BackplaneTopic topic)
    {
        var state = (RedisTopic)topic;
        if (state.Queue is { } queue)
        {
            try
            {
                await queue.UnsubscribeAsync().ConfigureAwait(false);
            }
            catch (Exception ex) when (IsRedisFailure(ex))
            {
                Log.LogDebug("redis backplane: unsubscribing '{Topic}' failed: {Reason}", state.Name, ex.Message);
            }
        }
    }

    /// <summary>
    /// True: <see cref="PublishAsync"/> issues its script before its first await, and StackExchange.Redis writes the
    /// commands of one multiplexer connection in the order they were issued; Redis runs them in that order.
    /// </summary>
    public override bool PreservesPublishOrder => true;

    /// <inheritdoc/>
    public override async ValueTask<StreamPosition> PublishAsync(string topic, TopicOptions options, MessageType type, ReadOnlyMemory<byte> payload, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(topic);
        ArgumentNullException.ThrowIfNull(options);
        if (!IsConnected)
        {
            return PublishLocal(topic, type, payload.Span);
        }

        RedisKeys keys = KeysOf(topic);
        string candidate = _candidateEpoch;
        RedisResult result;
        try
        {
            // Issued before this method's first await: PreservesPublishOrder depends on it (the multiplexer writes
            // commands in issue order, and Redis runs the scripts, assigning offsets, in that order).
            result = await _db.ScriptEvaluateAsync(RedisScripts.Publish, [keys.Meta, keys.Stream],
            [
                candidate, _expiryMs, keys.ChannelName, type == MessageType.Text ? "t" : "b", payload,
                options.HistorySize, options.HistoryAge is { } age ? (long)Math.Max(1, age.TotalMilliseconds) : 0,
            ]).WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (RedisConnectionException ex) when (ex.CommandStatus == CommandStatus.WaitingToBeSent)
        {
            // Never sent (the connection dropped just now): delivering it locally cannot duplicate it.
            MarkDown(ex.Message);
            return PublishLocal(topic, type, payload.Span);
        }
        catch (Exception ex) when (IsRedisFailure(ex))
        {
            // It may or may not have reached Redis: refusing is the only answer that cannot deliver it twice.
            CountFailedPublish();
            throw new TopicException("unavailable", $"redis: {ex.Message}");
        }

        var answer = (RedisResult[])result!;
        string epoch = (string)answer[0]!;
        if (ReferenceEquals(epoch, candidate) || string.Equals(epoch, candidate, StringComparison.Ordinal))
        {
            _candidateEpoch = NextEpoch(); // used: the next stream to start needs another
        }

        return new StreamPosition(epoch, (long)answer[1]);
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

        RedisKeys keys = KeysOf(topic);
        var read = new List<TopicMessage>();
        try
        {
            long from = since is { Offset: >= 0 } resume ? resume.Offset + 1 : 0;
            Range range = await ReadRangeAsync(topic, keys, since?.Epoch ?? "", from, restart: false, cancellationToken).ConfigureAwait(false);
            read = range.Messages;
            var current = new StreamPosition(range.Epoch, range.Seq);
            if (since is not { } position)
            {
                ReleaseAll(read);
                return new HistoryRead(current, false);
            }

            bool recovered = string.Equals(position.Epoch, range.Epoch, StringComparison.Ordinal) && position.Offset >= 0 && position.Offset <= range.Seq;
            if (recovered && position.Offset < range.Seq)
            {
                // Everything after `since` must still be there (and young enough): the first kept entry is the next one.
                long cutoff = options.HistoryAge is { } age ? range.NowMs - (long)age.TotalMilliseconds : long.MinValue;
                recovered = read.Count == range.Seq - position.Offset
                    && read[0].Position.Offset == position.Offset + 1
                    && range.FirstTimeMs >= cutoff;
            }

            if (recovered)
            {
                foreach (TopicMessage message in read)
                {
                    into.Add(message); // the caller releases them
                }

                read.Clear();
            }

            ReleaseAll(read);
            return new HistoryRead(current, recovered);
        }
        catch (Exception ex) when (IsRedisFailure(ex))
        {
            ReleaseAll(read);
            MarkDown(ex.Message);
            return ReadLocal(topic, since);
        }
    }

    /// <inheritdoc/>
    protected override async ValueTask DisposeStoreAsync(IReadOnlyList<BackplaneTopic> topics)
    {
        _redis.ConnectionFailed -= OnConnectionFailed;
        _redis.ConnectionRestored -= OnConnectionRestored;
        await _redis.CloseAsync().ConfigureAwait(false);
        await _redis.DisposeAsync().ConfigureAwait(false);
    }

    /// <inheritdoc/>
    protected override bool IsStoreFailure(Exception exception) => IsRedisFailure(exception);

    internal static bool IsRedisFailure(Exception ex) => ex is RedisException or RedisTimeoutException or ObjectDisposedException;

    private static void ReleaseAll(List<TopicMessage> messages)
    {
        foreach (TopicMessage message in messages)
        {
            message.Release();
        }

        messages.Clear();
    }
}

/// <summary>Counts of a <see cref="RedisBackplane"/>.</summary>
/// <param name="Outages">Times Redis became unreachable.</param>
/// <param name="LocalPublishes">Messages published while Redis was unreachable, delivered on this node only in a local epoch.</param>
/// <param name="Resets">Discontinuities reported to this node's subscribers (<c>reset</c>).</param>
/// <param name="Fetched">Messages missed on pub/sub and fetched from the stream instead.</param>
/// <param name="Duplicates">Messages received twice (after a reconnect) and delivered once.</param>
/// <param name="FailedPublishes">Publishes refused with <c>unavailable</c> because Redis failed while they were in flight.</param>
public readonly record struct RedisBackplaneCounters(long Outages, long LocalPublishes, long Resets, long Fetched, long Duplicates, long FailedPublishes);
