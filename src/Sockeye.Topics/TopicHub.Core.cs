using Microsoft.Extensions.Logging;

namespace Sockeye.Topics;

public sealed partial class TopicHub
{
    internal async ValueTask<StreamPosition> PublishCoreAsync(Subscriber? from, string topic, MessageType type, ReadOnlyMemory<byte> payload, CancellationToken cancellationToken)
    {
        PreparedPublish prepared = await PreparePublishAsync(from, topic, type, payload, cancellationToken).ConfigureAwait(false);
        if (prepared.IsConsumed)
        {
            return await CurrentPositionAsync(topic, cancellationToken).ConfigureAwait(false);
        }

        StreamPosition position = await Backplane.PublishAsync(topic, prepared.Options!, prepared.Type, prepared.Payload, cancellationToken).ConfigureAwait(false);
        CountPublished();
        return position;
    }

    /// <summary>
    /// Everything before the backplane call: the checks, the publish hook, the <c>wait</c> policy. Throws
    /// <see cref="TopicException"/> when refused. The payload may be the hook's replacement.
    /// </summary>
    internal async ValueTask<PreparedPublish> PreparePublishAsync(Subscriber? from, string topic, MessageType type, ReadOnlyMemory<byte> payload, CancellationToken cancellationToken)
    {
        if (TopicName.Check(topic) is { } invalid)
        {
            throw new TopicException("bad_request", invalid);
        }

        if (type is not (MessageType.Text or MessageType.Binary))
        {
            throw new TopicException("bad_request", "only text and binary messages can be published");
        }

        if (from is not null && Options.AuthorizePublish is { } hook)
        {
            PublishDecision decision = await hook(from.Connection, topic, type, payload).ConfigureAwait(false);
            if (decision.Refusal is { } reason)
            {
                throw new TopicException("forbidden", reason);
            }

            if (decision.IsConsumed)
            {
                return default;
            }

            if (decision.ReplacementType is { } replacement)
            {
                type = replacement;
                payload = decision.Replacement;
            }
        }

        // §5.6: a text message is UTF-8; checked here, once, rather than by every subscriber's frame.
        if (type == MessageType.Text && !System.Text.Unicode.Utf8.IsValid(payload.Span))
        {
            throw new TopicException("bad_request", "text is not valid UTF-8");
        }

        TopicOptions options = OptionsFor(topic);
        if (options.SlowSubscriberPolicy == SlowSubscriberPolicy.Wait)
        {
            await WaitForRoomAsync(topic, options, cancellationToken).ConfigureAwait(false);
        }

        return new PreparedPublish(options, type, payload);
    }

    /// <summary>The answer to a publish the hook consumed: the topic's current position.</summary>
    internal async ValueTask<StreamPosition> CurrentPositionAsync(string topic, CancellationToken cancellationToken) =>
        (await Backplane.ReadAsync(topic, null, OptionsFor(topic), [], cancellationToken).ConfigureAwait(false)).Current;

    internal void CountPublished() => Interlocked.Increment(ref _published);

    // The "wait" policy: a publisher on this node waits until every local subscriber of the topic has room.
    private async ValueTask WaitForRoomAsync(string topic, TopicOptions options, CancellationToken cancellationToken)
    {
        while (_topics.TryGetValue(topic, out LocalTopic? local))
        {
            Task? room = null;
            foreach (Subscription subscription in local.Subscriptions)
            {
                room = subscription.Owner.RoomTask(options);
                if (room is not null)
                {
                    break;
                }
            }

            if (room is null)
            {
                return;
            }

            await room.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    internal async ValueTask<HistoryRead> SubscribeCoreAsync(Subscriber owner, string topic, StreamPosition? since, long? id, string? presenceInfo, CancellationToken cancellationToken)
    {
        if (TopicName.Check(topic) is { } invalid)
        {
            throw new TopicException("bad_request", invalid);
        }

        if (Options.AuthorizeSubscribe is { } hook && await hook(owner.Connection, topic).ConfigureAwait(false) is { } refusal)
        {
            throw new TopicException("forbidden", refusal);
        }

        TopicOptions options = OptionsFor(topic);
        var subscription = new Subscription(owner, topic, options);
        lock (owner.SubscriptionsLock)
        {
            if (owner.IsClosed)
            {
                throw new TopicException("unavailable", "the connection is closing");
            }

            if (owner.Subscriptions.ContainsKey(topic))
            {
                throw new TopicException("bad_request", $"already subscribed to '{topic}'");
            }

            if (owner.Subscriptions.Count >= Options.MaxSubscriptionsPerConnection)
            {
                throw new TopicException("bad_request", $"too many subscriptions (the limit is {Options.MaxSubscriptionsPerConnection})");
            }

            owner.Subscriptions.Add(topic, subscription);
        }

        LocalTopic local = AddToLocal(subscription, out TaskCompletionSource? interest);
        var history = new List<TopicMessage>();
        HistoryRead read;
        try
        {
            if (interest is not null)
            {
                // First subscriber on this node: ask the backplane for the topic before reading its history, so
                // nothing published in between is missed (it arrives parked, see Subscription.Parked).
                try
                {
                    await Backplane.SubscribeAsync(topic, cancellationToken).ConfigureAwait(false);
                    interest.TrySetResult();
                }
                catch (Exception ex)
                {
                    interest.TrySetException(ex);
                    throw;
                }
            }
            else
            {
                await local.Interest!.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
            }

            read = await Backplane.ReadAsync(topic, since, options, history, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not TopicException)
        {
            ReleaseAll(history);
            await UnsubscribeCoreAsync(owner, topic, null, null, notify: false, CancellationToken.None).ConfigureAwait(false);
            throw new TopicException("unavailable", $"the topic '{topic}' is unavailable: {ex.Message}");
        }
        catch
        {
            ReleaseAll(history);
            await UnsubscribeCoreAsync(owner, topic, null, null, notify: false, CancellationToken.None).ConfigureAwait(false);
            throw;
        }

        JoinHistoryAndLive(local, subscription, since, id, read, history);
        ReleaseAll(history);

        if (options.Presence)
        {
            subscription.Member = new PresenceMember(owner.MemberId, presenceInfo);
            await Backplane.JoinAsync(topic, subscription.Member, cancellationToken).ConfigureAwait(false);
        }

        return read;
    }

    // Under the topic's lock, so no live message can slip between: `subscribed`, then the history after `since`,
    // then what arrived while the history was read, each offset once and in order (docs/protocol.md §6).
    private static void JoinHistoryAndLive(LocalTopic local, Subscription subscription, StreamPosition? since, long? id, HistoryRead read, List<TopicMessage> history)
    {
        Subscriber owner = subscription.Owner;
        lock (local.Lock)
        {
            List<TopicMessage> parked = subscription.Parked ?? [];
            subscription.Parked = null;
            if (owner.Format == TopicFormat.V1)
            {
                owner.EnqueueControl(V1Writer.Subscribed(id ?? 0, subscription.Topic, read.Current, since is null ? null : read.Recovered));
            }

            long last = read.Recovered ? since!.Value.Offset : read.Current.Offset;
            foreach (TopicMessage message in history)
            {
                if (message.Position.Offset > last)
                {
                    owner.Enqueue(message, subscription, replay: true);
                    last = message.Position.Offset;
                }
            }

            // Parked: live messages and the discontinuities between them, in delivery order. A message of another
            // stream than the one we are at is from before a discontinuity the read already saw: skipped.
            string epoch = read.Current.Epoch;
            foreach (TopicMessage message in parked)
            {
                bool sameStream = string.Equals(message.Position.Epoch, epoch, StringComparison.Ordinal);
                if (message.IsDiscontinuity)
                {
                    if (!sameStream || message.Position.Offset > last)
                    {
                        if (owner.Format == TopicFormat.V1)
                        {
                            owner.EnqueueControl(V1Writer.Reset(subscription.Topic, message.Position));
                        }

                        epoch = message.Position.Epoch;
                        last = message.Position.Offset;
                    }
                }
                else if (sameStream && message.Position.Offset > last)
                {
                    owner.Enqueue(message, subscription);
                    last = message.Position.Offset;
                }

                message.Release();
            }
        }
    }

    private LocalTopic AddToLocal(Subscription subscription, out TaskCompletionSource? interest)
    {
        while (true)
        {
            LocalTopic local = _topics.GetOrAdd(subscription.Topic, static _ => new LocalTopic());
            lock (local.Lock)
            {
                if (local.Removed)
                {
                    continue;
                }

                local.Subscriptions = [.. local.Subscriptions, subscription];
                interest = null;
                if (local.Interest is null)
                {
                    interest = local.Interest = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                }

                return local;
            }
        }
    }

    internal async ValueTask<bool> UnsubscribeCoreAsync(Subscriber owner, string topic, long? id, string? reason, bool notify, CancellationToken cancellationToken)
    {
        Subscription? subscription;
        lock (owner.SubscriptionsLock)
        {
            owner.Subscriptions.Remove(topic, out subscription);
        }

        if (subscription is null)
        {
            return false;
        }

        subscription.Active = false;
        bool lastOnNode = false;
        bool interested = false;
        if (_topics.TryGetValue(topic, out LocalTopic? local))
        {
            lock (local.Lock)
            {
                local.Subscriptions = Array.FindAll(local.Subscriptions, s => !ReferenceEquals(s, subscription));
                if (subscription.Parked is { } parked)
                {
                    ReleaseAll(parked);
                    subscription.Parked = null;
                }

                if (local.Subscriptions.Length == 0)
                {
                    local.Removed = true;
                    _topics.TryRemove(new KeyValuePair<string, LocalTopic>(topic, local));
                    lastOnNode = true;
                    interested = local.Interest is { Task.IsCompletedSuccessfully: true };
                }
            }
        }

        if (notify && owner.Format == TopicFormat.V1)
        {
            owner.EnqueueControl(V1Writer.Unsubscribed(topic, id, reason));
        }

        if (subscription.Member is { } member)
        {
            await Backplane.LeaveAsync(topic, member, cancellationToken).ConfigureAwait(false);
        }

        if (lastOnNode && interested)
        {
            await Backplane.UnsubscribeAsync(topic, cancellationToken).ConfigureAwait(false);
        }

        return true;
    }

    /// <inheritdoc/>
    void ITopicSink.OnMessage(TopicMessage message)
    {
        if (!_topics.TryGetValue(message.Topic, out LocalTopic? local))
        {
            return;
        }

        lock (local.Lock)
        {
            foreach (Subscription subscription in local.Subscriptions)
            {
                if (subscription.Parked is { } parked)
                {
                    message.Retain();
                    parked.Add(message);
                }
                else if (subscription.Active)
                {
                    subscription.Owner.Enqueue(message, subscription);
                }
            }
        }
    }

    /// <inheritdoc/>
    void ITopicSink.OnDiscontinuity(string topic, StreamPosition current)
    {
        if (!_topics.TryGetValue(topic, out LocalTopic? local))
        {
            return;
        }

        _log.LogWarning("topics: '{Topic}' continues at {Epoch}:{Offset} after a discontinuity; its subscribers are told to reset", topic, current.Epoch, current.Offset);
        lock (local.Lock)
        {
            List<Subscriber>? receivers = null;
            foreach (Subscription subscription in local.Subscriptions)
            {
                if (subscription.Parked is { } parked)
                {
                    parked.Add(TopicMessage.Discontinuity(topic, current)); // placed among the parked messages, see JoinHistoryAndLive
                }
                else if (subscription.Active && subscription.Owner.Format == TopicFormat.V1)
                {
                    (receivers ??= []).Add(subscription.Owner);
                }
            }

            if (receivers is null)
            {
                return;
            }

            // Plain clients have no way to hear of it; sockeye.v1 clients get one shared `reset`, in order with messages.
            var frame = new ControlFrame(V1Writer.Reset(topic, current), receivers.Count);
            foreach (Subscriber receiver in receivers)
            {
                receiver.EnqueueControl(frame);
            }
        }
    }

    /// <inheritdoc/>
    void ITopicSink.OnPresence(string topic, PresenceMember member, bool joined)
    {
        if (!_topics.TryGetValue(topic, out LocalTopic? local))
        {
            return;
        }

        lock (local.Lock)
        {
            int receivers = 0;
            foreach (Subscription subscription in local.Subscriptions)
            {
                if (subscription.Parked is null && subscription.Owner.Format == TopicFormat.V1)
                {
                    receivers++;
                }
            }

            if (receivers == 0)
            {
                return;
            }

            // Built once, shared by every member's queue.
            var frame = new ControlFrame(V1Writer.PresenceChange(topic, member, joined), receivers);
            foreach (Subscription subscription in local.Subscriptions)
            {
                if (subscription.Parked is null && subscription.Owner.Format == TopicFormat.V1)
                {
                    subscription.Owner.EnqueueControl(frame);
                }
            }
        }

        _log.LogDebug("topics: {Member} {Change} '{Topic}'", member.Connection, joined ? "joined" : "left", topic);
    }

    private static void ReleaseAll(List<TopicMessage> messages)
    {
        foreach (TopicMessage message in messages)
        {
            message.Release();
        }

        messages.Clear();
    }

    /// <summary>A publish that passed its checks; <see cref="Options"/> is null when the hook consumed it.</summary>
    internal readonly record struct PreparedPublish(TopicOptions? Options, MessageType Type, ReadOnlyMemory<byte> Payload)
    {
        public bool IsConsumed => Options is null;
    }

    /// <summary>A topic's subscribers on this node.</summary>
    private sealed class LocalTopic
    {
        public readonly Lock Lock = new();

        /// <summary>Copy-on-write, so readers outside the lock see a consistent array.</summary>
        public volatile Subscription[] Subscriptions = [];

        public TaskCompletionSource? Interest;
        public bool Removed;
    }
}
