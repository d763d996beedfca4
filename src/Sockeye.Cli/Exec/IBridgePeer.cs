namespace Sockeye.Cli.Exec;

/// <summary>What a WebSocket connection is bridged to: a process per connection, or a backend socket.</summary>
internal interface IBridgePeer
{
    /// <summary>For log lines, e.g. "pid 4242" or "tcp://127.0.0.1:7000".</summary>
    string Name { get; }

    /// <summary>Where received messages go (the process's stdin, the socket).</summary>
    Stream Input { get; }

    /// <summary>Where sent messages come from (the process's stdout, the socket).</summary>
    Stream Output { get; }

    /// <summary>Completes when the peer is done on its own (the process exited); with <see cref="Output"/> at EOF, the bridge ends.</summary>
    Task Ended { get; }

    /// <summary>Sends end-of-file on <see cref="Input"/>. Called once, by the thread that writes to it.</summary>
    void CloseInput();

    /// <summary>The close code and reason that report how the peer ended (after <see cref="Ended"/>).</summary>
    (ushort Code, string? Reason) EndStatus();

    /// <summary>The client has gone: make the peer finish (it has had EOF on its input), escalating after <paramref name="grace"/>.</summary>
    Task StopAsync(TimeSpan grace, Task outputDone);
}
