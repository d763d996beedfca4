using NATS.Client.Core;
using NATS.Client.JetStream.Models;
using NATS.Client.KeyValueStore;
using Sockeye.Topics;

namespace Sockeye.Nats;

// The stream: creating it, appending with optimistic concurrency, and reading a topic's last message and ranges
// (docs/scale-out.md, "NATS JetStream").
public sealed partial class NatsBackplane
{
    private static readonly NatsRawSerializer<ReadOnlyMemory<byte>> PayloadSerializer = NatsRawSerializer<ReadOnlyMemory<byte>>.Default;
    private static readonly NatsRawSerializer<byte[]> BytesSerializer = NatsRawSerializer<byte[]>.Default;
    private static readonly NatsRawSerializer<NatsMemoryOwner<byte>> ReplySerializer = NatsRawSerializer<NatsMemoryOwner<byte>>.Default;

    /// <summary>A message read from the stream, with its stream sequence and when it was stored.</summary>
    internal readonly record struct Fetched(TopicMessage Message, ulong Seq, long TimeMs);

    /// <summary>Messages of one topic read from the stream, with the topic's last position when read.</summary>
    internal sealed record Range(string Epoch, long Offset, ulong Seq, List<Fetched> Messages);

    /// <summary>
    /// The stream (every topic's subject, at most <see cref="NatsBackplaneOptions.HistoryPerTopic"/> messages per
    /// topic, aged out after <see cref="NatsBackplaneOptions.TopicExpiry"/>, direct gets allowed, everything stored
    /// republished for the nodes) and the two presence buckets. Created when missing, updated when the settings
    /// changed: after a NATS that lost its data comes back, they exist again before anything is published.
    /// </summary>
    private async Task EnsureStoreAsync()
    {
        var config = new StreamConfig(_layout.Stream, [_layout.StreamSubjects])
        {
            Storage = _options.FileStorage ? StreamConfigStorage.File : StreamConfigStorage.Memory,
            MaxMsgsPerSubject = _options.HistoryPerTopic == 0 ? -1 : _options.HistoryPerTopic,
            MaxAge = _options.TopicExpiry,
            Discard = StreamConfigDiscard.Old,
            AllowDirect = true,
            // A topic's position is its last stored message: deleting that one alone would hand its offset out again.
            // Limits and purges only ever remove a topic's last message with all the others (a new epoch follows).
            DenyDelete = true,
            NumReplicas = 1,
            Republish = new Republish { Src = _layout.StreamSubjects, Dest = _layout.RepublishSubjects },
        };
        await _js.CreateOrUpdateStreamAsync(config, Stopping).ConfigureAwait(false);
        NatsKVStorageType storage = _options.FileStorage ? NatsKVStorageType.File : NatsKVStorageType.Memory;
        _presence = await _kv.CreateOrUpdateStoreAsync(new NatsKVConfig(_layout.PresenceBucket) { History = 1, MaxAge = _options.TopicExpiry, Storage = storage }, Stopping).ConfigureAwait(false);
        _nodes = await _kv.CreateOrUpdateStoreAsync(new NatsKVConfig(_layout.NodesBucket) { History = 1, MaxAge = _options.PresenceTimeout, Storage = storage }, Stopping).ConfigureAwait(false);
    }

    /// <summary>
    /// Appends one message at <paramref name="offset"/> if the topic's last stored message is still the one at stream
    /// sequence <paramref name="expected"/> (0: the topic has none). Returns its stream sequence, or a conflict.
    /// </summary>
    private async Task<(ulong Seq, bool Conflict)> AppendAsync(TopicSubjects subjects, string epoch, long offset, ulong expected, MessageType type, ReadOnlyMemory<byte> payload, CancellationToken cancellationToken)
    {
        var headers = new NatsHeaders
        {
            [NatsWire.Epoch] = epoch,
            [NatsWire.Offset] = offset.ToString(System.Globalization.CultureInfo.InvariantCulture),
            [NatsWire.Type] = type == MessageType.Binary ? "b" : "t",
            [NatsWire.ExpectedLastSubjectSequence] = expected.ToString(System.Globalization.CultureInfo.InvariantCulture),
        };
        for (int attempt = 0; ; attempt++)
        {
            NatsMsg<NatsMemoryOwner<byte>> reply;
            try
            {
                reply = await _nats.RequestAsync(subjects.Stream, payload, headers, PayloadSerializer, ReplySerializer, cancellationToken: cancellationToken).ConfigureAwait(false);
            }
            catch (NatsNoRespondersException) when (attempt == 0)
            {
                // Nobody stored it: the stream is gone (a NATS that lost its data). Create it and try again once.
                _tails.Clear();
                await EnsureStoreAsync().ConfigureAwait(false);
                continue;
            }

            using NatsMemoryOwner<byte> data = reply.Data;
            (ulong seq, int errorCode, string? error) = NatsWire.ParsePubAck(data.Memory.Span);
            if (errorCode == NatsWire.WrongLastSequence)
            {
                return (0, true);
            }

            if (error is not null || seq == 0)
            {
                throw new NatsException($"jetstream refused the publish: {error ?? "no sequence"}");
            }

            return (seq, false);
        }
    }

    /// <summary>The topic's last stored message (the marker that opens an epoch included), or null when it has none.</summary>
    private async Task<Tail?> ReadTailAsync(TopicSubjects subjects, CancellationToken cancellationToken)
    {
        NatsMsg<NatsMemoryOwner<byte>> reply = await DirectGetAsync(subjects, null, cancellationToken).ConfigureAwait(false);
        using NatsMemoryOwner<byte> data = reply.Data;
        if (IsNotFound(reply))
        {
            return null;
        }

        (string epoch, long offset, _, ulong seq) = ParseStored(reply.Headers);
        return new Tail(epoch, offset, seq);
    }

    /// <summary>
    /// The topic's last message; a topic without any gets a new epoch first, written as a marker at offset 0 (as a
    /// publish would), so every node that reads it agrees on the epoch before the first message.
    /// </summary>
    private async Task<Tail> EnsureTailAsync(string topic, TopicSubjects subjects, CancellationToken cancellationToken)
    {
        for (int attempt = 0; attempt < MaxPublishAttempts; attempt++)
        {
            if (await ReadTailAsync(subjects, cancellationToken).ConfigureAwait(false) is { } tail)
            {
                return tail;
            }

            string epoch = NextEpoch();
            (ulong seq, bool conflict) = await AppendAsync(subjects, epoch, 0, 0, MessageType.Text, ReadOnlyMemory<byte>.Empty, cancellationToken).ConfigureAwait(false);
            if (!conflict)
            {
                var opened = new Tail(epoch, 0, seq);
                RememberTail(topic, opened);
                return opened;
            }
        }

        throw new NatsException($"{MaxPublishAttempts} conflicting writes in a row on '{topic}'");
    }

    /// <summary>
    /// The topic's last position and its stored messages from offset <paramref name="from"/> (0: none) up to it,
    /// searched from stream sequence <paramref name="afterSeq"/> + 1 when known. With <paramref name="restart"/>, a
    /// topic in another epoch than <paramref name="knownEpoch"/> is read from offset 1. Messages no longer kept are
    /// simply absent: the caller sees offsets that do not follow.
    /// </summary>
    private async Task<Range> ReadRangeAsync(string topic, TopicSubjects subjects, string knownEpoch, long from, ulong afterSeq, bool restart, CancellationToken cancellationToken)
    {
        Tail tail = await EnsureTailAsync(topic, subjects, cancellationToken).ConfigureAwait(false);
        if (from > 0 && !string.Equals(tail.Epoch, knownEpoch, StringComparison.Ordinal))
        {
            from = restart ? 1 : 0;
            afterSeq = 0;
        }

        var range = new Range(tail.Epoch, tail.Offset, tail.Seq, []);
        if (from <= 0 || from > tail.Offset)
        {
            return range;
        }

        try
        {
            ulong seq = afterSeq > 0 ? afterSeq + 1 : await SeekAsync(subjects, tail, from, cancellationToken).ConfigureAwait(false);
            while (seq <= tail.Seq)
            {
                NatsMsg<NatsMemoryOwner<byte>> reply = await DirectGetAsync(subjects, seq, cancellationToken).ConfigureAwait(false);
                using NatsMemoryOwner<byte> data = reply.Data;
                if (IsNotFound(reply))
                {
                    break;
                }

                (string epoch, long offset, MessageType type, ulong stored) = ParseStored(reply.Headers);
                if (stored > tail.Seq)
                {
                    break;
                }

                seq = stored + 1;
                if (offset < from || offset == 0 || !string.Equals(epoch, tail.Epoch, StringComparison.Ordinal))
                {
                    continue;
                }

                long time = NatsWire.ParseTime(NatsWire.Header(reply.Headers, NatsWire.TimeStamp))?.ToUnixTimeMilliseconds() ?? 0;
                range.Messages.Add(new Fetched(TopicMessage.Create(topic, new StreamPosition(tail.Epoch, offset), type, data.Memory.Span), stored, time));
                if (offset >= tail.Offset)
                {
                    break;
                }
            }
        }
        catch
        {
            ReleaseAll(range.Messages);
            throw;
        }

        return range;
    }

    /// <summary>
    /// The stream sequence to read from for offset <paramref name="from"/>: offsets grow with sequences within a
    /// topic, so a binary search over "the topic's first message at or after sequence N" takes log2(sequences) reads
    /// instead of a walk through every kept message.
    /// </summary>
    private async Task<ulong> SeekAsync(TopicSubjects subjects, Tail tail, long from, CancellationToken cancellationToken)
    {
        ulong low = 1;
        ulong high = tail.Seq;
        while (low < high)
        {
            ulong middle = low + ((high - low) / 2);
            NatsMsg<NatsMemoryOwner<byte>> reply = await DirectGetAsync(subjects, middle, cancellationToken).ConfigureAwait(false);
            using NatsMemoryOwner<byte> data = reply.Data;
            if (IsNotFound(reply))
            {
                high = middle;
                continue;
            }

            (string epoch, long offset, _, ulong stored) = ParseStored(reply.Headers);
            if (stored <= tail.Seq && (offset < from || !string.Equals(epoch, tail.Epoch, StringComparison.Ordinal)))
            {
                low = stored + 1; // before the wanted offset (or a remnant of an older epoch): search after it
            }
            else
            {
                high = middle;
            }
        }

        return low;
    }

    // $JS.API.DIRECT.GET.<stream>: the topic's last message, or its first at or after a sequence (404 when none).
    private ValueTask<NatsMsg<NatsMemoryOwner<byte>>> DirectGetAsync(TopicSubjects subjects, ulong? nextFrom, CancellationToken cancellationToken) =>
        _nats.RequestAsync("$JS.API.DIRECT.GET." + _layout.Stream, NatsWire.DirectGet(subjects.Stream, nextFrom), null, BytesSerializer, ReplySerializer, cancellationToken: cancellationToken);

    private static bool IsNotFound(NatsMsg<NatsMemoryOwner<byte>> reply) => reply.Headers is { Code: 404 or 408 };

    private static (string Epoch, long Offset, MessageType Type, ulong Seq) ParseStored(NatsHeaders? headers)
    {
        if (headers is { Code: >= 300 } status)
        {
            throw new NatsException($"direct get failed: {status.Code} {status.MessageText}");
        }

        string? epoch = NatsWire.Header(headers, NatsWire.Epoch);
        if (epoch is null || !NatsWire.TryParseLong(NatsWire.Header(headers, NatsWire.Offset), out long offset)
            || !NatsWire.TryParseSeq(NatsWire.Header(headers, NatsWire.Sequence), out ulong seq))
        {
            throw new FormatException("a stored message without its Sockeye-Epoch, Sockeye-Offset or Nats-Sequence header");
        }

        return (epoch, offset, NatsWire.Header(headers, NatsWire.Type) == "b" ? MessageType.Binary : MessageType.Text, seq);
    }
}
