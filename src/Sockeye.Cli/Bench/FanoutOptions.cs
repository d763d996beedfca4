using System.CommandLine;

namespace Sockeye.Cli.Bench;

/// <summary>The <c>sockeye bench --fanout</c> options; the URL, size, window, durations and connection options are shared.</summary>
internal sealed class FanoutOptions
{
    private const int DefaultWindow = 16;

    private readonly Option<bool> _fanout = new("--fanout")
    {
        Description = "Fan-out instead of echo: one publisher and --subscribers N clients on the URL's path (a Sockeye --broadcast topic, a broadcast server, a Socket.IO room); "
            + "reports deliveries/s, publish-to-last-delivery latency and the server's CPU per delivery",
    };

    private readonly Option<int> _subscribers = new("--subscribers") { Description = "With --fanout: subscriber connections", DefaultValueFactory = _ => 100 };

    private readonly Option<double> _rate = new("--rate")
    {
        Description = "With --fanout: publish this many messages per second (for latency); without it the publisher saturates, "
            + $"with --window messages (default {DefaultWindow}) not yet delivered to every subscriber",
    };

    private readonly Option<bool> _saturate = new("--saturate") { Description = "With --fanout: publish as fast as deliveries complete (the default without --rate)" };

    private readonly Option<FanoutProtocol> _protocol = new("--protocol")
    {
        Description = "With --fanout: websocket (plain text messages) or socketio (Socket.IO over the Engine.IO v4 WebSocket transport, event 'm')",
        DefaultValueFactory = _ => FanoutProtocol.WebSocket,
    };

    private readonly Option<string?> _serverAllocFile = new("--server-alloc-file")
    {
        Description = "With --fanout: the file a 'serve --broadcast' started with SOCKEYE_REPORT_ALLOCATIONS=FILE rewrites; reports the server's allocated bytes per delivery",
    };

    private readonly Option<string?> _subscriberUrls = new("--subscriber-urls")
    {
        Description = "With --fanout: comma-separated URLs the subscribers connect to, round-robin (the nodes of a scale-out set-up); the publisher connects to URL. Default: URL",
    };

    private readonly Option<string?> _serverPids = new("--server-pids")
    {
        Description = "With --fanout and --server-pid: comma-separated further processes (other nodes, their broker) whose CPU and memory are added to the server's",
    };

    public IEnumerable<Option> All => [_fanout, _subscribers, _rate, _saturate, _protocol, _serverAllocFile, _subscriberUrls, _serverPids];

    public bool Enabled(ParseResult parse) => parse.GetValue(_fanout);

    /// <summary>The fan-out settings, or an error naming the option at fault.</summary>
    public FanoutSettings? Build(ParseResult parse, BenchSettings common, Option<int> window, out string? error)
    {
        error = null;
        if (common.Idle > 0 || common.Deflate || common.RawBaseline || common.Payload != PayloadKind.Pattern || common.IdleEcho)
        {
            error = "--fanout cannot be combined with --idle, --idle-echo, --deflate, --raw-baseline or --payload";
            return null;
        }

        if (parse.GetValue(_saturate) && parse.GetResult(_rate) is { Implicit: false })
        {
            error = "--saturate and --rate exclude each other";
            return null;
        }

        double rate = parse.GetValue(_rate);
        if (parse.GetResult(_rate) is { Implicit: false } && !(rate > 0))
        {
            error = "--rate must be a positive number of messages per second";
            return null;
        }

        var pids = new List<int>();
        foreach (string pid in Split(parse.GetValue(_serverPids)))
        {
            if (!int.TryParse(pid, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int value))
            {
                error = $"--server-pids: not a process id: {pid}";
                return null;
            }

            pids.Add(value);
        }

        var settings = new FanoutSettings
        {
            Url = common.Url,
            Subscribers = parse.GetValue(_subscribers),
            Size = common.Size,
            Window = parse.GetResult(window) is { Implicit: false } ? common.Window : DefaultWindow,
            Rate = rate,
            DurationSeconds = common.DurationSeconds,
            WarmupSeconds = common.WarmupSeconds,
            Json = common.Json,
            ServerPid = common.ServerPid,
            ServerAllocationFile = parse.GetValue(_serverAllocFile),
            SourceAddresses = common.SourceAddresses,
            ConnectConcurrency = common.ConnectConcurrency,
            Protocol = parse.GetValue(_protocol),
            SubscriberUrls = Split(parse.GetValue(_subscriberUrls)),
            ExtraServerPids = pids,
        };
        error = settings.Validate();
        return error is null ? settings : null;
    }

    private static string[] Split(string? list) =>
        string.IsNullOrWhiteSpace(list) ? [] : list.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
}
