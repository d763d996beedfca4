using System.Net;

namespace Sockeye.Cli.Bench;

/// <summary>Which protocol the fan-out clients speak on top of WebSocket.</summary>
internal enum FanoutProtocol
{
    /// <summary>Plain WebSocket: one text message per publish (Sockeye <c>serve --broadcast</c>, Node <c>ws</c>).</summary>
    WebSocket,

    /// <summary>
    /// Socket.IO v5 over Engine.IO v4 on the WebSocket transport: <c>42["m","PAYLOAD"]</c> per publish, <c>2</c>/<c>3</c>
    /// pings answered.
    /// </summary>
    SocketIo,
}

/// <summary>Parsed and validated options of one <c>sockeye bench --fanout</c> run.</summary>
internal sealed record FanoutSettings
{
    /// <summary>The smallest payload that holds the sequence number and the send time.</summary>
    public const int MinSize = FanoutPayload.HeaderLength;

    /// <summary>Receive buffers are this large; a message must fit (Socket.IO adds its envelope).</summary>
    public const int MaxSize = 4096;

    public required string Url { get; init; }

    public int Subscribers { get; init; } = 100;

    public int Size { get; init; } = 64;

    /// <summary>Saturation: messages not yet delivered to every subscriber that the publisher may have out.</summary>
    public int Window { get; init; } = 16;

    /// <summary>Messages per second at a fixed rate, or 0 to saturate (bounded by <see cref="Window"/>).</summary>
    public double Rate { get; init; }

    public double DurationSeconds { get; init; } = 10;

    public double WarmupSeconds { get; init; } = 2;

    public bool Json { get; init; }

    public int ServerPid { get; init; }

    /// <summary>
    /// Further processes sampled with <see cref="ServerPid"/> (the other nodes of a scale-out run and their broker):
    /// their CPU seconds and RSS are added to the server's.
    /// </summary>
    public IReadOnlyList<int> ExtraServerPids { get; init; } = [];

    /// <summary>
    /// Where the subscribers connect, round-robin (subscriber i to entry i mod count): the nodes of a scale-out run.
    /// Empty: all on <see cref="Url"/>. The publisher always connects to <see cref="Url"/>.
    /// </summary>
    public IReadOnlyList<string> SubscriberUrls { get; init; } = [];

    /// <summary>The file a <c>serve --broadcast</c> with SOCKEYE_REPORT_ALLOCATIONS keeps rewriting, or null.</summary>
    public string? ServerAllocationFile { get; init; }

    public IReadOnlyList<IPAddress> SourceAddresses { get; init; } = [];

    public int ConnectConcurrency { get; init; } = 128;

    public FanoutProtocol Protocol { get; init; } = FanoutProtocol.WebSocket;

    public bool Saturate => Rate == 0;

    /// <returns>A message describing the first invalid option, or null.</returns>
    public string? Validate() =>
        Subscribers < 1 ? "--subscribers must be at least 1"
        : Size < MinSize || Size > MaxSize - 64 ? $"--size must be between {MinSize} and {MaxSize - 64} with --fanout (the payload holds a sequence number and a send time)"
        : Window < 1 || Window > FanoutLedger.Capacity / 2 ? $"--window must be between 1 and {FanoutLedger.Capacity / 2}"
        : Rate < 0 || double.IsNaN(Rate) || double.IsInfinity(Rate) ? "--rate must be a positive number of messages per second"
        : DurationSeconds <= 0 ? "--duration must be positive"
        : WarmupSeconds < 0 ? "--warmup must not be negative"
        : ConnectConcurrency < 1 ? "--connect-concurrency must be at least 1"
        : ExtraServerPids.Any(pid => pid <= 0) ? "--server-pids: process ids are positive"
        : ExtraServerPids.Count > 0 && ServerPid <= 0 ? "--server-pids needs --server-pid"
        : null;
}
