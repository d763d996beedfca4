namespace Sockeye.Conformance.Judging;

/// <summary>Autobahn's grades, ordered from best to worst so that combining takes the maximum.</summary>
internal enum CaseResult
{
    Ok,
    Informational,
    NonStrict,
    Failed,
}

internal static class CaseResultNames
{
    public static string Display(this CaseResult result) => result switch
    {
        CaseResult.Ok => "OK",
        CaseResult.NonStrict => "NON-STRICT",
        CaseResult.Informational => "INFORMATIONAL",
        _ => "FAILED",
    };

    public static bool TryParse(string text, out CaseResult result)
    {
        foreach (var candidate in Enum.GetValues<CaseResult>())
        {
            if (string.Equals(candidate.Display(), text, StringComparison.OrdinalIgnoreCase))
            {
                result = candidate;
                return true;
            }
        }

        result = CaseResult.Failed;
        return false;
    }
}
