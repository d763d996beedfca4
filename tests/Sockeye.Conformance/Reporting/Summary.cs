using System.Globalization;
using Sockeye.Conformance.Judging;
using Sockeye.Conformance.Running;

namespace Sockeye.Conformance.Reporting;

/// <summary>Counts per grade.</summary>
internal sealed record Summary(int Passed, int NonStrict, int Failed, int Informational)
{
    public static Summary Of(IReadOnlyCollection<CaseOutcome> outcomes) => new(
        outcomes.Count(o => o.Verdict.Result == CaseResult.Ok),
        outcomes.Count(o => o.Verdict.Result == CaseResult.NonStrict),
        outcomes.Count(o => o.Verdict.Result == CaseResult.Failed),
        outcomes.Count(o => o.Verdict.Result == CaseResult.Informational));

    public override string ToString() => string.Create(
        CultureInfo.InvariantCulture, $"passed {Passed}, non-strict {NonStrict}, failed {Failed}, informational {Informational}");
}
