using System.Buffers;
using Microsoft.Extensions.Logging;

namespace Sockeye.Topics;

/// <summary>
/// One <c>sockeye.v1</c> connection (docs/protocol.md): reads requests in order and answers through the connection's
/// <see cref="Subscriber"/> queue, so answers and messages leave in one ordered stream. A malformed request gets an
/// <c>error</c> and the connection stays open (§7).
/// </summary>
internal sealed class V1Session(TopicHub hub, Subscriber owner)
{
    private readonly TopicNameCache _names = new();
    private readonly PublishPipeline _pipeline = new(hub, owner);
    private byte[]? _scratch;

    public async Task RunAsync()
    {
        WebSocketConnection connection = owner.Connection;
        owner.EnqueueControl(V1Writer.Hello(owner.MemberId));
        try
        {
            while (true)
            {
                WebSocketMessage message = await connection.ReceiveAsync().ConfigureAwait(false);
                if (message.IsClose)
                {
                    return;
                }

                // The payload is only valid until the next receive; requests are handled before that.
                byte[]? rented = null;
                try
                {
                    ReadOnlyMemory<byte> frame = message.Payload.IsSingleSegment ? message.Payload.First : TopicHub.Contiguous(message.Payload, out rented);
                    await HandleAsync(frame, message.Type).ConfigureAwait(false);
                }
                finally
                {
                    if (rented is not null)
                    {
                        ArrayPool<byte>.Shared.Return(rented);
                    }
                }
            }
        }
        finally
        {
            try
            {
                await _pipeline.CompleteAsync().ConfigureAwait(false);
            }
            finally
            {
                if (_scratch is not null)
                {
                    ArrayPool<byte>.Shared.Return(_scratch);
                }

                await hub.DetachAsync(owner).ConfigureAwait(false);
            }
        }
    }

    private async ValueTask HandleAsync(ReadOnlyMemory<byte> frame, MessageType type)
    {
        var request = new V1Request { Scratch = _scratch };
        string? malformed = V1Request.Parse(frame, type, ref request, _names);
        _scratch = request.Scratch;
        if (malformed is null && request.Op == V1Op.Publish && request.Topic is { } topic && request.HasText)
        {
            // Pipelined: answered in request order, refusals included (PublishPipeline).
            await _pipeline.PublishAsync(topic, request.PayloadType, request.Payload, request.Id).ConfigureAwait(false);
            return;
        }

        // Any other answer waits for the answers of the publishes before it.
        await _pipeline.DrainAsync().ConfigureAwait(false);
        if (malformed is not null)
        {
            Error("bad_request", malformed, request.Id, request.Topic);
            return;
        }

        await HandleOtherAsync(request).ConfigureAwait(false);
    }

    private async ValueTask HandleOtherAsync(V1Request request)
    {
        try
        {
            switch (request.Op)
            {
                case V1Op.Publish:
                    PublishRefused(request); // a well-formed one is pipelined (HandleAsync)
                    break;
                case V1Op.Subscribe:
                    await SubscribeAsync(request).ConfigureAwait(false);
                    break;
                case V1Op.Unsubscribe:
                    if (Require(request, needsId: true) is { } topicToLeave
                        && !await hub.UnsubscribeCoreAsync(owner, topicToLeave, request.Id, null, notify: true, CancellationToken.None).ConfigureAwait(false))
                    {
                        Error("not_subscribed", $"not subscribed to '{topicToLeave}'", request.Id, topicToLeave);
                    }

                    break;
                case V1Op.Presence:
                    if (Require(request, needsId: true) is { } topicToList)
                    {
                        IReadOnlyList<PresenceMember> members = await hub.Backplane.GetPresenceAsync(topicToList, CancellationToken.None).ConfigureAwait(false);
                        owner.EnqueueControl(V1Writer.Presence(request.Id!.Value, topicToList, members));
                    }

                    break;
                default:
                    Error("unknown_op", $"unknown op '{request.OpName}'", request.Id, request.Topic);
                    break;
            }
        }
        catch (TopicException ex)
        {
            hub.LogRefusal(owner, request.Topic, ex);
            Error(ex.Code, ex.Message, request.Id, request.Topic);
        }
    }

    private void PublishRefused(V1Request request)
    {
        if (Require(request, needsId: false) is { } topic)
        {
            Error("bad_request", "'pub' needs 'text' or a binary payload", request.Id, topic);
        }
    }

    private async ValueTask SubscribeAsync(V1Request request)
    {
        if (Require(request, needsId: true) is not { } topic)
        {
            return;
        }

        StreamPosition? since = request.HasSince ? new StreamPosition(request.SinceEpoch!, request.SinceOffset!.Value) : null;
        await hub.SubscribeCoreAsync(owner, topic, since, request.Id, request.PresenceInfo, CancellationToken.None).ConfigureAwait(false);
    }

    private string? Require(V1Request request, bool needsId)
    {
        if (request.Topic is null)
        {
            Error("bad_request", "'topic' is missing", request.Id, null);
            return null;
        }

        if (needsId && request.Id is null)
        {
            Error("bad_request", "'id' is missing", null, request.Topic);
            return null;
        }

        return request.Topic;
    }

    private void Error(string code, string message, long? id, string? topic) =>
        owner.EnqueueControl(V1Writer.Error(code, message, id, topic));
}
