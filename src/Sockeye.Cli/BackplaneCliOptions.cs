using System.CommandLine;

namespace Sockeye.Cli;

/// <summary>
/// The options every backplane of <c>serve --broadcast</c> has (docs/scale-out.md): <c>--NAME</c> (where its server
/// is), <c>--NAME-prefix</c> and <c>--NAME-presence-timeout</c>, checked alike.
/// </summary>
internal abstract class BackplaneCliOptions
{
    private readonly string _name;
    private readonly Option<string?> _address;
    private readonly Option<string> _prefix;
    private readonly Option<double> _presenceTimeout;

    protected BackplaneCliOptions(string name, string addressHelpName, string addressDescription, string prefixDescription, string defaultPrefix)
    {
        _name = name;
        _address = new Option<string?>("--" + name) { Description = addressDescription, HelpName = addressHelpName };
        _prefix = new Option<string>($"--{name}-prefix") { Description = prefixDescription, DefaultValueFactory = _ => defaultPrefix, HelpName = "PREFIX" };
        _presenceTimeout = new Option<double>($"--{name}-presence-timeout")
        {
            Description = $"With --{name}, seconds after which a node that stopped sending heartbeats (every third of it) leaves presence.",
            DefaultValueFactory = _ => 15,
            HelpName = "SECONDS",
        };
    }

    public void AddTo(Command command)
    {
        command.Options.Add(_address);
        command.Options.Add(_prefix);
        command.Options.Add(_presenceTimeout);
    }

    public bool Given(ParseResult parse) => Address(parse) is not null;

    /// <summary>An error message naming the option at fault, or null (also without the backplane's option).</summary>
    public string? Check(ParseResult parse, bool broadcast)
    {
        if (Address(parse) is not { } address)
        {
            return null;
        }

        double timeout = parse.GetValue(_presenceTimeout);
        return !broadcast ? $"--{_name} needs --broadcast"
            : CheckAddress(address) is { } addressError ? $"--{_name}: {addressError}"
            : CheckPrefix(Prefix(parse)) is { } prefixError ? $"--{_name}-prefix: {prefixError}"
            : !(timeout >= 0.3 && timeout <= 86_400) ? $"--{_name}-presence-timeout: {timeout} is not between 0.3 and 86400 seconds"
            : null;
    }

    /// <summary>The value of <c>--NAME</c>, or null.</summary>
    protected string? Address(ParseResult parse) => parse.GetValue(_address);

    protected string Prefix(ParseResult parse) => parse.GetValue(_prefix)!;

    protected TimeSpan PresenceTimeout(ParseResult parse) => TimeSpan.FromSeconds(parse.GetValue(_presenceTimeout));

    /// <summary>Why <paramref name="address"/> is not one, or null.</summary>
    protected abstract string? CheckAddress(string address);

    /// <summary>Why <paramref name="prefix"/> is not one, or null.</summary>
    protected abstract string? CheckPrefix(string? prefix);
}
