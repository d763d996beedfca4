using System.Globalization;

namespace Sockeye.Conformance;

/// <summary>Parsed command line; see <see cref="Usage"/>.</summary>
internal sealed record CommandLineOptions(string Mode)
{
    public const string Usage =
        """
        usage:
          sockeye-conformance client --url ws://HOST:PORT/PATH [options]
              fuzzing client against an echo server
          sockeye-conformance server --port PORT --peer "COMMAND {url}" [options]
              fuzzing server; COMMAND (an echo client) is started per case with {url} = ws://127.0.0.1:PORT/<case id>
          sockeye-conformance list [--cases PATTERNS]
              print the cases

        options:
          --cases PATTERNS       comma-separated case ids, '*' as wildcard, e.g. "1.*,6.4.*,9.3.1" (default: all)
          --report DIR           write report.json, report.md and results.json to DIR
          --expected FILE        JSON map case id -> expected result; exit 1 on any difference instead of on FAILED
          --timeout-scale X      multiply every timeout by X (slow machines), default 1
          --peer-deflate COMMAND server mode: the echo client for groups 12 and 13 (permessage-deflate); {offer} in it
                                 is replaced by the parameters the case wants offered, shell-quoted (default: --peer)
          --deflate-threshold N  echoes of at least N bytes should come back compressed (default 32)
          --require-deflate      groups 12 and 13 fail, instead of being informational, when permessage-deflate
                                 cannot be negotiated
        """;

    public Uri? Url { get; init; }

    public int? Port { get; init; }

    public string? PeerCommand { get; init; }

    public string? Cases { get; init; }

    public string? ReportDirectory { get; init; }

    public string? ExpectedFile { get; init; }

    public double TimeoutScale { get; init; } = 1;

    public string? PeerDeflateCommand { get; init; }

    public int DeflateThreshold { get; init; } = 32;

    public bool RequireDeflate { get; init; }

    /// <summary>The options, or an error message.</summary>
    public static (CommandLineOptions? Options, string? Error) Parse(IReadOnlyList<string> args)
    {
        if (args.Count == 0 || args[0] is not ("client" or "server" or "list"))
        {
            return (null, "expected a mode: client, server or list");
        }

        var options = new CommandLineOptions(args[0]);
        for (var i = 1; i < args.Count; i++)
        {
            if (args[i] == "--require-deflate")
            {
                options = options with { RequireDeflate = true };
                continue;
            }

            if (i + 1 >= args.Count)
            {
                return (null, $"missing value after {args[i]}");
            }

            var value = args[++i];
            switch (args[i - 1])
            {
                case "--url" when Uri.TryCreate(value, UriKind.Absolute, out var url) && url.Scheme == "ws":
                    options = options with { Url = url };
                    break;
                case "--url":
                    return (null, $"--url must be a ws:// URL, got \"{value}\"");
                case "--port" when int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var port) && port <= 65535:
                    options = options with { Port = port };
                    break;
                case "--port":
                    return (null, $"--port must be a port number, got \"{value}\"");
                case "--peer":
                    options = options with { PeerCommand = value };
                    break;
                case "--peer-deflate":
                    options = options with { PeerDeflateCommand = value };
                    break;
                case "--deflate-threshold" when int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var threshold):
                    options = options with { DeflateThreshold = threshold };
                    break;
                case "--deflate-threshold":
                    return (null, $"--deflate-threshold must be a number of bytes, got \"{value}\"");
                case "--cases":
                    options = options with { Cases = value };
                    break;
                case "--report":
                    options = options with { ReportDirectory = value };
                    break;
                case "--expected":
                    options = options with { ExpectedFile = value };
                    break;
                case "--timeout-scale" when double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var scale) && scale > 0:
                    options = options with { TimeoutScale = scale };
                    break;
                case "--timeout-scale":
                    return (null, $"--timeout-scale must be a positive number, got \"{value}\"");
                default:
                    return (null, $"unknown option {args[i - 1]}");
            }
        }

        return options.Mode switch
        {
            "client" when options.Url is null => (null, "client mode needs --url"),
            "server" when options.Port is null || options.PeerCommand is null => (null, "server mode needs --port and --peer"),
            "server" when !options.PeerCommand!.Contains("{url}", StringComparison.Ordinal) => (null, "--peer must contain {url}"),
            "server" when options.PeerDeflateCommand is { } deflate && !deflate.Contains("{url}", StringComparison.Ordinal) => (null, "--peer-deflate must contain {url}"),
            _ => (options, null),
        };
    }
}
