using System.ComponentModel;
using Microsoft.Extensions.Logging;
using Sockeye.Server;

namespace Sockeye.Cli.Exec;

/// <summary>The handler for <c>--exec</c>, <c>--dir</c> and <c>--proxy</c>: one process (or backend connection) per WebSocket connection.</summary>
internal sealed class BridgeEndpoint(ExecSettings settings, ForkLimiter limiter, ProcessRegistry registry, ILogger log)
{
    /// <summary>The program a <c>--dir</c> path chose, attached to the connection by the handshake hook.</summary>
    private sealed record DirProgram(string File, string ScriptName);

    /// <summary>Handshake hook: 400 for a control character in the decoded path (it would reach the program's PATH_INFO);
    /// refuse with 503 at <c>--max-forks</c>; for <c>--dir</c>, 404 unless the path names an executable.</summary>
    public ValueTask OnHandshake(HandshakeContext context)
    {
        if (settings.Mode != ExecMode.Proxy && CgiEnvironment.HasControlCharacter(context.Request.Path))
        {
            context.Reject(400, "control character in the path");
            return ValueTask.CompletedTask;
        }

        if (settings.Mode == ExecMode.Dir)
        {
            // "/name" or "/name/more" runs DIR/name (PATH_INFO "/more"); no hidden files, no way out of DIR.
            string path = context.Request.Path;
            if (!path.StartsWith('/'))
            {
                context.Reject(404, "no program at this path");
                return ValueTask.CompletedTask;
            }

            int slash = path.IndexOf('/', 1);
            string name = slash < 0 ? path[1..] : path[1..slash];
            string file = Path.Combine(settings.Directory, name);
            if (name.Length == 0 || name.StartsWith('.') || name.Contains('\0', StringComparison.Ordinal)
                || !ExecutableResolver.IsExecutableFile(file, out _))
            {
                context.Reject(404, "no program at this path");
                return ValueTask.CompletedTask;
            }

            context.State = new DirProgram(file, "/" + name);
        }

        return limiter.RefuseWhenFull(context);
    }

    public async Task HandleAsync(WebSocketConnection connection)
    {
        if (!limiter.TryAcquire())
        {
            log.LogWarning("#{Id} refused: {Max} processes running (--max-forks)", connection.Id, settings.MaxForks);
            await Bridge.CloseQuietlyAsync(connection, CloseCode.TryAgainLater, "server busy").ConfigureAwait(false);
            return;
        }

        try
        {
            if (settings.Mode == ExecMode.Proxy)
            {
                await ProxyAsync(connection).ConfigureAwait(false);
            }
            else
            {
                await ExecAsync(connection).ConfigureAwait(false);
            }
        }
        finally
        {
            limiter.Release();
        }
    }

    private async Task ExecAsync(WebSocketConnection connection)
    {
        string tag = $"#{connection.Id}";
        (string file, IEnumerable<string> arguments, string scriptName) = connection.State is DirProgram program
            ? (program.File, Enumerable.Empty<string>(), program.ScriptName)
            : (settings.Command[0], settings.Command.Skip(1), string.Empty);
        var spec = new LaunchSpec(file, [.. arguments], CgiEnvironment.ForConnection(connection, settings, scriptName));
        ChildProcess child;
        try
        {
            child = ChildProcess.Start(spec, log, tag, settings.CloseGrace);
        }
        catch (Win32Exception ex)
        {
            log.LogError("{Tag} cannot start {Command}: {Error}", tag, spec.Display, ex.Message);
            await Bridge.CloseQuietlyAsync(connection, CloseCode.InternalError, "cannot start process").ConfigureAwait(false);
            return;
        }

        using (child)
        {
            registry.Add(child);
            try
            {
                await new Bridge(connection, child, settings, log).RunAsync().ConfigureAwait(false);
                // The connection is closed; what the program left in its process group may still be stopping.
                await child.Finished.ConfigureAwait(false);
            }
            finally
            {
                registry.Remove(child);
            }
        }
    }

    private async Task ProxyAsync(WebSocketConnection connection)
    {
        ProxyTarget target = settings.Proxy!;
        System.Net.Sockets.Socket socket;
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            socket = await target.ConnectAsync(timeout.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is System.Net.Sockets.SocketException or OperationCanceledException)
        {
            log.LogError("#{Id} cannot connect to {Backend}: {Error}", connection.Id, target.Display, ex.Message);
            await Bridge.CloseQuietlyAsync(connection, CloseCode.InternalError, "backend unavailable").ConfigureAwait(false);
            return;
        }

        log.LogInformation("#{Id} connected to {Backend}", connection.Id, target.Display);
        using var peer = new SocketPeer(socket, target.Display);
        await new Bridge(connection, peer, settings, log).RunAsync().ConfigureAwait(false);
    }
}
