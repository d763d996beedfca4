using System.CommandLine;

namespace Sockeye.Cli;

/// <summary>
/// Command-line errors, reported in place of System.CommandLine's default (the errors followed by the whole help,
/// which pushes the error itself off screen): one line per error on stderr, and for a syntax error one more line
/// that points at the command's help. Exit status 2, the usage-error convention.
/// </summary>
internal static class ParseErrors
{
    public const int ExitCode = 2;

    public static async Task<int> ReportAsync(ParseResult parse)
    {
        TextWriter stderr = Console.Error;
        bool syntax = false;
        foreach (string message in parse.Errors.Select(e => e.Message).Distinct())
        {
            await stderr.WriteLineAsync($"sockeye: {message}").ConfigureAwait(false);
        }

        foreach (System.CommandLine.Parsing.ParseError error in parse.Errors)
        {
            syntax |= !OptionRules.IsValueError(error);
        }

        if (syntax)
        {
            await stderr.WriteLineAsync($"see '{CommandPath(parse.CommandResult.Command)} --help'").ConfigureAwait(false);
        }

        return ExitCode;
    }

    /// <summary>"sockeye serve" for the serve command: the names from the root down.</summary>
    private static string CommandPath(Command command)
    {
        var names = new List<string>();
        for (Command? c = command; c is not null; c = c.Parents.OfType<Command>().FirstOrDefault())
        {
            names.Insert(0, c is RootCommand ? "sockeye" : c.Name);
        }

        return string.Join(' ', names);
    }
}
