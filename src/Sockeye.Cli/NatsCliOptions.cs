using System.CommandLine;
using Microsoft.Extensions.Logging;
using Sockeye.Nats;
using Sockeye.Topics;

namespace Sockeye.Cli;

/// <summary><c>serve --broadcast --nats nats://HOST:PORT</c>: topics shared by every node on one NATS JetStream (docs/scale-out.md).</summary>
internal sealed class NatsCliOptions() : BackplaneCliOptions(
    "nats",
    "URL",
    "With --broadcast, share topics with every node on this NATS server (JetStream enabled): nats://HOST:PORT (tls:// for TLS; several URLs separated by commas). Messages reach subscribers on all nodes in one order, clients resume on any node, presence spans nodes (docs/scale-out.md).",
    "With --nats, the first subject tokens of everything the nodes use, and the base of the stream and bucket names (nodes of one application share it).",
    "sockeye")
{
    /// <summary>An error message naming the option at fault, or null.</summary>
    public string? Check(ParseResult parse, bool broadcast, bool redis) =>
        redis && Given(parse) ? "--nats and --redis cannot be combined: choose one backplane" : Check(parse, broadcast);

    /// <summary>The backplane, or null without <c>--nats</c>. Starts even while NATS is unreachable (it reconnects).</summary>
    public async Task<NatsBackplane?> ConnectAsync(ParseResult parse, TopicOptions topics, ILoggerFactory logging, CancellationToken cancellationToken)
    {
        if (Address(parse) is not { } url)
        {
            return null;
        }

        TimeSpan timeout = PresenceTimeout(parse);
        return await NatsBackplane.ConnectAsync(new NatsBackplaneOptions
        {
            Url = url,
            Prefix = Prefix(parse),
            PresenceTimeout = timeout,
            PresenceHeartbeat = timeout / 3,
            // The stream keeps what --history asks for (at least the last message: it carries the position); with
            // --history-seconds alone, no count limit.
            HistoryPerTopic = topics.HistorySize > 0 ? topics.HistorySize : topics.HistoryAge is not null ? 0 : 1,
            Logger = logging.CreateLogger("sockeye.nats"),
        }, cancellationToken).ConfigureAwait(false);
    }

    protected override string? CheckPrefix(string? prefix) => NatsSubjects.CheckPrefix(prefix);

    protected override string? CheckAddress(string urls)
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
