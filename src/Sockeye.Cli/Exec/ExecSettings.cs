namespace Sockeye.Cli.Exec;

/// <summary>Which bridge <c>sockeye serve</c> runs.</summary>
internal enum ExecMode
{
    /// <summary><c>--exec</c>: a process per connection.</summary>
    Exec,
    /// <summary><c>--dir</c>: a process per connection, the program chosen by path.</summary>
    Dir,
    /// <summary><c>--proxy</c>: a backend socket per connection.</summary>
    Proxy,
    /// <summary><c>--exec-shared</c>: one process per path for all its connections.</summary>
    Shared,
}

/// <summary>The validated bridge options of <c>sockeye serve</c>.</summary>
internal sealed record ExecSettings
{
    public required ExecMode Mode { get; init; }

    /// <summary>Program (resolved full path) and arguments, for Exec and Shared.</summary>
    public IReadOnlyList<string> Command { get; init; } = [];

    /// <summary>The directory of programs, for Dir.</summary>
    public string Directory { get; init; } = string.Empty;

    /// <summary>The backend, for Proxy.</summary>
    public ProxyTarget? Proxy { get; init; }

    public bool Binary { get; init; }

    public TimeSpan CloseGrace { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>Most live processes (or backend connections); 0 for no limit.</summary>
    public int MaxForks { get; init; }

    /// <summary>Names of the server's environment variables passed on to programs.</summary>
    public IReadOnlyList<string> PassEnv { get; init; } = [];

    public bool TagConnections { get; init; }

    /// <summary>Longest line (or largest chunk) sent as one message, in bytes: --max-message.</summary>
    public int MaxMessage { get; init; } = 1024 * 1024;
}
