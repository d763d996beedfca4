using System.Buffers.Text;
using System.Text;
using Microsoft.Extensions.Logging;
using Sockeye.Topics;
using Sockeye.Topics.Backplanes;
using StackExchange.Redis;
using StreamPosition = Sockeye.Topics.StreamPosition;

namespace Sockeye.Redis;

public sealed partial class RedisBackplane
{
    private const int ReadChunk = 1000;

    /// <summary>Messages of one topic read from its stream, with the stream's position when read.</summary>
    private sealed record Range(string Epoch, long Seq, long NowMs, long FirstTimeMs, List<TopicMessage> Messages);

    /// <inheritdoc/>
    protected override async Task ListenAsync(BackplaneTopic topic)
    {
        var state = (RedisTopic)topic;
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
            Log.LogWarning("redis backplane: malformed message on '{Topic}' ignored: {Reason}", state.Name, ex.Message);
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

        lock (state.Lock)
        {
            if (state.Delivery.Receive(rest[..newline], offset, type, rest[(newline + 1)..]))
            {
                StartSync(state);
            }
        }
    }

    private void OnProbe(RedisTopic state, ReadOnlySpan<byte> node)
    {
        if (!node.SequenceEqual(Encoding.UTF8.GetBytes(NodeId)))
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
            if (state.Delivery.IsSyncing)
            {
                state.Delivery.RequestResync();
            }
            else
            {
                StartSync(state);
            }
        }
    }

    // The sync of OrderedDelivery, reading the Redis stream; a read while Redis is down is dropped (the recovery syncs).
    /// <inheritdoc/>
    protected override Task SyncAsync(BackplaneTopic topic) => topic.Delivery.SyncAsync(async (known, from, _) =>
    {
        var state = (RedisTopic)topic;
        Range range = await ReadRangeAsync(state.Name, state.Keys, known ?? "", from, restart: true, CancellationToken.None).ConfigureAwait(false);
        var read = new StreamRange(range.Epoch, range.Seq, 0);
        foreach (TopicMessage message in range.Messages)
        {
            read.Add(message);
        }

        range.Messages.Clear();
        return read;
    }, () => IsConnected);

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
