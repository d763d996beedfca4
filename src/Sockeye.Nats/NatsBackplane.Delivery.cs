using Microsoft.Extensions.Logging;
using NATS.Client.Core;
using Sockeye.Topics;
using Sockeye.Topics.Backplanes;

namespace Sockeye.Nats;

public sealed partial class NatsBackplane
{
    /// <summary>Tests: drop this many deliveries, as the client does for a slow consumer (a gap the next message reveals).</summary>
    internal int DropDeliveries;

    /// <inheritdoc/>
    protected override async Task ListenAsync(BackplaneTopic topic)
    {
        var state = (NatsTopic)topic;
        if (state.Subscription is null)
        {
            INatsSub<NatsMemoryOwner<byte>> subscription = await _nats.SubscribeCoreAsync(state.Subjects.Delivery, serializer: ReplySerializer).ConfigureAwait(false);
            state.Subscription = subscription;
            state.Reader = Task.Run(() => ReadDeliveriesAsync(state, subscription));
        }

        // The server handles this connection's commands in order: once the ping is answered, the subscription is in
        // place, and a position read after it misses nothing published later.
        await _nats.PingAsync(Stopping).ConfigureAwait(false);
    }

    /// <inheritdoc/>
    protected override async Task StopListeningAsync(BackplaneTopic topic)
    {
        var state = (NatsTopic)topic;
        if (state.Subscription is { } subscription)
        {
            state.Subscription = null;
            try
            {
                await subscription.DisposeAsync().ConfigureAwait(false);
            }
            catch (Exception ex) when (IsNatsFailure(ex))
            {
                // Unsubscribing from a server that is gone: nothing to undo there.
            }

            await state.Reader.ConfigureAwait(false);
        }
    }

    // One topic's deliveries, in the order the server sent them (the stream's order).
    private async Task ReadDeliveriesAsync(NatsTopic state, INatsSub<NatsMemoryOwner<byte>> subscription)
    {
        try
        {
            await foreach (NatsMsg<NatsMemoryOwner<byte>> message in subscription.Msgs.ReadAllAsync().ConfigureAwait(false))
            {
                using NatsMemoryOwner<byte> data = message.Data;
                if (DropDeliveries > 0 && Interlocked.Decrement(ref DropDeliveries) >= 0)
                {
                    continue; // tests: as a slow consumer's dropped message
                }

                try
                {
                    if (NatsWire.Header(message.Headers, NatsWire.Presence) is { } presence)
                    {
                        OnPresenceEvent(state, message.Headers!, data.Memory.Span, joined: presence == "j");
                    }
                    else
                    {
                        (string epoch, long offset, MessageType type, ulong seq) = ParseStored(message.Headers);
                        OnStreamMessage(state, epoch, offset, type, seq, data.Memory.Span);
                    }
                }
                catch (Exception ex) when (ex is FormatException or NatsException)
                {
                    Log.LogWarning("nats backplane: malformed message on '{Topic}' ignored: {Reason}", state.Name, ex.Message);
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private void OnStreamMessage(NatsTopic state, string epoch, long offset, MessageType type, ulong seq, ReadOnlySpan<byte> payload)
    {
        lock (state.Lock)
        {
            if (state.Delivery.Receive(epoch, offset, type, payload, seq))
            {
                StartSync(state);
            }
        }
    }

    // The sync of OrderedDelivery, reading the stream from the last delivered stream sequence; a read while NATS is down
    // is dropped (the recovery syncs), unless it is the recovery's own (recovering).
    private Task SyncAsync(NatsTopic state, bool recovering) => state.Delivery.SyncAsync(async (known, from, afterSeq) =>
    {
        Range range = await ReadRangeAsync(state.Name, state.Subjects, known ?? "", from, afterSeq, restart: true, CancellationToken.None).ConfigureAwait(false);
        var read = new StreamRange(range.Epoch, range.Offset, range.Seq);
        foreach (Fetched fetched in range.Messages)
        {
            read.Add(fetched.Message, fetched.Seq);
        }

        range.Messages.Clear();
        return read;
    }, () => IsConnected || recovering);

    /// <inheritdoc/>
    protected override Task SyncAsync(BackplaneTopic topic) => SyncAsync((NatsTopic)topic, recovering: false);
}
