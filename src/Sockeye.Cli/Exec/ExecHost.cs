using Microsoft.Extensions.Logging;
using Sockeye.Server;
using Sockeye.Topics;

namespace Sockeye.Cli.Exec;

/// <summary>Wires a bridge mode into a <see cref="WebSocketServer"/> and makes sure no program outlives the server.</summary>
internal sealed class ExecHost : IAsyncDisposable
{
    private readonly ProcessRegistry _registry = new();
    private readonly SharedEndpoint? _shared;
    private readonly TopicHub? _topics;

    private ExecHost(WebSocketServer server, ExecSettings settings, ILoggerFactory logging, TopicOptions? topics)
    {
        ILogger log = logging.CreateLogger("sockeye.exec");
        var limiter = new ForkLimiter(settings.MaxForks);
        if (settings.Mode == ExecMode.Shared)
        {
            // Each path's output also goes through the topic named by the path (history with --history).
            _shared = new SharedEndpoint(settings, limiter, _registry, log);
            _topics = new TopicHub(_shared.TopicRules(topics ?? TopicOptions.Default, logging.CreateLogger("sockeye.topics")));
            _shared.Topics = _topics;
            var endpoint = new EndpointOptions { OnHandshake = _shared.OnHandshake };
            endpoint.Subprotocols.Add(TopicHub.Subprotocol);
            server.MapFallback(_shared.HandleAsync, endpoint);
        }
        else
        {
            var endpoint = new BridgeEndpoint(settings, limiter, _registry, log);
            server.MapFallback(endpoint.HandleAsync, new EndpointOptions { OnHandshake = endpoint.OnHandshake });
        }

        log.LogInformation("{Description}", ExecOptions.Describe(settings));
    }

    public static ExecHost Map(WebSocketServer server, ExecSettings settings, ILoggerFactory logging, TopicOptions? topics = null) =>
        new(server, settings, logging, topics);

    /// <summary>After the server stopped (connections closed, programs given their grace): stop shared processes, SIGKILL stragglers.</summary>
    public async Task StopAsync()
    {
        if (_shared is not null)
        {
            await _shared.StopAllAsync().ConfigureAwait(false);
        }

        await _registry.KillAllAsync().ConfigureAwait(false);
        await DisposeAsync().ConfigureAwait(false);
    }

    /// <summary>Releases the shared output topics (their history).</summary>
    public ValueTask DisposeAsync() => _topics?.DisposeAsync() ?? ValueTask.CompletedTask;
}
