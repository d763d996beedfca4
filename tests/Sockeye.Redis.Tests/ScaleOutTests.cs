using Sockeye.Topics;
using StackExchange.Redis;

namespace Sockeye.Redis.Tests;

public class ScaleOutTests : ScaleOutScenarios
{
    private protected override async Task<BackingServer> StartServerAsync() => await RedisServer.StartAsync();

    private protected override async Task<IScaleOutNode> StartNodeAsync(BackingServer server, string name, TopicOptions? topics = null) =>
        await Node.StartAsync((RedisServer)server, name, topics);

    // As if pub/sub lost it: the script runs but publishes on a channel nobody listens to.
    private protected override Task PublishMissedAsync(BackingServer server, IScaleOutNode receiver, IScaleOutNode publisher, string text, bool kept) =>
        PublishUnannouncedAsync((RedisServer)server, "t", text, keep: kept ? 100 : 0);

    // m2, and m3 that the read filling the gap already sees.
    private protected override void AssertFetchedInPlace(IScaleOutNode receiver) => Assert.Equal(2, ((Node)receiver).Backplane.Counters.Fetched);

    // Runs the publish script exactly as a node does, except that its pub/sub message goes nowhere.
    private static async Task PublishUnannouncedAsync(RedisServer redis, string topic, string text, int keep)
    {
        await using ConnectionMultiplexer connection = await ConnectionMultiplexer.ConnectAsync(redis.Configuration);
        var keys = new RedisKeys("test:", topic);
        await connection.GetDatabase().ScriptEvaluateAsync(RedisScripts.Publish, [keys.Meta, keys.Stream],
            ["unused", 60_000, "nowhere", "t", text, keep, 0]);
    }
}
