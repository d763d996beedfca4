using System.Buffers;
using System.Text;
using Microsoft.Extensions.Logging;

namespace Sockeye.Topics;

public sealed partial class TopicClient
{
    private string? _lastEpoch;
    private byte[] _lastEpochUtf8 = [];

    // Reads one connection's frames until it closes. Frames are handled one at a time, in order; a message's
    // payload is handed to its handler straight from the receive buffer.
    private async Task ReceiveLoopAsync(WebSocketConnection connection)
    {
        byte[] copy = [];
        byte[] arena = [];
        try
        {
            while (true)
            {
                WebSocketMessage message = await connection.ReceiveAsync().ConfigureAwait(false);
                if (message.IsClose)
                {
                    return;
                }

                ReadOnlyMemory<byte> frame;
                if (message.Payload.IsSingleSegment)
                {
                    frame = message.Payload.First;
                }
                else
                {
                    Grow(ref copy, (int)message.Payload.Length);
                    message.Payload.CopyTo(copy);
                    frame = copy.AsMemory(0, (int)message.Payload.Length);
                }

                Grow(ref arena, frame.Length);
                var parsed = default(ServerFrame);
                if (ServerFrame.Parse(frame, message.Type, arena, ref parsed) is { } malformed)
                {
                    _log.LogWarning("topics client: ignoring a malformed frame from {Uri}: {Reason}", _uri, malformed);
                    continue;
                }

                ValueTask wait = Dispatch(connection, in parsed);
                if (!wait.IsCompletedSuccessfully)
                {
                    await wait.ConfigureAwait(false);
                }
            }
        }
        catch (Exception ex) when (ex is IOException or InvalidOperationException or ObjectDisposedException)
        {
            _log.LogDebug("topics client: receive ended: {Reason}", ex.Message);
        }
        finally
        {
            connection.Abort("topic client receive ended"); // a no-op when it closed normally
            if (copy.Length > 0)
            {
                ArrayPool<byte>.Shared.Return(copy);
            }

            if (arena.Length > 0)
            {
                ArrayPool<byte>.Shared.Return(arena);
            }
        }
    }

    private static void Grow(ref byte[] buffer, int size)
    {
        if (buffer.Length >= size)
        {
            return;
        }

        if (buffer.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }

        buffer = ArrayPool<byte>.Shared.Rent(Math.Max(size, 1024));
    }

    private ValueTask Dispatch(WebSocketConnection connection, in ServerFrame f)
    {
        switch (f.Op)
        {
            case ServerOp.Message:
                return OnMessage(in f);
            case ServerOp.Hello:
                OnHello(connection, f.Connection);
                return default;
            case ServerOp.Subscribed:
                return OnSubscribed(in f);
            case ServerOp.Ack:
                if (f.Id is { } ackId)
                {
                    Complete(ackId, new RequestAnswer(new StreamPosition(Epoch(f.Epoch.Span), f.Offset), null));
                }

                return default;
            case ServerOp.Presence:
                if (f.Id is { } presenceId)
                {
                    Complete(presenceId, new RequestAnswer(default, f.Members ?? []));
                }

                return default;
            case ServerOp.Unsubscribed:
                OnUnsubscribed(in f);
                return default;
            case ServerOp.Dropped:
                return Find(f.Topic.Span) is { } lagging ? lagging.Gap(f.From, f.To) : default;
            case ServerOp.Join:
            case ServerOp.Leave:
                if (Find(f.Topic.Span) is { Options.OnPresence: { } onPresence } watched && f.Member is { } member)
                {
                    Invoke(onPresence, new PresenceChange(watched.Topic, member, f.Op == ServerOp.Join));
                }

                return default;
            case ServerOp.Error:
                OnError(in f);
                return default;
            default:
                return default; // §1: unknown server messages are ignored
        }
    }

    private ValueTask OnMessage(in ServerFrame f)
    {
        TopicSubscription? subscription = Find(f.Topic.Span);
        if (subscription is null || !subscription.Active || !f.HasPayload)
        {
            return default;
        }

        // Each offset once per epoch: anything at or before the last position was already delivered.
        if (!subscription.TryAdvance(f.Epoch.Span, f.Offset, out StreamPosition position))
        {
            return default;
        }

        var message = new TopicClientMessage(subscription.Topic, position, f.PayloadType, f.Payload);
        if (subscription.Handler is not { } handler)
        {
            return subscription.EnqueueAsync(in message);
        }

        try
        {
            handler(message);
        }
#pragma warning disable CA1031 // an application's handler must not take the connection down with it
        catch (Exception ex)
#pragma warning restore CA1031
        {
            _log.LogError(ex, "topics client: the handler of '{Topic}' failed at offset {Offset}", subscription.Topic, position.Offset);
        }

        return default;
    }

    private void OnHello(WebSocketConnection connection, string? connectionId)
    {
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }

            _open = connection;
            _connectionId = connectionId;
            _attempts = 0;
            TransitionLocked(TopicClientState.Open);
            SendWaitingLocked(connection);
        }

        RaiseStateChanged(TopicClientState.Open, connectionId, null);
        _firstOpen.TrySetResult();
    }

    private ValueTask OnSubscribed(in ServerFrame f)
    {
        TopicSubscription? subscription = Find(f.Topic.Span);
        // Only the answer to the latest request counts; one from an earlier connection cannot arrive here, but a
        // late answer to a request this client gave up on can.
        if (subscription is null || f.Id != subscription.RequestId)
        {
            return default;
        }

        ValueTask wait = default;
        if (f.Recovered != true)
        {
            // Not resumed (or nothing to resume): live messages follow the topic's current position.
            bool hadPosition = subscription.Position is not null;
            var current = new StreamPosition(Epoch(f.Epoch.Span), f.Offset);
            subscription.SetPosition(current.Epoch, current.Offset);
            if (hadPosition)
            {
                _log.LogInformation("topics client: '{Topic}' could not be resumed; reset to {Epoch}:{Offset}", subscription.Topic, current.Epoch, current.Offset);
                wait = subscription.Reset(current);
            }
        }

        subscription.Ready.TrySetResult();
        return wait;
    }

    private void OnUnsubscribed(in ServerFrame f)
    {
        if (f.Id is { } id)
        {
            Complete(id, default); // the answer to our unsub: the subscription is already gone here
            return;
        }

        if (Find(f.Topic.Span) is { } ended)
        {
            // The server ended it (§5: no id): it is not resubscribed.
            _subscriptions.TryRemove(new KeyValuePair<string, TopicSubscription>(ended.Topic, ended));
            ended.End(new TopicException("unsubscribed", f.Reason ?? "the server ended the subscription"));
        }
    }

    private void OnError(in ServerFrame f)
    {
        var error = new TopicException(f.Code ?? "unknown", f.Message ?? "");
        if (f.Id is not { } id)
        {
            _log.LogWarning("topics client: the server reported {Code}: {Reason}", error.Code, error.Message);
            return;
        }

        if (Fail(id, error))
        {
            return;
        }

        // A refused (re)subscription ends that subscription.
        foreach (TopicSubscription subscription in _subscriptions.Values)
        {
            if (subscription.RequestId == id)
            {
                _subscriptions.TryRemove(new KeyValuePair<string, TopicSubscription>(subscription.Topic, subscription));
                subscription.End(error);
                return;
            }
        }
    }

    private TopicSubscription? Find(ReadOnlySpan<byte> topic)
    {
        if (topic.Length > 1024)
        {
            return _subscriptions.GetValueOrDefault(Encoding.UTF8.GetString(topic));
        }

        // Decoded on the stack and looked up by span: no string per message.
        Span<char> chars = stackalloc char[topic.Length];
        int count = Encoding.UTF8.GetChars(topic, chars);
        return _subscriptionsBySpan.TryGetValue(chars[..count], out TopicSubscription? subscription) ? subscription : null;
    }

    // Epochs rarely change: the last one is kept so an ack's position allocates nothing.
    private string Epoch(ReadOnlySpan<byte> utf8)
    {
        if (_lastEpoch is null || !utf8.SequenceEqual(_lastEpochUtf8))
        {
            _lastEpoch = Encoding.UTF8.GetString(utf8);
            _lastEpochUtf8 = utf8.ToArray();
        }

        return _lastEpoch;
    }

    internal void Invoke<T>(Action<T> callback, T value)
    {
        try
        {
            callback(value);
        }
#pragma warning disable CA1031 // an application's callback must not take the connection down with it
        catch (Exception ex)
#pragma warning restore CA1031
        {
            _log.LogError(ex, "topics client: a callback failed");
        }
    }
}
