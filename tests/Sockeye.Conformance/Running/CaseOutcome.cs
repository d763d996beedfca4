using Sockeye.Conformance.Judging;

namespace Sockeye.Conformance.Running;

/// <summary>Everything recorded about one case run, for the console table and the reports.</summary>
internal sealed record CaseOutcome(string Id, string Description, Verdict Verdict, long DurationMs, IReadOnlyList<string> Transcript)
{
    /// <summary>The status code of the peer's Close frame, if it sent one.</summary>
    public ushort? PeerCloseCode { get; init; }

    /// <summary>Server mode: the exit code of the peer process (informational).</summary>
    public int? PeerExitCode { get; init; }
}
