using System.Text.RegularExpressions;
using Sockeye.Conformance.Cases;

namespace Sockeye.Conformance.Running;

/// <summary>Comma-separated case selectors such as "1.*,6.4.*,9.3.1"; '*' matches any run of characters.</summary>
internal sealed class CasePatterns
{
    private readonly Regex[] _patterns;

    public CasePatterns(string? patterns)
    {
        var parts = (patterns ?? "*").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        _patterns = [.. parts.Select(p => new Regex($"^{Regex.Escape(p).Replace("\\*", ".*", StringComparison.Ordinal)}$", RegexOptions.CultureInvariant))];
    }

    public bool Matches(string caseId) => _patterns.Any(p => p.IsMatch(caseId));

    public IReadOnlyList<ConformanceCase> Select(IEnumerable<ConformanceCase> cases) => [.. cases.Where(c => Matches(c.Id))];
}
