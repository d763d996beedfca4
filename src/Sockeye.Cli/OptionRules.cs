using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;

namespace Sockeye.Cli;

/// <summary>
/// What each numeric option accepts. A value outside it is a parse error of one line, <c>--port: 70000 is not a port
/// (0-65535)</c>, reported before anything starts (exit 2), instead of a crash (an out-of-range port, a TimeSpan
/// overflow) or a server that starts and then fails every connection (a negative message limit closes all with 1009).
/// </summary>
internal static class OptionRules
{
    /// <summary>Longest time option: below every timer's limit (Task.Delay, CancelAfter: ~24.8 days).</summary>
    public const double MaxSeconds = 1_000_000;

    // Errors about a value, not about the command line's syntax: they need no pointer to --help. (System.CommandLine
    // attaches them to the option's result, as it does a missing value, so only the message tells them apart.)
    private static readonly HashSet<string> s_valueErrors = [];

    private delegate bool TryParse<T>(string token, out T value);

    /// <summary>A TCP port, 0-65535 (0 = any free port).</summary>
    public static Option<int> Port(this Option<int> option) =>
        Whole(option, 0, 65535, "a port (0-65535)");

    /// <summary>A size in bytes, 1 or more.</summary>
    public static Option<long> Bytes(this Option<long> option) =>
        Rule(option, TryBytes, "a size in bytes (1 or more)");

    /// <summary>An optional size in bytes, 1 or more.</summary>
    public static Option<long?> Bytes(this Option<long?> option) =>
        Rule(option, (string token, out long? value) => Lift(TryBytes(token, out long v), v, out value), "a size in bytes (1 or more)");

    /// <summary>A whole number from <paramref name="min"/> to <paramref name="max"/>; <paramref name="what"/> names it in errors.</summary>
    public static Option<int> Whole(this Option<int> option, int min, int max, string what) =>
        Rule(option, (string token, out int value) => TryWhole(token, out value) && value >= min && value <= max, what);

    /// <summary>An optional whole number, <paramref name="min"/> or more.</summary>
    public static Option<int?> Whole(this Option<int?> option, int min, string what) =>
        Rule(option, (string token, out int? value) => Lift(TryWhole(token, out int v) && v >= min, v, out value), what);

    /// <summary>
    /// Seconds, finite and at most <see cref="MaxSeconds"/>; 0 allowed when <paramref name="zero"/> (where 0 means
    /// something, e.g. "off"), otherwise more than 0.
    /// </summary>
    public static Option<double> Seconds(this Option<double> option, bool zero) =>
        Rule(option, (string token, out double value) =>
                double.TryParse(token, NumberStyles.Float, CultureInfo.InvariantCulture, out value) && double.IsFinite(value)
                && (zero ? value >= 0 : value > 0) && value <= MaxSeconds,
            zero ? $"a time in seconds (0-{MaxSeconds:0})" : $"a time in seconds (more than 0, at most {MaxSeconds:0})");

    /// <summary>
    /// True when <paramref name="error"/> is a value refused by a rule here (its message says it all); false for
    /// syntax errors, including a missing value.
    /// </summary>
    public static bool IsValueError(System.CommandLine.Parsing.ParseError error)
    {
        lock (s_valueErrors)
        {
            return s_valueErrors.Contains(error.Message);
        }
    }

    private static bool TryBytes(string token, out long value) =>
        long.TryParse(token, NumberStyles.None, CultureInfo.InvariantCulture, out value) && value > 0;

    private static bool TryWhole(string token, out int value) =>
        int.TryParse(token, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out value);

    private static bool Lift<T>(bool ok, T parsed, out T? value)
        where T : struct
    {
        value = parsed;
        return ok;
    }

    /// <summary>Parses the option's value with <paramref name="parse"/>; an unacceptable one is one error line.</summary>
    private static Option<T> Rule<T>(Option<T> option, TryParse<T> parse, string what)
    {
        Func<ArgumentResult, T>? defaults = option.DefaultValueFactory;
        option.CustomParser = result =>
        {
            if (result.Tokens.Count == 0)
            {
                return defaults is null ? default! : defaults(result);
            }

            string token = result.Tokens[^1].Value;
            if (parse(token, out T value))
            {
                return value;
            }

            string message = $"{option.Name}: {token} is not {what}";
            lock (s_valueErrors)
            {
                s_valueErrors.Add(message);
            }

            result.AddError(message);
            return default!;
        };
        return option;
    }
}
