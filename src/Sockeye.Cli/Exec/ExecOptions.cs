using System.CommandLine;
using System.Globalization;

namespace Sockeye.Cli.Exec;

/// <summary>The <c>sockeye serve</c> options that bridge connections to programs or sockets, and their validation.</summary>
internal sealed class ExecOptions
{
    public Option<string?> Exec { get; } = new("--exec")
    {
        Description = "Run COMMAND for each connection: each text message becomes a line on its stdin, each stdout line a message. Split with sh-like quoting, not run by a shell.",
        HelpName = "COMMAND",
    };

    public Option<DirectoryInfo?> Dir { get; } = new("--dir")
    {
        Description = "Like --exec, with every executable in DIR as its own endpoint: /name runs DIR/name.",
        HelpName = "DIR",
    };

    public Option<string?> Proxy { get; } = new("--proxy")
    {
        Description = "Bridge each connection to a new connection to tcp://HOST:PORT or unix:PATH (lines, or bytes with --binary).",
        HelpName = "URL",
    };

    public Option<string?> ExecShared { get; } = new("--exec-shared")
    {
        Description = "Run one COMMAND per path for all its connections: every message goes to its stdin, every stdout line to every connection.",
        HelpName = "COMMAND",
    };

    public Option<bool> Binary { get; } = new("--binary")
    {
        Description = "Raw byte chunks both ways (binary messages) instead of lines and text messages.",
    };

    public Option<double> CloseGrace { get; } = new("--close-grace")
    {
        Description = "Seconds a program has after EOF on stdin before SIGTERM, and after SIGTERM before SIGKILL.",
        DefaultValueFactory = _ => 2,
        HelpName = "SECONDS",
    };

    public Option<int> MaxForks { get; } = new("--max-forks")
    {
        Description = "Most programs (or backend connections) running at once; beyond it upgrades are refused with 503. 0 = no limit.",
        HelpName = "N",
    };

    public Option<string[]> PassEnv { get; } = new("--passenv")
    {
        Description = "Pass the server's environment variable(s) NAME[,NAME...] on to programs (repeatable). Only PATH is passed otherwise.",
        HelpName = "NAMES",
    };

    public Option<bool> TagConnections { get; } = new("--tag-connections")
    {
        Description = "With --exec-shared: prefix stdin lines with 'ID<TAB>'; a stdout line 'ID<TAB>text' goes only to connection ID.",
    };

    public IEnumerable<Option> All => [Exec, Dir, Proxy, ExecShared, Binary, CloseGrace, MaxForks, PassEnv, TagConnections];

    /// <summary>
    /// Validates the options. Returns false with an error for bad usage or a program that cannot be run; true with
    /// null settings when no bridge was asked for (the echo server).
    /// </summary>
    public bool TryBuild(ParseResult parse, long maxMessage, out ExecSettings? settings, out string error)
    {
        settings = null;
        error = string.Empty;
        string? exec = parse.GetValue(Exec);
        DirectoryInfo? dir = parse.GetValue(Dir);
        string? proxy = parse.GetValue(Proxy);
        string? shared = parse.GetValue(ExecShared);
        int chosen = (exec is null ? 0 : 1) + (dir is null ? 0 : 1) + (proxy is null ? 0 : 1) + (shared is null ? 0 : 1);
        if (chosen > 1)
        {
            error = "use only one of --exec, --dir, --proxy, --exec-shared";
            return false;
        }

        double grace = parse.GetValue(CloseGrace);
        int maxForks = parse.GetValue(MaxForks);
        bool tag = parse.GetValue(TagConnections);
        if (chosen == 0)
        {
            // Options with defaults have an implicit result; only ones typed on the command line count.
            bool stray = new Option[] { Binary, CloseGrace, MaxForks, PassEnv, TagConnections }
                .Any(o => parse.GetResult(o) is { Implicit: false });
            error = stray ? "--binary, --close-grace, --max-forks, --passenv and --tag-connections need --exec, --dir, --proxy or --exec-shared" : string.Empty;
            return !stray;
        }

        if (grace is < 0 or > 3600 || double.IsNaN(grace))
        {
            error = "--close-grace must be between 0 and 3600 seconds";
            return false;
        }

        if (maxForks < 0)
        {
            error = "--max-forks must be 0 (no limit) or more";
            return false;
        }

        if (tag && (shared is null || parse.GetValue(Binary)))
        {
            error = "--tag-connections needs --exec-shared, in line mode (not --binary)";
            return false;
        }

        // Programs are started in process groups of their own with posix_spawn and found again through /proc.
        if (proxy is null && !OperatingSystem.IsLinux())
        {
            error = "--exec, --dir and --exec-shared need Linux (process groups, /proc); --proxy works everywhere";
            return false;
        }

        var result = new ExecSettings
        {
            Mode = ExecMode.Exec,
            Binary = parse.GetValue(Binary),
            CloseGrace = TimeSpan.FromSeconds(grace),
            MaxForks = maxForks,
            PassEnv = [.. (parse.GetValue(PassEnv) ?? []).SelectMany(v => v.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))],
            TagConnections = tag,
            MaxMessage = (int)Math.Clamp(maxMessage, 1, Array.MaxLength - 1),
        };

        if (exec is not null || shared is not null)
        {
            string option = exec is not null ? "--exec" : "--exec-shared";
            if (!CommandSplitter.TrySplit(exec ?? shared!, out List<string> words, out string splitError))
            {
                error = $"{option}: {splitError}";
                return false;
            }

            // Resolve now, so a typo is reported at startup and not on every connection.
            if (ExecutableResolver.Resolve(words[0], out string resolveError) is not { } program)
            {
                error = $"{option}: cannot run {words[0]}: {resolveError}";
                return false;
            }

            words[0] = program;
            settings = result with { Mode = exec is not null ? ExecMode.Exec : ExecMode.Shared, Command = words };
            return true;
        }

        if (dir is not null)
        {
            if (!dir.Exists)
            {
                error = $"--dir: directory not found: {dir.FullName}";
                return false;
            }

            settings = result with { Mode = ExecMode.Dir, Directory = dir.FullName };
            return true;
        }

        if (ProxyTarget.TryParse(proxy!, out string proxyError) is not { } target)
        {
            error = proxyError;
            return false;
        }

        settings = result with { Mode = ExecMode.Proxy, Proxy = target };
        return true;
    }

    /// <summary>One line for the startup log.</summary>
    public static string Describe(ExecSettings settings) => settings.Mode switch
    {
        ExecMode.Exec => $"running {string.Join(' ', settings.Command)} per connection",
        ExecMode.Dir => $"running the programs in {settings.Directory} per connection (/name)",
        ExecMode.Proxy => $"bridging connections to {settings.Proxy!.Display}",
        _ => $"one shared {string.Join(' ', settings.Command)} per path",
    } + (settings.Binary ? ", binary" : ", lines") + (settings.MaxForks > 0 ? string.Create(CultureInfo.InvariantCulture, $", at most {settings.MaxForks}") : string.Empty);
}
