using System.Text.Json;
using Sockeye.Tests.Topics;
using Sockeye.Topics;

namespace Sockeye.ScaleOut.Tests;

/// <summary>One in-process node (a hub on its own backplane), as the shared scenarios use it.</summary>
internal interface IScaleOutNode : IAsyncDisposable
{
    TopicHub Hub { get; }

    /// <summary>True while the node's backplane reaches its server.</summary>
    bool IsConnected { get; }

    /// <summary>Discontinuities this node's backplane reported to its subscribers.</summary>
    long Resets { get; }

    /// <summary>A sockeye.v1 peer subscribed to <paramref name="topic"/> (the `subscribed` frame returned).</summary>
    Task<(TopicPeer Peer, JsonElement Subscribed)> SubscribeV1Async(string topic, string extra = "");
}
