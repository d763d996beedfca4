using System.CommandLine;
using Microsoft.Extensions.Logging;
using Sockeye.Redis;

namespace Sockeye.Cli;

/// <summary><c>serve --broadcast --redis HOST:PORT</c>: topics shared by every node on one Redis (docs/scale-out.md).</summary>
internal sealed class RedisCliOptions
{
    private readonly Option<string?> _redis = new("--redis") { Description = "With --broadcast, share topics with every node on this Redis: HOST:PORT, or a StackExchange.Redis configuration (host:port,password=...,ssl=true,defaultDatabase=N). Messages reach subscribers on all nodes in one order, clients resume on any node, presence spans nodes (docs/scale-out.md)." };
    private readonly Option<string> _prefix = new("--redis-prefix") { Description = "With --redis, the prefix of every key and channel (nodes of one application share it).", DefaultValueFactory = _ => "sockeye:" };
    private readonly Option<double> _presenceTimeout = new("--redis-presence-timeout") { Description = "With --redis, seconds after which a node that stopped sending heartbeats (every third of it) leaves presence.", DefaultValueFactory = _ => 15 };

    public void AddTo(Command command)
    {
        _redis.HelpName = "HOST:PORT";
        _prefix.HelpName = "PREFIX";
        _presenceTimeout.HelpName = "SECONDS";
        command.Options.Add(_redis);
        command.Options.Add(_prefix);
        command.Options.Add(_presenceTimeout);
    }

    public bool Given(ParseResult parse) => parse.GetValue(_redis) is not null;

    /// <summary>An error message naming the option at fault, or null.</summary>
    public string? Check(ParseResult parse, bool broadcast)
    {
        string? redis = parse.GetValue(_redis);
        if (redis is null)
        {
            return null;
        }

        double timeout = parse.GetValue(_presenceTimeout);
        return !broadcast ? "--redis needs --broadcast"
            : string.IsNullOrWhiteSpace(redis) ? "--redis: give HOST:PORT"
            : string.IsNullOrEmpty(parse.GetValue(_prefix)) ? "--redis-prefix: must not be empty"
            : !(timeout >= 0.3 && timeout <= 86_400) ? $"--redis-presence-timeout: {timeout} is not between 0.3 and 86400 seconds"
            : null;
    }

    /// <summary>The backplane, or null without <c>--redis</c>. Starts even while Redis is unreachable (it reconnects).</summary>
    public async Task<RedisBackplane?> ConnectAsync(ParseResult parse, ILoggerFactory logging, CancellationToken cancellationToken)
    {
        if (parse.GetValue(_redis) is not { } configuration)
        {
            return null;
        }

        TimeSpan timeout = TimeSpan.FromSeconds(parse.GetValue(_presenceTimeout));
        return await RedisBackplane.ConnectAsync(new RedisBackplaneOptions
        {
            Configuration = configuration,
            KeyPrefix = parse.GetValue(_prefix)!,
            PresenceTimeout = timeout,
            PresenceHeartbeat = timeout / 3,
            Logger = logging.CreateLogger("sockeye.redis"),
        }, cancellationToken).ConfigureAwait(false);
    }
}
