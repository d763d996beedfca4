using CsCheck;
using Sockeye.Topics;

namespace Sockeye.Tests.Topics;

/// <summary>
/// Random interleavings of publish, subscribe (fresh or resuming from any position, including the exact oldest kept
/// one, one before it, and positions ahead of the stream), unsubscribe and disconnect, checked against a model: every
/// subscriber receives exactly the offsets after its starting point, each once, in order; a resume is recovered
/// exactly when the history still holds everything after the position.
/// </summary>
[Collection(nameof(SerialAllocationTests))]
public class TopicPropertyTests
{
    private abstract record Op;

    private sealed record Publish(int Count) : Op;

    private sealed record Subscribe(int? SinceBack) : Op; // resume from (published - SinceBack); may be negative = ahead

    private sealed record Leave(int Which, bool Disconnect) : Op;

    private static readonly Gen<Op> AnyOp = Gen.Frequency(
        (4, Gen.Int[1, 12].Select(n => (Op)new Publish(n))),
        (3, Gen.Int[-2, 30].Nullable().Select(back => (Op)new Subscribe(back))),
        (1, Gen.Select(Gen.Int[0, 20], Gen.Bool).Select((which, disconnect) => (Op)new Leave(which, disconnect))));

    [Fact]
    public void Interleavings_never_lose_duplicate_or_reorder_a_message_still_in_history()
    {
        Gen.Select(Gen.Int[1, 16], AnyOp.Array[1, 40]).Sample((historySize, ops) =>
            RunAsync(historySize, ops).GetAwaiter().GetResult(), iter: 150, threads: 1);
    }

    private static async Task RunAsync(int historySize, Op[] ops)
    {
        var options = new TopicOptions { HistorySize = historySize, MaxQueuedMessages = 100_000, MaxQueuedBytes = 1L << 30 };
        await using var hub = new TopicHub(new TopicHubOptions { Topics = options });
        var live = new List<(TopicPeer Peer, long Start)>();
        var left = new List<TopicPeer>();
        long published = 0;
        string epoch = (await hub.PublishTextAsync("t", "1")).Epoch;
        published = 1;
        try
        {
            foreach (Op op in ops)
            {
                switch (op)
                {
                    case Publish p:
                        for (int i = 0; i < p.Count; i++)
                        {
                            StreamPosition position = await hub.PublishTextAsync("t", (published + 1).ToString(System.Globalization.CultureInfo.InvariantCulture));
                            Assert.Equal(++published, position.Offset);
                            Assert.Equal(epoch, position.Epoch);
                        }

                        break;
                    case Subscribe s:
                        {
                            TopicPeer peer = TopicPeer.Plain(maxSendBuffer: 16 * 1024 * 1024);
                            if (s.SinceBack is { } back)
                            {
                                long since = Math.Max(0, published - back);
                                HistoryRead read = await hub.SubscribeAsync(peer.Server, "t", new StreamPosition(epoch, since));
                                // Model: kept are the last `historySize` offsets; resumable iff everything after `since`
                                // is kept (since ≥ oldest kept − 1) and `since` is not ahead of the stream.
                                bool expected = since <= published && since >= published - historySize;
                                Assert.Equal(expected, read.Recovered);
                                live.Add((peer, read.Recovered ? since : read.Current.Offset));
                            }
                            else
                            {
                                HistoryRead read = await hub.SubscribeAsync(peer.Server, "t");
                                Assert.Equal(published, read.Current.Offset);
                                live.Add((peer, read.Current.Offset));
                            }

                            break;
                        }

                    case Leave l when live.Count > 0:
                        {
                            (TopicPeer peer, _) = live[l.Which % live.Count];
                            live.RemoveAt(l.Which % live.Count);
                            if (l.Disconnect)
                            {
                                await peer.DisposeAsync();
                            }
                            else
                            {
                                Assert.True(await hub.UnsubscribeAsync(peer.Server, "t"));
                                left.Add(peer);
                            }

                            break;
                        }
                }
            }

            long end = (await hub.PublishTextAsync("t", "end")).Offset;
            foreach ((TopicPeer peer, long start) in live)
            {
                for (long offset = start + 1; offset < end; offset++)
                {
                    Assert.Equal(offset.ToString(System.Globalization.CultureInfo.InvariantCulture), await peer.ReceiveTextAsync());
                }

                Assert.Equal("end", await peer.ReceiveTextAsync());
            }
        }
        finally
        {
            foreach ((TopicPeer peer, _) in live)
            {
                await peer.DisposeAsync();
            }

            foreach (TopicPeer peer in left)
            {
                await peer.DisposeAsync();
            }
        }

    }
}
