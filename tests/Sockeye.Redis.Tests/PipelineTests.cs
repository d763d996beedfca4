using System.Text;
using System.Text.Json;
using Sockeye.Tests.Topics;
using Sockeye.Topics;

namespace Sockeye.Redis.Tests;

/// <summary>
/// What the hub's pipelined publishes rely on (<see cref="ITopicBackplane.PreservesPublishOrder"/>), against a real
/// redis-server: publishes issued one after another without awaiting are applied in call order.
/// </summary>
public class PipelineTests
{
    [Fact]
    public async Task Publishes_issued_without_awaiting_get_consecutive_offsets_in_call_order()
    {
        await using RedisServer redis = await RedisServer.StartAsync();
        await using Node node = await Node.StartAsync(redis, "a");
        Assert.True(node.Backplane.PreservesPublishOrder);
        var options = new TopicOptions { HistorySize = 1000 };
        const int Count = 500;
        var publishes = new Task<StreamPosition>[Count];
        for (int i = 0; i < Count; i++)
        {
            publishes[i] = node.Backplane.PublishAsync("ordered", options, MessageType.Text, Encoding.UTF8.GetBytes($"m{i}"), CancellationToken.None).AsTask();
        }

        StreamPosition[] positions = await Task.WhenAll(publishes).WaitAsync(TopicPeer.Timeout);
        string epoch = positions[0].Epoch;
        for (int i = 0; i < Count; i++)
        {
            Assert.Equal(new StreamPosition(epoch, i + 1), positions[i]);
        }

        var kept = new List<TopicMessage>();
        HistoryRead read = await node.Backplane.ReadAsync("ordered", new StreamPosition(epoch, 0), options, kept, CancellationToken.None);
        try
        {
            Assert.True(read.Recovered);
            Assert.Equal(Enumerable.Range(0, Count).Select(i => $"m{i}"), kept.Select(m => Encoding.UTF8.GetString(m.Payload.Span)));
        }
        finally
        {
            kept.ForEach(m => m.Release());
        }
    }

    [Fact]
    public async Task A_pipelining_v1_publisher_gets_acks_in_order_and_another_node_gets_every_message_in_order()
    {
        await using RedisServer redis = await RedisServer.StartAsync();
        await using Node a = await Node.StartAsync(redis, "a");
        await using Node b = await Node.StartAsync(redis, "b");
        (TopicPeer subscriber, JsonElement subscribed) = await b.SubscribeV1Async("room");
        await using TopicPeer subscriberPeer = subscriber;
        await using TopicPeer publisher = TopicPeer.V1(maxSendBuffer: 64L * 1024 * 1024);
        _ = a.Hub.HandleAsync(publisher.Server);
        await publisher.ExpectOpAsync("hello");
        const int Count = 300;
        for (int i = 1; i <= Count; i++)
        {
            await publisher.SendJsonAsync($$"""{"op":"pub","id":{{i}},"topic":"room","text":"m{{i}}"}""");
        }

        string epoch = subscribed.GetProperty("epoch").GetString()!;
        long first = 0;
        for (int i = 1; i <= Count; i++)
        {
            JsonElement ack = await publisher.ExpectOpAsync("ack");
            Assert.Equal(i, ack.GetProperty("id").GetInt64());
            first = i == 1 ? ack.GetProperty("offset").GetInt64() : first;
            Assert.Equal(first + i - 1, ack.GetProperty("offset").GetInt64());
        }

        List<JsonElement> frames = await Frames.UntilTextAsync(subscriber, $"m{Count}");
        Assert.Equal(Enumerable.Range(1, Count).Select(i => $"m{i}"), Frames.AssertContinuous(epoch, subscribed.GetProperty("offset").GetInt64(), frames));
    }
}
