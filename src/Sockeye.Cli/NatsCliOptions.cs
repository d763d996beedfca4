using System.CommandLine;
using Microsoft.Extensions.Logging;
using Sockeye.Nats;
using Sockeye.Topics;

namespace Sockeye.Cli;

/// <summary><c>serve --broadcast --nats nats://HOST:PORT</c>: topics shared by every node on one NATS JetStream (docs/scale-out.md).</summary>
internal sealed class NatsCliOptions
{
    private readonly Option<string?> _nats = new("--nats") { Description = "With --broadcast, share topics with every node on this NATS server (JetStream enabled): nats://HOST:PORT (tls:// for TLS; several URLs separated by commas). Messages reach subscribers on all nodes in one order, clients resume on any node, presence spans nodes (docs/scale-out.md)." };
    private readonly Option<string> _prefix = new("--nats-prefix") { Description = "With --nats, the first subject tokens of everything the nodes use, and the base of the stream and bucket names (nodes of one application share it).", DefaultValueFactory = _ => "sockeye" };
    private readonly Option<double> _presenceTimeout = new("--nats-presence-timeout") { Description = "With --nats, seconds after which a node that stopped sending heartbeats (every third of it) leaves presence.", DefaultValueFactory = _ => 15 };

    public void AddTo(Command command)
    {
        _nats.HelpName = "URL";
        _prefix.HelpName = "PREFIX";
        _presenceTimeout.HelpName = "SECONDS";
        command.Options.Add(_nats);
        command.Options.Add(_prefix);
        command.Options.Add(_presenceTimeout);
    }

    public bool Given(ParseResult parse) => parse.GetValue(_nats) is not null;

    /// <summary>An error message naming the option at fault, or null.</summary>
    public string? Check(ParseResult parse, bool broadcast, bool redis)
    {
        string? nats = parse.GetValue(_nats);
        if (nats is null)
        {
            return null;
        }

        double timeout = parse.GetValue(_presenceTimeout);
        return redis ? "--nats and --redis cannot be combined: choose one backplane"
            : !broadcast ? "--nats needs --broadcast"
            : CheckUrls(nats) is { } urlError ? $"--nats: {urlError}"
            : NatsSubjects.CheckPrefix(parse.GetValue(_prefix)) is { } prefixError ? $"--nats-prefix: {prefixError}"
            : !(timeout >= 0.3 && timeout <= 86_400) ? $"--nats-presence-timeout: {timeout} is not between 0.3 and 86400 seconds"
            : null;
    }

    /// <summary>The backplane, or null without <c>--nats</c>. Starts even while NATS is unreachable (it reconnects).</summary>
    public async Task<NatsBackplane?> ConnectAsync(ParseResult parse, TopicOptions topics, ILoggerFactory logging, CancellationToken cancellationToken)
    {
        if (parse.GetValue(_nats) is not { } url)
        {
            return null;
        }

        TimeSpan timeout = TimeSpan.FromSeconds(parse.GetValue(_presenceTimeout));
        return await NatsBackplane.ConnectAsync(new NatsBackplaneOptions
        {
            Url = url,
            Prefix = parse.GetValue(_prefix)!,
            PresenceTimeout = timeout,
            PresenceHeartbeat = timeout / 3,
            // The stream keeps what --history asks for (at least the last message: it carries the position); with
            // --history-seconds alone, no count limit.
            HistoryPerTopic = topics.HistorySize > 0 ? topics.HistorySize : topics.HistoryAge is not null ? 0 : 1,
            Logger = logging.CreateLogger("sockeye.nats"),
        }, cancellationToken).ConfigureAwait(false);
    }

    private static string? CheckUrls(string urls)
    {
        if (string.IsNullOrWhiteSpace(urls))
        {
            return "give nats://HOST:PORT";
        }

        foreach (string url in urls.Split(','))
        {
            if (!Uri.TryCreate(url.Trim(), UriKind.Absolute, out Uri? uri) || uri.Scheme is not ("nats" or "tls" or "ws" or "wss") || string.IsNullOrEmpty(uri.Host))
            {
                return $"'{url.Trim()}' is not a nats://HOST:PORT (or tls://, ws://, wss://) URL";
            }
        }

        return null;
    }
}
