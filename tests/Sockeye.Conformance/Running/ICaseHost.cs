using Sockeye.Conformance.Cases;

namespace Sockeye.Conformance.Running;

/// <summary>Provides the connection a case runs on: as fuzzing client (client mode) or fuzzing server (server mode).</summary>
internal interface ICaseHost
{
    /// <summary>What is being tested, for the reports.</summary>
    string Target { get; }

    Task<CaseOutcome> RunAsync(ConformanceCase testCase);
}
