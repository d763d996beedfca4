using System.Text.Json;
using Sockeye.Conformance.Judging;
using Sockeye.Conformance.Running;

namespace Sockeye.Conformance.Reporting;

/// <summary>
/// A JSON map case id → expected result ("OK", "NON-STRICT", "FAILED", "INFORMATIONAL") so CI fails on any change,
/// improvements included (then the file should be updated). Cases missing from the map must not fail.
/// </summary>
internal static class ExpectedResults
{
    public static IReadOnlyDictionary<string, CaseResult> Load(string path)
    {
        var raw = JsonSerializer.Deserialize<Dictionary<string, string>>(File.ReadAllText(path)) ?? [];
        var expected = new Dictionary<string, CaseResult>(StringComparer.Ordinal);
        foreach (var (id, text) in raw)
        {
            expected[id] = CaseResultNames.TryParse(text, out var result)
                ? result
                : throw new InvalidDataException($"{path}: case {id} has unknown result \"{text}\"");
        }

        return expected;
    }

    /// <summary>One line per case whose result differs from the expectation.</summary>
    public static IReadOnlyList<string> Compare(IReadOnlyDictionary<string, CaseResult> expected, IEnumerable<CaseOutcome> outcomes)
    {
        var mismatches = new List<string>();
        foreach (var outcome in outcomes)
        {
            var actual = outcome.Verdict.Result;
            if (expected.TryGetValue(outcome.Id, out var want))
            {
                if (want != actual)
                {
                    mismatches.Add($"{outcome.Id}: expected {want.Display()}, got {actual.Display()} ({outcome.Verdict.Reason})");
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
