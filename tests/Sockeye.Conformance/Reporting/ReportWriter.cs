using System.Globalization;
using System.Text;
using System.Text.Json;
using Sockeye.Conformance.Judging;
using Sockeye.Conformance.Running;

namespace Sockeye.Conformance.Reporting;

/// <summary>
/// Writes report.json (everything, including transcripts), report.md (a readable table) and results.json
/// (case id → result, directly usable as an --expected file).
/// </summary>
internal static class ReportWriter
{
    private static readonly JsonSerializerOptions JsonOptions = new()
    {
        WriteIndented = true,
        // The report is read by people and tools, never embedded in HTML: keep quotes and '+' readable.
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull,
    };

    public static void Write(string directory, string mode, string target, IReadOnlyList<CaseOutcome> outcomes)
    {
        Directory.CreateDirectory(directory);
        var summary = Summary.Of(outcomes);

        var report = new
        {
            Tool = "sockeye-conformance",
            Mode = mode,
            Target = target,
            FinishedUtc = DateTime.UtcNow.ToString("O", CultureInfo.InvariantCulture),
            Summary = summary,
            Cases = outcomes.Select(o => new
            {
                o.Id,
                Result = o.Verdict.Result.Display(),
                o.Verdict.Reason,
                o.Description,
                o.DurationMs,
                o.PeerCloseCode,
                o.PeerExitCode,
                o.Transcript,
            }),
        };
        File.WriteAllText(Path.Combine(directory, "report.json"), JsonSerializer.Serialize(report, JsonOptions));

        var results = outcomes.ToDictionary(o => o.Id, o => o.Verdict.Result.Display());
        File.WriteAllText(Path.Combine(directory, "results.json"), JsonSerializer.Serialize(results, JsonOptions));

        File.WriteAllText(Path.Combine(directory, "report.md"), Markdown(mode, target, summary, outcomes));
    }

    private static string Markdown(string mode, string target, Summary summary, IReadOnlyList<CaseOutcome> outcomes)
    {
        var md = new StringBuilder();
        md.AppendLine(CultureInfo.InvariantCulture, $"# Sockeye conformance report ({mode} mode)");
        md.AppendLine();
        md.AppendLine(CultureInfo.InvariantCulture, $"Target: `{target}`");
        md.AppendLine();
        md.AppendLine(CultureInfo.InvariantCulture, $"**{summary}**");
        md.AppendLine();
        md.AppendLine("| Case | Result | ms | Reason | Description |");
        md.AppendLine("|---|---|---:|---|---|");
        foreach (var o in outcomes)
        {
            var exit = o.PeerExitCode is { } code ? $" (peer exit {code})" : "";
            md.AppendLine(CultureInfo.InvariantCulture, $"| {o.Id} | {o.Verdict.Result.Display()} | {o.DurationMs} | {Cell(o.Verdict.Reason)}{exit} | {Cell(o.Description)} |");
        }

        return md.ToString();
    }

    private static string Cell(string text) => text.Replace("|", "\\|", StringComparison.Ordinal).Replace("\n", " ", StringComparison.Ordinal);
}
