using System.Net;

namespace Sockeye.Cli.Bench;

/// <summary>Parsed and validated options of one <c>sockeye bench</c> run.</summary>
internal sealed record BenchSettings
{
    public required string Url { get; init; }

    public int Connections { get; init; } = 1;

    public int Size { get; init; } = 64;

    public int Window { get; init; } = 1;

    public double DurationSeconds { get; init; } = 10;

    public double WarmupSeconds { get; init; } = 2;

    public bool Text { get; init; }

    public bool Json { get; init; }

    public bool RawBaseline { get; init; }

    /// <summary>When positive, hold this many idle connections instead of generating load.</summary>
    public int Idle { get; init; }

    public IReadOnlyList<IPAddress> SourceAddresses { get; init; } = [];

    public int ServerPid { get; init; }

    public int ConnectConcurrency { get; init; } = 128;

    public PayloadKind Payload { get; init; } = PayloadKind.Pattern;

    /// <summary>The Sec-WebSocket-Extensions offer (permessage-deflate), or null for no compression.</summary>
    public string? DeflateOffer { get; init; }

    public bool Deflate => DeflateOffer is not null;

    /// <summary>
    /// With deflate: every Nth connection checks all echo contents, the others only their first.
    /// Inflating every echo costs the client about 1 µs per message, far below what any server
    /// reaches with compression, so the default checks everything.
    /// </summary>
    public int VerifyEvery { get; init; } = 1;

    /// <summary>With <see cref="Idle"/>: each connection exchanges one message before going idle.</summary>
    public bool IdleEcho { get; init; }

    /// <returns>A message describing the first invalid option, or null.</returns>
    public string? Validate() =>
        Connections < 1 ? "--connections must be at least 1"
        : Size < 0 ? "--size must not be negative"
        : Window < 1 ? "--window must be at least 1"
        : DurationSeconds <= 0 ? "--duration must be positive"
        : WarmupSeconds < 0 ? "--warmup must not be negative"
        : Idle < 0 ? "--idle must not be negative"
        : ConnectConcurrency < 1 ? "--connect-concurrency must be at least 1"
        : VerifyEvery < 1 ? "--verify-every must be at least 1"
        : Deflate && RawBaseline ? "--deflate cannot be combined with --raw-baseline (a byte-copy echo returns the client's frames)"
        : Payload == PayloadKind.Json && !Text ? "--payload json sends text messages; drop --binary"
        : IdleEcho && Idle == 0 ? "--idle-echo needs --idle"
        : null;
}
