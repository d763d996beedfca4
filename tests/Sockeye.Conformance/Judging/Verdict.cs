namespace Sockeye.Conformance.Judging;

/// <summary>The grade of a case (or of one aspect of it) with a short human reason.</summary>
internal sealed record Verdict(CaseResult Result, string Reason)
{
    public static Verdict Ok(string reason) => new(CaseResult.Ok, reason);

    public static Verdict NonStrict(string reason) => new(CaseResult.NonStrict, reason);

    public static Verdict Failed(string reason) => new(CaseResult.Failed, reason);

    public static Verdict Informational(string reason) => new(CaseResult.Informational, reason);

    /// <summary>The worst of the parts; the reasons of the non-OK parts explain it (all reasons if everything is OK).</summary>
    public static Verdict Combine(params Verdict[] parts)
    {
        var worst = parts.Max(p => p.Result);
        var reasons = parts.Where(p => worst == CaseResult.Ok || p.Result != CaseResult.Ok).Select(p => p.Reason).Where(r => r.Length > 0);
        return new Verdict(worst, string.Join("; ", reasons));
    }
}
