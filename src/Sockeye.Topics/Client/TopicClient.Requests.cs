using System.Runtime.CompilerServices;
using Microsoft.Extensions.Logging;

namespace Sockeye.Topics;

public sealed partial class TopicClient
{
    // Registers a request and sends it now if a connection is open, else when the next one opens.
    private ValueTask<RequestAnswer> Request(long id, string op, string topic, OutgoingFrame frame, CancellationToken cancellationToken)
    {
        PendingRequest request = PendingRequest.Rent(id, op, topic, Environment.TickCount64 + _timeoutMs);
        ValueTask<RequestAnswer> answer = request.Task;
        lock (_gate)
        {
            if (_disposed)
            {
                frame.Return();
                request.SetException(new TopicException("closed", "the client was disposed"));
                return answer;
            }

            _pending.Add(id, request);
            if (_open is { } connection)
            {
                request.SentOn = connection;
                StartSend(connection, frame);
            }
            else
            {
                request.Frame = frame;
            }
        }

        if (cancellationToken.CanBeCanceled)
        {
            // Registered after the request is in the table; a cancellation that already happened runs at once.
            request.Registration = cancellationToken.UnsafeRegister(static (state, token) =>
            {
                var (client, requestId) = ((TopicClient, long))state!;
                client.Fail(requestId, new OperationCanceledException(token));
            }, (this, id));
        }

        return answer;
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private static async ValueTask<StreamPosition> PositionOf(ValueTask<RequestAnswer> answer) => (await answer.ConfigureAwait(false)).Position;

    /// <summary>
    /// Starts sending a frame on <paramref name="connection"/>; called under the gate so frames leave in the order
    /// they were registered (the connection keeps the order of send calls). The send returns the frame's array.
    /// </summary>
    private void StartSend(WebSocketConnection connection, OutgoingFrame frame) => _ = SendAsync(connection, frame);

    private async Task SendAsync(WebSocketConnection connection, OutgoingFrame frame)
    {
        try
        {
            ValueTask send = frame.Type == MessageType.Text
                ? connection.SendAsync(MessageType.Text, new System.Buffers.ReadOnlySequence<byte>(frame.Memory))
                : connection.SendBinaryAsync(frame.Memory);
            await send.ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is WebSocketClosedException or IOException or ObjectDisposedException or InvalidOperationException or OperationCanceledException)
        {
            // The connection is failing: its receive loop ends and fails what was sent on it (outcome unknown).
            _log.LogDebug("topics client: send failed: {Reason}", ex.Message);
            connection.Abort("topic client send failed");
        }
        finally
        {
            frame.Return();
        }
    }

    private void SendSubscribeLocked(TopicSubscription subscription, WebSocketConnection connection)
    {
        long id = NextId();
        subscription.RequestId = id;
        StartSend(connection, ClientFrames.Subscribe(id, subscription.Topic, subscription.Position, subscription.Options.Presence));
    }

    /// <summary>Removes and returns the requests that match; their unsent frames go back to the pool.</summary>
    private List<PendingRequest> TakeAllLocked(Func<PendingRequest, bool> match)
    {
        var taken = new List<PendingRequest>();
        foreach (PendingRequest request in _pending.Values)
        {
            if (match(request))
            {
                taken.Add(request);
            }
        }

        foreach (PendingRequest request in taken)
        {
            _pending.Remove(request.Id);
            request.Frame?.Return();
            request.Frame = null;
        }

        return taken;
    }

    private PendingRequest? TakeLocked(long id)
    {
        if (!_pending.Remove(id, out PendingRequest? request))
        {
            return null;
        }

        request.Frame?.Return();
        request.Frame = null;
        return request;
    }

    private void Complete(long id, RequestAnswer answer)
    {
        PendingRequest? request;
        lock (_gate)
        {
            request = TakeLocked(id);
        }

        request?.SetResult(answer);
    }

    private bool Fail(long id, Exception error)
    {
        PendingRequest? request;
        lock (_gate)
        {
            request = TakeLocked(id);
        }

        request?.SetException(error);
        return request is not null;
    }

    private void ExpireRequests()
    {
        long now = Environment.TickCount64;
        List<PendingRequest>? expired = null;
        lock (_gate)
        {
            foreach (PendingRequest request in _pending.Values)
            {
                if (request.DeadlineMs <= now)
                {
                    (expired ??= []).Add(request);
                }
            }

            if (expired is null)
            {
                return;
            }

            foreach (PendingRequest request in expired)
            {
                TakeLocked(request.Id);
            }
        }

        foreach (PendingRequest request in expired)
        {
            string detail = request.Op == "pub" ? "; it may or may not have been published" : "";
            request.SetException(new TopicException("timeout", $"no answer to '{request.Op}' on '{request.Topic}' within {_timeoutMs} ms{detail}"));
        }
    }

    // The connection opened (hello): resubscribe every topic from its position, then send what waited, in order.
    private void SendWaitingLocked(WebSocketConnection connection)
    {
        foreach (TopicSubscription subscription in _subscriptions.Values)
        {
            if (subscription.Active)
            {
                SendSubscribeLocked(subscription, connection);
            }
        }

        List<PendingRequest>? waiting = null;
        foreach (PendingRequest request in _pending.Values)
        {
            if (request.Frame is not null)
            {
                (waiting ??= []).Add(request);
            }
        }

        if (waiting is null)
        {
            return;
        }

        waiting.Sort(static (a, b) => a.Id.CompareTo(b.Id));
        foreach (PendingRequest request in waiting)
        {
            OutgoingFrame frame = request.Frame!.Value;
            request.Frame = null;
            request.SentOn = connection;
            StartSend(connection, frame);
        }
    }
}
