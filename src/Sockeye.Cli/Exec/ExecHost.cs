using Microsoft.Extensions.Logging;
using Sockeye.Server;

namespace Sockeye.Cli.Exec;

/// <summary>Wires a bridge mode into a <see cref="WebSocketServer"/> and makes sure no program outlives the server.</summary>
internal sealed class ExecHost
{
    private readonly ProcessRegistry _registry = new();
    private readonly SharedEndpoint? _shared;

    private ExecHost(WebSocketServer server, ExecSettings settings, ILogger log)
    {
        var limiter = new ForkLimiter(settings.MaxForks);
        if (settings.Mode == ExecMode.Shared)
        {
            _shared = new SharedEndpoint(settings, limiter, _registry, log);
            server.MapFallback(_shared.HandleAsync, new EndpointOptions { OnHandshake = _shared.OnHandshake });
        }
        else
        {
            var endpoint = new BridgeEndpoint(settings, limiter, _registry, log);
            server.MapFallback(endpoint.HandleAsync, new EndpointOptions { OnHandshake = endpoint.OnHandshake });
        }

        log.LogInformation("{Description}", ExecOptions.Describe(settings));
    }

    public static ExecHost Map(WebSocketServer server, ExecSettings settings, ILoggerFactory logging) =>
        new(server, settings, logging.CreateLogger("sockeye.exec"));

    /// <summary>After the server stopped (connections closed, programs given their grace): stop shared processes, SIGKILL stragglers.</summary>
    public async Task StopAsync()
    {
        if (_shared is not null)
        {
            await _shared.StopAllAsync().ConfigureAwait(false);
        }

        await _registry.KillAllAsync().ConfigureAwait(false);
    }
}
