using System.Text.Json;
using Sockeye.Tests.Topics;

namespace Sockeye.ScaleOut.Tests;

/// <summary>
/// Scale-out scenarios that hold for every backplane in the same words: in-process nodes (a hub each, on its own
/// backplane) on one real server. Each test project's <c>ScaleOutTests</c> derives from this and adds its own.
/// </summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1052", Justification = "xunit runs the inherited facts on each backplane's derived class.")]
public abstract class ScaleOutScenarios
{
    /// <summary>Starts the backplane's server.</summary>
    private protected abstract Task<BackingServer> StartServerAsync();

    /// <summary>A node named <paramref name="name"/> on <paramref name="server"/>, with the default topic options.</summary>
    private protected abstract Task<IScaleOutNode> StartNodeAsync(BackingServer server, string name);

    [Fact]
    public async Task Subscribers_on_every_node_get_every_message_from_publishers_on_every_node_in_one_order()
    {
        await using BackingServer server = await StartServerAsync();
        var nodes = new List<IScaleOutNode>();
        var peers = new List<TopicPeer>();
        try
        {
            foreach (string name in new[] { "a", "b", "c" })
            {
                IScaleOutNode node = await StartNodeAsync(server, name);
                nodes.Add(node);
                for (int i = 0; i < 2; i++)
                {
                    peers.Add((await node.SubscribeV1Async("room")).Peer);
                }
            }

            const int PerNode = 100;
            await Task.WhenAll(nodes.Select((node, n) => Task.Run(async () =>
            {
                for (int i = 0; i < PerNode; i++)
                {
                    await node.Hub.PublishTextAsync("room", $"{n}-{i:000}");
                }
            })));

            List<string>? first = null;
            foreach (TopicPeer peer in peers)
            {
                var texts = new List<string>();
                string? epoch = null;
                for (int i = 1; i <= 3 * PerNode; i++)
                {
                    JsonElement msg = await peer.ExpectOpAsync("msg");
                    epoch ??= msg.GetProperty("epoch").GetString();
                    Assert.Equal(epoch, msg.GetProperty("epoch").GetString());
                    Assert.Equal(i, msg.GetProperty("offset").GetInt64()); // 1..300: none lost, none twice
                    texts.Add(msg.GetProperty("text").GetString()!);
                }

                first ??= texts;
                Assert.Equal(first, texts); // the same order on every node
                for (int n = 0; n < 3; n++)
                {
                    Assert.Equal(Enumerable.Range(0, PerNode).Select(i => $"{n}-{i:000}"), texts.Where(t => t.StartsWith($"{n}-", StringComparison.Ordinal)));
                }
            }

            // Nothing after the 300th: the next message anyone gets is this marker.
            await nodes[0].Hub.PublishTextAsync("room", "end");
            foreach (TopicPeer peer in peers)
            {
                Assert.Equal("end", (await peer.ExpectOpAsync("msg")).GetProperty("text").GetString());
            }

            Assert.All(nodes, node => Assert.Equal(0, node.Resets));
        }
        finally
        {
            foreach (TopicPeer peer in peers)
            {
                await peer.DisposeAsync();
            }

            foreach (IScaleOutNode node in nodes)
            {
                await node.DisposeAsync();
            }
        }
    }
}
