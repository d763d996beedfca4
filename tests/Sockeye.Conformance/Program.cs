using Sockeye.Conformance;
using Sockeye.Conformance.Cases;
using Sockeye.Conformance.Judging;
using Sockeye.Conformance.Reporting;
using Sockeye.Conformance.Running;

// An independent RFC 6455 judge modelled on the Autobahn TestSuite; it deliberately shares no code with Sockeye.
if (args is ["selftest"])
{
    return Sockeye.Conformance.Deflate.CodecSelfTest.Run(Console.Out);
}

var (options, error) = CommandLineOptions.Parse(args);
if (options is null)
{
    Console.Error.WriteLine($"error: {error}");
    Console.Error.WriteLine(CommandLineOptions.Usage);
    return 2;
}

var cases = new CasePatterns(options.Cases).Select(CaseCatalog.All);
if (cases.Count == 0)
{
    Console.Error.WriteLine($"error: no case matches \"{options.Cases}\"");
    return 2;
}

if (options.Mode == "list")
{
    foreach (var c in cases)
    {
        Console.WriteLine($"{c.Id,-9} {c.Description}");
    }

    Console.WriteLine($"{cases.Count} cases");
    return 0;
}

var expected = options.ExpectedFile is { } expectedFile ? ExpectedResults.Load(expectedFile) : null;
var timeouts = Timeouts.Default.Scale(options.TimeoutScale);
var deflate = new DeflateExpectations(options.DeflateThreshold, options.RequireDeflate);
using var serverHost = options.Mode == "server"
    ? new ServerModeHost(options.Port!.Value, options.PeerCommand!, options.PeerDeflateCommand, timeouts, deflate, options.TimeoutScale)
    : null;
ICaseHost host = serverHost ?? (ICaseHost)new ClientModeHost(options.Url!, timeouts, deflate, options.TimeoutScale);

Console.WriteLine(serverHost is null
    ? $"sockeye-conformance client mode: {cases.Count} cases against {options.Url}"
    : $"sockeye-conformance server mode: {cases.Count} cases on port {serverHost.Port}, peer: {options.PeerCommand}");
ConsoleTable.WriteHeader(Console.Out);

// Sequential on purpose: cases must not disturb each other, and server mode has a single listener.
var outcomes = new List<CaseOutcome>();
foreach (var testCase in cases)
{
    var outcome = await host.RunAsync(testCase);
    outcomes.Add(outcome);
    ConsoleTable.WriteRow(Console.Out, outcome);
}

var summary = Summary.Of(outcomes);
Console.WriteLine(summary);

if (options.ReportDirectory is { } reportDirectory)
{
    ReportWriter.Write(reportDirectory, options.Mode, host.Target, outcomes);
    Console.WriteLine($"report written to {Path.GetFullPath(reportDirectory)}");
}

if (expected is null)
{
    return summary.Failed == 0 ? 0 : 1;
}

var mismatches = ExpectedResults.Compare(expected, outcomes);
foreach (var mismatch in mismatches)
{
    Console.WriteLine($"EXPECTATION MISMATCH {mismatch}");
}

Console.WriteLine(mismatches.Count == 0 ? "all results as expected" : $"{mismatches.Count} result(s) differ from {options.ExpectedFile}");
return mismatches.Count == 0 ? 0 : 1;
