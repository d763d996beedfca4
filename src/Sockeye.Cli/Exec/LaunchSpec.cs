namespace Sockeye.Cli.Exec;

/// <summary>What to run: the resolved program, its arguments and its complete environment.</summary>
internal sealed record LaunchSpec(string FileName, IReadOnlyList<string> Arguments, IReadOnlyDictionary<string, string> Environment)
{
    /// <summary>The command as typed, for log lines.</summary>
    public string Display => string.Join(' ', Arguments.Prepend(FileName));
}
