using System.Text.Json;
using Sockeye.Conformance.Judging;
using Sockeye.Conformance.Running;

namespace Sockeye.Conformance.Reporting;

/// <summary>
/// A JSON map case id → expected result ("OK", "NON-STRICT", "FAILED", "INFORMATIONAL") so CI fails on any change,
/// improvements included (then the file should be updated). Cases missing from the map must not fail. A value may
/// list alternatives, "OK|INFORMATIONAL", for cases whose grade follows a choice the RFC leaves to the peer (13.9.x).
/// </summary>
internal static class ExpectedResults
{
    public static IReadOnlyDictionary<string, IReadOnlySet<CaseResult>> Load(string path)
    {
        var raw = JsonSerializer.Deserialize<Dictionary<string, string>>(File.ReadAllText(path)) ?? [];
        var expected = new Dictionary<string, IReadOnlySet<CaseResult>>(StringComparer.Ordinal);
        foreach (var (id, text) in raw)
        {
            var results = new HashSet<CaseResult>();
            foreach (var alternative in text.Split('|', StringSplitOptions.TrimEntries))
            {
                results.Add(CaseResultNames.TryParse(alternative, out var result)
                    ? result
                    : throw new InvalidDataException($"{path}: case {id} has unknown result \"{alternative}\""));
            }

            expected[id] = results;
        }

        return expected;
    }

    /// <summary>One line per case whose result differs from the expectation.</summary>
    public static IReadOnlyList<string> Compare(IReadOnlyDictionary<string, IReadOnlySet<CaseResult>> expected, IEnumerable<CaseOutcome> outcomes)
    {
        var mismatches = new List<string>();
        foreach (var outcome in outcomes)
        {
            var actual = outcome.Verdict.Result;
            if (expected.TryGetValue(outcome.Id, out var want))
            {
                if (!want.Contains(actual))
                {
                    mismatches.Add($"{outcome.Id}: expected {string.Join(" or ", want.Select(w => w.Display()))}, got {actual.Display()} ({outcome.Verdict.Reason})");
                }
            }
            else if (actual == CaseResult.Failed)
            {
                mismatches.Add($"{outcome.Id}: not in the expected file and FAILED ({outcome.Verdict.Reason})");
            }
        }

        return mismatches;
    }
}
