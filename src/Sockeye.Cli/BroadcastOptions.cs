using System.CommandLine;
using Microsoft.Extensions.Logging;
using Sockeye.Server;
using Sockeye.Topics;

namespace Sockeye.Cli;

/// <summary>
/// <c>serve --broadcast</c>: every path is a topic (docs/topics.md). Plain clients publish what they send to their
/// path's topic and receive everything published there, their own messages included; <c>sockeye.v1</c> clients
/// (<c>sockeye.js</c>) get the whole protocol: any topic, history and resume, presence, acknowledgements.
/// </summary>
internal sealed class BroadcastOptions
{
    private readonly Option<bool> _broadcast = new("--broadcast") { Description = "Publish every message received on a path to the topic named by the path and deliver it to every connection on that path, sender included. sockeye.v1 clients (sockeye.js, served at /sockeye.js) get topics, history, resume and presence (docs/topics.md)." };
    private readonly Option<int> _history = new("--history") { Description = "With --broadcast or --exec-shared, keep the last N messages of each topic (path) so reconnecting sockeye.js clients resume without loss (0 = off).", DefaultValueFactory = _ => 0 };
    private readonly Option<double> _historySeconds = new("--history-seconds") { Description = "With --broadcast or --exec-shared, keep each topic's messages for this many seconds for resume (0 = no age limit; alone, it is the only limit).", DefaultValueFactory = _ => 0 };
    private readonly Option<string> _slow = new("--slow-subscriber") { Description = "With --broadcast, what happens to a subscriber that cannot keep up: close (1008), drop-oldest (it is told the gap) or wait (publishers wait).", DefaultValueFactory = _ => "close" };
    private readonly Option<int> _maxQueued = new("--max-queued-messages") { Description = "With --broadcast, messages queued per subscriber before --slow-subscriber applies.", DefaultValueFactory = _ => 1024 };
    private readonly Option<long> _maxQueuedBytes = new("--max-queued-bytes") { Description = "With --broadcast, bytes queued per subscriber before --slow-subscriber applies.", DefaultValueFactory = _ => 1024 * 1024 };
    private readonly Option<bool> _presence = new("--presence") { Description = "With --broadcast, track who is subscribed to each topic and send join/leave events to sockeye.v1 clients." };

    public IEnumerable<Option> All => [_broadcast, _history, _historySeconds, _slow, _maxQueued, _maxQueuedBytes, _presence];

    public void AddTo(Command command)
    {
        _history.HelpName = "N";
        _historySeconds.HelpName = "SECONDS";
        _slow.HelpName = "POLICY";
        _maxQueued.HelpName = "N";
        _maxQueuedBytes.HelpName = "BYTES";
        foreach (Option option in All)
        {
            command.Options.Add(option);
        }
    }

    public bool Enabled(ParseResult parse) => parse.GetValue(_broadcast);

    /// <summary>The topic settings, or an error message naming the option at fault.</summary>
    public TopicOptions? Build(ParseResult parse, out string? error)
    {
        error = null;
        int history = parse.GetValue(_history);
        double seconds = parse.GetValue(_historySeconds);
        int maxQueued = parse.GetValue(_maxQueued);
        long maxQueuedBytes = parse.GetValue(_maxQueuedBytes);
        if (history < 0)
        {
            error = $"--history: {history} is not a count (0 or more)";
        }
        else if (seconds < 0 || double.IsNaN(seconds) || seconds > TimeSpan.MaxValue.TotalSeconds / 2)
        {
            error = $"--history-seconds: {seconds} is not a duration (0 or more seconds)";
        }
        else if (maxQueued < 1)
        {
            error = $"--max-queued-messages: {maxQueued} must be at least 1";
        }
        else if (maxQueuedBytes < 1)
        {
            error = $"--max-queued-bytes: {maxQueuedBytes} must be at least 1";
        }

        SlowSubscriberPolicy policy = SlowSubscriberPolicy.Close;
        switch (parse.GetValue(_slow))
        {
            case "close": policy = SlowSubscriberPolicy.Close; break;
            case "drop-oldest": policy = SlowSubscriberPolicy.DropOldest; break;
            case "wait": policy = SlowSubscriberPolicy.Wait; break;
            default: error ??= $"--slow-subscriber: '{parse.GetValue(_slow)}' is not one of close, drop-oldest, wait"; break;
        }

        if (error is not null)
        {
            return null;
        }

        return new TopicOptions
        {
            HistorySize = history,
            HistoryAge = seconds > 0 ? TimeSpan.FromSeconds(seconds) : null,
            MaxQueuedMessages = maxQueued,
            MaxQueuedBytes = maxQueuedBytes,
            SlowSubscriberPolicy = policy,
            Presence = parse.GetValue(_presence),
        };
    }

    /// <summary>Maps the topics endpoint on every path.</summary>
    public static TopicHub Map(WebSocketServer server, TopicOptions topics, ILoggerFactory logging, ITopicBackplane? backplane = null)
    {
        var hub = new TopicHub(new TopicHubOptions { Topics = topics, Logger = logging.CreateLogger("sockeye.topics"), Backplane = backplane });
        server.MapTopics(null, hub);
        AllocationReport.StartIfRequested(() => (hub.Counters.Delivered, hub.Counters.Published));
        return hub;
    }
}
