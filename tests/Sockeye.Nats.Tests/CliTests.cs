using Sockeye.Topics;

namespace Sockeye.Nats.Tests;

/// <summary>Real <c>sockeye serve --broadcast --nats</c> processes on one real nats-server (the shared scenarios: <see cref="CliScenarios"/>).</summary>
public sealed class CliTests : CliScenarios
{
    private protected override string PresenceTimeoutOption => "--nats-presence-timeout";

    private protected override async Task<BackingServer> StartServerAsync() => await NatsServer.StartAsync();

    private protected override async Task<IScaleOutNode> StartWatcherAsync(BackingServer server, TimeSpan timeout) =>
        await Node.StartAsync((NatsServer)server, "watcher", new TopicOptions { Presence = true }, timeout, prefix: "cli");

    [Theory]
    [InlineData("--nats and --redis cannot be combined", "--broadcast", "--redis", "127.0.0.1:6379", "--nats", "nats://127.0.0.1:4222")]
    [InlineData("--nats needs --broadcast", "--nats", "nats://127.0.0.1:4222")]
    [InlineData("--nats: 'http://127.0.0.1:4222' is not", "--broadcast", "--nats", "http://127.0.0.1:4222")]
    [InlineData("--nats: give nats://HOST:PORT", "--broadcast", "--nats", " ")]
    [InlineData("--nats-prefix: the prefix 'a.*' must be", "--broadcast", "--nats", "nats://127.0.0.1:4222", "--nats-prefix", "a.*")]
    [InlineData("--nats-prefix: the prefix 'a..b' must be", "--broadcast", "--nats", "nats://127.0.0.1:4222", "--nats-prefix", "a..b")]
    [InlineData("--nats-presence-timeout: 0.1 is not between", "--broadcast", "--nats", "nats://127.0.0.1:4222", "--nats-presence-timeout", "0.1")]
    public async Task Bad_nats_options_exit_2_with_one_line_naming_the_option(string expected, params string[] args)
    {
        (int exit, string error) = await CliNode.RunAsync(["serve", "--port", "0", .. args]);
        Assert.Equal(2, exit);
        string line = Assert.Single(error.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        Assert.StartsWith("sockeye: " + expected, line, StringComparison.Ordinal);
    }
}
