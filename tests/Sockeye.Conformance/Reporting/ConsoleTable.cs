using Sockeye.Conformance.Judging;
using Sockeye.Conformance.Running;

namespace Sockeye.Conformance.Reporting;

/// <summary>One line per case on stdout, printed as soon as the case is judged.</summary>
internal static class ConsoleTable
{
    public static void WriteHeader(TextWriter output) => output.WriteLine($"{"case",-9} {"result",-13} {"ms",7}  reason");

    public static void WriteRow(TextWriter output, CaseOutcome outcome) =>
        output.WriteLine($"{outcome.Id,-9} {outcome.Verdict.Result.Display(),-13} {outcome.DurationMs,7}  {outcome.Verdict.Reason}");
}
