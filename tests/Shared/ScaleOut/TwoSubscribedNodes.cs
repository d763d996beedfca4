using System.Text.Json;
using Sockeye.Tests.Topics;
using Sockeye.Topics;

namespace Sockeye.ScaleOut.Tests;

/// <summary>
/// The start of the outage scenarios of every backplane: two nodes on one server, a sockeye.v1 subscriber of <c>t</c>
/// on each, and <c>m1</c>…<c>mN</c> published from the nodes in turn (<c>b</c> first) and received by both.
/// </summary>
internal sealed class TwoSubscribedNodes<TNode> : IAsyncDisposable
    where TNode : IScaleOutNode
{
    private TwoSubscribedNodes(TNode a, TNode b)
    {
        A = a;
        B = b;
    }

    public TNode A { get; }

    public TNode B { get; }

    public TopicPeer OnA { get; private set; } = null!;

    public TopicPeer OnB { get; private set; } = null!;

    /// <summary>The epoch in the <c>subscribed</c> frame of each subscriber.</summary>
    public string EpochA { get; private set; } = "";

    public string EpochB { get; private set; } = "";

    /// <summary>The position of the last message published by <see cref="StartAsync"/>.</summary>
    public StreamPosition Last { get; private set; }

    /// <summary>What each subscriber received up to the last message published by <see cref="StartAsync"/>.</summary>
    public List<JsonElement> BeforeOnA { get; private set; } = [];

    public List<JsonElement> BeforeOnB { get; private set; } = [];

    public static async Task<TwoSubscribedNodes<TNode>> StartAsync(Func<string, Task<TNode>> startNode, int messages)
    {
        TNode a = await startNode("a");
        var nodes = new TwoSubscribedNodes<TNode>(a, await startNode("b"));
        (nodes.OnA, JsonElement subscribedA) = await a.SubscribeV1Async("t");
        (nodes.OnB, JsonElement subscribedB) = await nodes.B.SubscribeV1Async("t");
        nodes.EpochA = subscribedA.GetProperty("epoch").GetString()!;
        nodes.EpochB = subscribedB.GetProperty("epoch").GetString()!;
        for (int i = 1; i <= messages; i++)
        {
            nodes.Last = await (i % 2 == 0 ? a : nodes.B).Hub.PublishTextAsync("t", $"m{i}");
        }

        // Both have everything before what the test does next.
        nodes.BeforeOnA = await Frames.UntilTextAsync(nodes.OnA, $"m{messages}");
        nodes.BeforeOnB = await Frames.UntilTextAsync(nodes.OnB, $"m{messages}");
        return nodes;
    }

    /// <summary>Kills <paramref name="server"/> and waits until both nodes see it gone.</summary>
    public async Task KillServerAsync(BackingServer server)
    {
        await server.KillAsync();
        await BackingServer.WaitUntilAsync(() => !A.IsConnected && !B.IsConnected, "both nodes see the server gone");
    }

    /// <summary>Waits until both nodes are connected again (they reconnect by themselves).</summary>
    public Task BothReconnectedAsync() => BackingServer.WaitUntilAsync(() => A.IsConnected && B.IsConnected, "both nodes reconnect");

    /// <summary>
    /// While the server is away, a publish of <c>during</c> on <c>a</c>: delivered to a's subscriber at a position of a
    /// local epoch. Returns the position and what a's subscriber received up to it.
    /// </summary>
    public async Task<(StreamPosition Position, List<JsonElement> OnA)> PublishLocallyAsync()
    {
        StreamPosition local = await A.Hub.PublishTextAsync("t", "during");
        Assert.StartsWith("local-", local.Epoch, StringComparison.Ordinal);
        return (local, await Frames.UntilTextAsync(OnA, "during"));
    }

    public async ValueTask DisposeAsync()
    {
        await OnB.DisposeAsync();
        await OnA.DisposeAsync();
        await B.DisposeAsync();
        await A.DisposeAsync();
    }
}
