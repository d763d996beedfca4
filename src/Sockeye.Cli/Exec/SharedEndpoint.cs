using System.ComponentModel;
using Microsoft.Extensions.Logging;
using Sockeye.Server;
using Sockeye.Topics;

namespace Sockeye.Cli.Exec;

/// <summary>The handler for <c>--exec-shared</c>: finds (or starts) the path's <see cref="SharedProcess"/> and feeds it this connection's messages.</summary>
internal sealed class SharedEndpoint(ExecSettings settings, ForkLimiter limiter, ProcessRegistry registry, ILogger log)
{
    /// <summary>The hub built from <see cref="TopicRules"/>; set before the server starts.</summary>
    public TopicHub? Topics { get; set; }

    private readonly Dictionary<string, SharedProcess> _byPath = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();

    /// <summary>Handshake hook: a path without a running process needs a new one, which --max-forks may refuse (503).</summary>
    public ValueTask OnHandshake(HandshakeContext context)
    {
        // The path is the shared process's PATH_INFO: no line breaks or NULs in it (see CgiEnvironment).
        if (CgiEnvironment.HasControlCharacter(context.Request.Path))
        {
            context.Reject(400, "control character in the path");
            return ValueTask.CompletedTask;
        }

        lock (_gate)
        {
            if (_byPath.ContainsKey(context.Request.Path))
            {
                return ValueTask.CompletedTask;
            }
        }

        return limiter.RefuseWhenFull(context);
    }

    /// <summary>
    /// The path's output is also published to the topic named by the path: a sockeye.v1 client (sockeye.js) subscribes
    /// to it with history and resume, and what it publishes there goes to the program's stdin.
    /// </summary>
    public TopicHubOptions TopicRules(TopicOptions options, ILogger topicLog) => new()
    {
        Topics = options,
        Logger = topicLog,
        AuthorizeSubscribe = (connection, topic) => ValueTask.FromResult(
            string.Equals(topic, connection.Request.Path, StringComparison.Ordinal) ? null : $"only the topic '{connection.Request.Path}' (this path's program) is served here"),
        AuthorizePublish = async (connection, topic, type, payload) =>
        {
            if (!string.Equals(topic, connection.Request.Path, StringComparison.Ordinal))
            {
                return PublishDecision.Refuse($"only the topic '{connection.Request.Path}' (this path's program) is served here");
            }

            if (!settings.Binary && type == MessageType.Binary)
            {
                return PublishDecision.Refuse("binary messages need --binary");
            }

            SharedProcess? running;
            lock (_gate)
            {
                _byPath.TryGetValue(connection.Request.Path, out running);
            }

            if (running is null || !await running.WriteAsync(new System.Buffers.ReadOnlySequence<byte>(payload), connection.Id).ConfigureAwait(false))
            {
                return PublishDecision.Refuse("the program is not running");
            }

            return PublishDecision.Consumed;
        },
    };

    public async Task HandleAsync(WebSocketConnection connection)
    {
        if (string.Equals(connection.Subprotocol, TopicHub.Subprotocol, StringComparison.Ordinal))
        {
            await HandleTopicClientAsync(connection).ConfigureAwait(false);
            return;
        }

        (SharedProcess? shared, SharedMember? member, ushort failCode) = Join(connection);
        if (shared is null || member is null)
        {
            await Bridge.CloseQuietlyAsync(connection, failCode, failCode == CloseCode.TryAgainLater ? "server busy" : "cannot start process").ConfigureAwait(false);
            return;
        }

        Task sender = member.RunSenderAsync();
        bool refused = false;
        try
        {
            while (true)
            {
                WebSocketMessage message = await connection.ReceiveAsync().ConfigureAwait(false);
                if (message.IsClose)
                {
                    break;
                }

                if (refused)
                {
                    continue; // closing with 1003: drop what arrives meanwhile
                }

                if (!settings.Binary && message.Type == MessageType.Binary)
                {
                    refused = true;
                    log.LogWarning("#{Id} sent a binary message to a line endpoint; closing with 1003", connection.Id);
                    _ = Bridge.CloseQuietlyAsync(connection, CloseCode.UnsupportedData, "binary messages need --binary");
                    continue;
                }

                // Waits while the process's input queue is full: the shared process paces every sender.
                await shared.WriteAsync(message, connection.Id).ConfigureAwait(false);
            }
        }
        finally
        {
            shared.Leave(member);
            await sender.ConfigureAwait(false);
        }
    }

    // A sockeye.v1 member: keeps the program running like any member, talks through the path's topic.
    private async Task HandleTopicClientAsync(WebSocketConnection connection)
    {
        (SharedProcess? shared, SharedMember? member, ushort failCode) = Join(connection, viaTopic: true);
        if (shared is null || member is null)
        {
            await Bridge.CloseQuietlyAsync(connection, failCode, failCode == CloseCode.TryAgainLater ? "server busy" : "cannot start process").ConfigureAwait(false);
            return;
        }

        try
        {
            await Topics!.HandleAsync(connection).ConfigureAwait(false);
        }
        finally
        {
            shared.Leave(member);
        }
    }

    /// <summary>Server shutdown: stop every shared process.</summary>
    public Task StopAllAsync()
    {
        SharedProcess[] all;
        lock (_gate)
        {
            all = [.. _byPath.Values];
        }

        return Task.WhenAll(all.Select(p => p.StopAsync(settings.CloseGrace)));
    }

    private (SharedProcess?, SharedMember?, ushort) Join(WebSocketConnection connection, bool viaTopic = false)
    {
        string path = connection.Request.Path;
        lock (_gate)
        {
            if (_byPath.TryGetValue(path, out SharedProcess? running) && running.TryJoin(connection, viaTopic) is { } joined)
            {
                return (running, joined, (ushort)0);
            }

            if (!limiter.TryAcquire())
            {
                log.LogWarning("#{Id} refused: {Max} processes running (--max-forks)", connection.Id, settings.MaxForks);
                return (null, null, CloseCode.TryAgainLater);
            }

            string tag = $"[{path}]";
            var spec = new LaunchSpec(settings.Command[0], [.. settings.Command.Skip(1)], CgiEnvironment.ForShared(settings, path));
            SharedProcess started;
            try
            {
                started = SharedProcess.Start(spec, settings, log, tag, Topics, path);
            }
            catch (Win32Exception ex)
            {
                limiter.Release();
                log.LogError("{Tag} cannot start {Command}: {Error}", tag, spec.Display, ex.Message);
                return (null, null, CloseCode.InternalError);
            }

            _byPath[path] = started;
            registry.Add(started.Child);
            _ = started.Finished.ContinueWith(_ => Forget(path, started), TaskScheduler.Default);
            // A process that died at once has already closed its (empty) membership.
            return started.TryJoin(connection, viaTopic) is { } member ? (started, member, (ushort)0) : (null, null, CloseCode.InternalError);
        }
    }

    private void Forget(string path, SharedProcess process)
    {
        lock (_gate)
        {
            if (_byPath.TryGetValue(path, out SharedProcess? current) && current == process)
            {
                _byPath.Remove(path);
            }
        }

        registry.Remove(process.Child);
        limiter.Release();
    }
}
