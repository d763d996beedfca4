using Sockeye.Conformance.Judging;

namespace Sockeye.Conformance.Cases;

/// <summary>One test case, identified like its Autobahn TestSuite counterpart so results can be compared.</summary>
internal sealed record ConformanceCase(string Id, string Description, Func<CaseContext, Task<Verdict>> Run)
{
    /// <summary>Safety net for the whole case; individual waits have their own, shorter, bounds.</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(60);
}
