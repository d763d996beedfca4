using Sockeye.Topics;

namespace Sockeye.Redis.Tests;

/// <summary>Real <c>sockeye serve --broadcast --redis</c> processes on one real Redis (the scenarios: <see cref="CliScenarios"/>).</summary>
public sealed class CliTests : CliScenarios
{
    private protected override string PresenceTimeoutOption => "--redis-presence-timeout";

    private protected override async Task<BackingServer> StartServerAsync() => await RedisServer.StartAsync();

    private protected override async Task<IScaleOutNode> StartWatcherAsync(BackingServer server, TimeSpan timeout) =>
        await Node.StartAsync((RedisServer)server, "watcher", new TopicOptions { Presence = true }, timeout, prefix: "cli:");
}
