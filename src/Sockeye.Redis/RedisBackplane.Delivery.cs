using System.Buffers.Text;
using System.Text;
using Microsoft.Extensions.Logging;
using Sockeye.Topics;
using StackExchange.Redis;
using StreamPosition = Sockeye.Topics.StreamPosition;

namespace Sockeye.Redis;

public sealed partial class RedisBackplane
{
    private const int ReadChunk = 1000;

    /// <summary>Messages of one topic read from its stream, with the stream's position when read.</summary>
    private sealed record Range(string Epoch, long Seq, long NowMs, long FirstTimeMs, List<TopicMessage> Messages);

    // The first local subscriber: listen on the channel, then learn the stream's position before returning, so the
    // hub's history read that follows is never behind what this node delivers next.
    private async Task ActivateAsync(RedisTopic state)
    {
        lock (state.Lock)
        {
            state.Syncing = true; // messages arriving before the position is known wait in Pending
        }

        if (IsConnected)
        {
            try
            {
                await ListenAsync(state).ConfigureAwait(false);
                await SyncAsync(state).ConfigureAwait(false);
                return;
            }
            catch (Exception ex) when (IsRedisFailure(ex))
            {
                MarkDown(ex.Message);
            }
        }

        lock (state.Lock)
        {
            state.Syncing = false;
            if (state.Epoch is null && !state.Local)
            {
                EnterLocal(state, announce: false); // nobody has a position yet; the recovery resets to Redis's
            }
        }
    }

    private async Task ListenAsync(RedisTopic state)
    {
        ChannelMessageQueue queue = await _subscriber.SubscribeAsync(state.Keys.Channel).ConfigureAwait(false);
        queue.OnMessage(message => OnChannelMessage(state, message.Message));
        state.Queue = queue;
    }

    // Pub/sub, one topic's messages in order (ChannelMessageQueue.OnMessage runs them one at a time).
    private void OnChannelMessage(RedisTopic state, RedisValue value)
    {
        ReadOnlyMemory<byte> data = (ReadOnlyMemory<byte>)value;
        ReadOnlySpan<byte> span = data.Span;
        if (span.IsEmpty)
        {
            return;
        }

        try
        {
            switch (span[0])
            {
                case (byte)'m':
                    OnStreamMessage(state, span[1..]);
                    break;
                case (byte)'j' or (byte)'l':
                    OnPresenceEvent(state, span[1..], joined: span[0] == 'j');
                    break;
                case (byte)'p':
                    OnProbe(state, span[1..]);
                    break;
                default:
                    break;
            }
        }
        catch (FormatException ex)
        {
            _log.LogWarning("redis backplane: malformed message on '{Topic}' ignored: {Reason}", state.Name, ex.Message);
        }
    }

    // m<offset> <t|b> <epoch>\n<payload>
    private void OnStreamMessage(RedisTopic state, ReadOnlySpan<byte> span)
    {
        int space = span.IndexOf((byte)' ');
        if (space <= 0 || !Utf8Parser.TryParse(span[..space], out long offset, out int used) || used != space || span.Length < space + 3)
        {
            throw new FormatException("bad message header");
        }

        MessageType type = span[space + 1] == 'b' ? MessageType.Binary : MessageType.Text;
        ReadOnlySpan<byte> rest = span[(space + 3)..];
        int newline = rest.IndexOf((byte)'\n');
        if (newline <= 0)
        {
            throw new FormatException("bad message epoch");
        }

        ReadOnlySpan<byte> epoch = rest[..newline];
        ReadOnlySpan<byte> payload = rest[(newline + 1)..];
        lock (state.Lock)
        {
            if (state.Removed)
            {
                return;
            }

            bool sameEpoch = state.EpochUtf8 is { } known && epoch.SequenceEqual(known);
            if (!state.Syncing && !state.Local && sameEpoch)
            {
                if (offset <= state.Last)
                {
                    Interlocked.Increment(ref _duplicates);
                    return;
                }

                if (offset == state.Last + 1)
                {
                    TopicMessage message = TopicMessage.Create(state.Name, new StreamPosition(state.Epoch!, offset), type, payload);
                    state.Last = offset;
                    Deliver(message);
                    return;
                }
            }

            // A gap, another epoch, or a sync under way: hold it and let the sync put it in its place.
            state.Arrivals++;
            if (state.Pending.Count >= _options.MaxPendingPerTopic)
            {
                state.Resync = true; // dropped here, read from the stream (or reported) by the next round
            }
            else
            {
                string epochText = sameEpoch ? state.Epoch! : Encoding.UTF8.GetString(epoch);
                state.Pending.Add(new Pending(TopicMessage.Create(state.Name, new StreamPosition(epochText, offset), type, payload), state.Arrivals));
            }

            StartSync(state);
        }
    }

    private void OnProbe(RedisTopic state, ReadOnlySpan<byte> node)
    {
        if (!node.SequenceEqual(Encoding.UTF8.GetBytes(_node)))
        {
            return;
        }

        lock (state.Lock)
        {
            if (!state.AwaitingProbe || state.Removed)
            {
                return;
            }

            // Our own probe came back: the channel is subscribed again, so a position read now misses nothing.
            state.AwaitingProbe = false;
            if (state.Syncing)
            {
                state.Resync = true;
            }
            else
            {
                StartSync(state);
            }
        }
    }

    // Under state.Lock.
    private void StartSync(RedisTopic state)
    {
        if (state.Syncing || state.Removed)
        {
            return;
        }

        state.Syncing = true;
        _ = Task.Run(async () =>
        {
            try
            {
                await SyncAsync(state).ConfigureAwait(false);
            }
            catch (Exception ex) when (IsRedisFailure(ex))
            {
                _log.LogDebug("redis backplane: sync of '{Topic}' failed, retried after reconnecting: {Reason}", state.Name, ex.Message);
                lock (state.Lock)
                {
                    state.Syncing = false;
                }

                MarkDown(ex.Message);
            }
        });
    }

    /// <summary>
    /// Reads the stream's position (and the range this node missed) and delivers in order: what the stream still has,
    /// a discontinuity for what it does not, then the messages that arrived meanwhile. Repeats while messages arrive
    /// that the read could not account for. Called with <see cref="RedisTopic.Syncing"/> set; clears it.
    /// </summary>
    private async Task SyncAsync(RedisTopic state)
    {
        while (true)
        {
            string? known;
            long from;
            long arrivals;
            lock (state.Lock)
            {
                if (state.Removed)
                {
                    state.Syncing = false;
                    return;
                }

                known = state.Epoch;
                from = known is null ? 0 : state.Last + 1;
                arrivals = state.Arrivals;
                state.Resync = false;
            }

            Range range = await ReadRangeAsync(state.Name, state.Keys, known ?? "", from, restart: true, CancellationToken.None).ConfigureAwait(false);
            lock (state.Lock)
            {
                if (state.Removed || !IsConnected)
                {
                    ReleaseAll(range.Messages);
                    state.Syncing = false; // the recovery after the reconnect syncs again
                    return;
                }

                Apply(state, range, arrivals);
                if (!state.Resync && state.Pending.Count == 0)
                {
                    state.Syncing = false;
                    return;
                }
            }
        }
    }

    // Under state.Lock.
    private void Apply(RedisTopic state, Range range, long arrivalsBeforeRead)
    {
        if (state.Epoch is null)
        {
            // First sync: the node's subscribers start at the stream's current position.
            if (state.Local)
            {
                Discontinuity(state, new StreamPosition(range.Epoch, range.Seq));
            }

            SetEpoch(state, range.Epoch);
            state.Last = range.Seq;
            state.Local = false;
        }
        else
        {
            bool mustReset = state.Local; // the subscribers are at local positions
            foreach (TopicMessage message in range.Messages)
            {
                StreamPosition position = message.Position;
                bool same = string.Equals(position.Epoch, state.Epoch, StringComparison.Ordinal);
                if (same && position.Offset <= state.Last)
                {
                    message.Release();
                    continue;
                }

                if (mustReset || !same || position.Offset != state.Last + 1)
                {
                    Discontinuity(state, new StreamPosition(position.Epoch, position.Offset - 1));
                    mustReset = false;
                    SetEpoch(state, position.Epoch);
                }

                state.Local = false;
                state.Last = position.Offset;
                Interlocked.Increment(ref _fetched);
                Deliver(message);
            }

            // What the stream no longer has (or never kept) up to its end, or up to the first message that waits in
            // Pending: the subscribers must hear of the gap.
            bool sameStream = string.Equals(range.Epoch, state.Epoch, StringComparison.Ordinal);
            long after = sameStream ? state.Last : 0;
            long resume = range.Seq;
            foreach (Pending pending in state.Pending)
            {
                StreamPosition waiting = pending.Message.Position;
                if (waiting.Offset > after && waiting.Offset <= resume && string.Equals(waiting.Epoch, range.Epoch, StringComparison.Ordinal))
                {
                    resume = waiting.Offset - 1;
                }
            }

            if (mustReset || !sameStream || state.Last < resume)
            {
                Discontinuity(state, new StreamPosition(range.Epoch, resume));
                SetEpoch(state, range.Epoch);
                state.Last = resume;
            }

            state.Local = false;
        }

        range.Messages.Clear();
        int done = 0;
        for (; done < state.Pending.Count; done++)
        {
            Pending pending = state.Pending[done];
            TopicMessage message = pending.Message;
            bool same = string.Equals(message.Position.Epoch, state.Epoch, StringComparison.Ordinal);
            if (same && message.Position.Offset <= state.Last)
            {
                Interlocked.Increment(ref _duplicates);
                message.Release();
            }
            else if (same && message.Position.Offset == state.Last + 1)
            {
                state.Last = message.Position.Offset;
                Deliver(message);
            }
            else if (pending.Arrival > arrivalsBeforeRead)
            {
                break; // arrived after the read: another round reads the stream again
            }
            else if (same)
            {
                // Published before the read, and what precedes it is neither in the stream nor here: a gap to report.
                Discontinuity(state, new StreamPosition(state.Epoch!, message.Position.Offset - 1));
                state.Last = message.Position.Offset;
                Deliver(message);
            }
            else
            {
                // Published before the read, which saw another epoch: an older stream, already accounted for.
                message.Release();
            }
        }

        state.Pending.RemoveRange(0, done);
    }

    // Under state.Lock: hands the message (and its reference) to the sink.
    private void Deliver(TopicMessage message)
    {
        try
        {
            Sink.OnMessage(message);
        }
        finally
        {
            message.Release();
        }
    }

    private void Discontinuity(RedisTopic state, StreamPosition current)
    {
        Interlocked.Increment(ref _resets);
        _log.LogWarning("redis backplane: '{Topic}' continues at {Epoch}:{Offset}; the messages in between are not available", state.Name, current.Epoch, current.Offset);
        Sink.OnDiscontinuity(state.Name, current);
    }

    private static void SetEpoch(RedisTopic state, string epoch)
    {
        if (!string.Equals(state.Epoch, epoch, StringComparison.Ordinal))
        {
            state.Epoch = epoch;
            state.EpochUtf8 = Encoding.UTF8.GetBytes(epoch);
        }
    }

    /// <summary>
    /// The stream's position and its entries from <paramref name="from"/> (0: none) up to that position. With
    /// <paramref name="restart"/>, a stream in another epoch than <paramref name="knownEpoch"/> is read from 1.
    /// </summary>
    private async Task<Range> ReadRangeAsync(string topic, RedisKeys keys, string knownEpoch, long from, bool restart, CancellationToken cancellationToken)
    {
        string candidate = _candidateEpoch;
        var answer = (RedisResult[])(await _db.ScriptEvaluateAsync(RedisScripts.Read, [keys.Meta, keys.Stream],
            [candidate, _expiryMs, knownEpoch, from, ReadChunk, restart ? "1" : "0"]).WaitAsync(cancellationToken).ConfigureAwait(false))!;
        string epoch = (string)answer[0]!;
        if (string.Equals(epoch, candidate, StringComparison.Ordinal))
        {
            _candidateEpoch = NextEpoch();
        }

        long seq = (long)answer[1];
        var range = new Range(epoch, seq, (long)answer[2], long.MaxValue, []);
        long firstTime = long.MaxValue;
        long last = 0;
        try
        {
            foreach (RedisResult entry in (RedisResult[])answer[3]!)
            {
                var parts = (RedisResult[])entry!;
                last = AddEntry(topic, epoch, (string)parts[0]!, (RedisValue[])parts[1]!, range.Messages, ref firstTime);
            }

            // Longer ranges continue in chunks; entries are immutable, so only a trim in between can make a hole,
            // which the caller sees as offsets that do not follow.
            while (range.Messages.Count > 0 && last < seq)
            {
                StreamEntry[] more = await _db.StreamRangeAsync(keys.Stream, $"{last + 1}-0", $"{seq}-0", ReadChunk).WaitAsync(cancellationToken).ConfigureAwait(false);
                if (more.Length == 0)
                {
                    break;
                }

                foreach (StreamEntry entry in more)
                {
                    RedisValue[] fields = new RedisValue[entry.Values.Length * 2];
                    for (int i = 0; i < entry.Values.Length; i++)
                    {
                        fields[2 * i] = entry.Values[i].Name;
                        fields[(2 * i) + 1] = entry.Values[i].Value;
                    }

                    last = AddEntry(topic, epoch, entry.Id!, fields, range.Messages, ref firstTime);
                }
            }
        }
        catch
        {
            ReleaseAll(range.Messages);
            throw;
        }

        return range with { FirstTimeMs = firstTime };
    }

    // A stream entry: id "<offset>-0", fields y (t|b), t (ms), d (payload).
    private static long AddEntry(string topic, string epoch, string id, RedisValue[] fields, List<TopicMessage> into, ref long firstTime)
    {
        int dash = id.IndexOf('-', StringComparison.Ordinal);
        long offset = long.Parse(dash < 0 ? id : id[..dash], System.Globalization.CultureInfo.InvariantCulture);
        MessageType type = MessageType.Text;
        long time = 0;
        ReadOnlyMemory<byte> payload = default;
        for (int i = 0; i + 1 < fields.Length; i += 2)
        {
            switch ((string?)fields[i])
            {
                case "y": type = (string?)fields[i + 1] == "b" ? MessageType.Binary : MessageType.Text; break;
                case "t": time = (long)fields[i + 1]; break;
                case "d": payload = (ReadOnlyMemory<byte>)fields[i + 1]; break;
                default: break;
            }
        }

        if (into.Count == 0)
        {
            firstTime = time;
        }

        into.Add(TopicMessage.Create(topic, new StreamPosition(epoch, offset), type, payload.Span));
        return offset;
    }
}
