using System.CommandLine;
using Microsoft.Extensions.Logging;
using Sockeye.Redis;

namespace Sockeye.Cli;

/// <summary><c>serve --broadcast --redis HOST:PORT</c>: topics shared by every node on one Redis (docs/scale-out.md).</summary>
internal sealed class RedisCliOptions() : BackplaneCliOptions(
    "redis",
    "HOST:PORT",
    "With --broadcast, share topics with every node on this Redis: HOST:PORT, or a StackExchange.Redis configuration (host:port,password=...,ssl=true,defaultDatabase=N). Messages reach subscribers on all nodes in one order, clients resume on any node, presence spans nodes (docs/scale-out.md).",
    "With --redis, the prefix of every key and channel (nodes of one application share it).",
    "sockeye:")
{
    /// <summary>The backplane, or null without <c>--redis</c>. Starts even while Redis is unreachable (it reconnects).</summary>
    public async Task<RedisBackplane?> ConnectAsync(ParseResult parse, ILoggerFactory logging, CancellationToken cancellationToken)
    {
        if (Address(parse) is not { } configuration)
        {
            return null;
        }

        TimeSpan timeout = PresenceTimeout(parse);
        return await RedisBackplane.ConnectAsync(new RedisBackplaneOptions
        {
            Configuration = configuration,
            KeyPrefix = Prefix(parse),
            PresenceTimeout = timeout,
            PresenceHeartbeat = timeout / 3,
            Logger = logging.CreateLogger("sockeye.redis"),
        }, cancellationToken).ConfigureAwait(false);
    }

    protected override string? CheckAddress(string address) => string.IsNullOrWhiteSpace(address) ? "give HOST:PORT" : null;

    protected override string? CheckPrefix(string? prefix) => string.IsNullOrEmpty(prefix) ? "must not be empty" : null;
}
