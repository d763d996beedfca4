using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Sockeye.Server;
using Sockeye.Topics;

namespace Dashboard;

/// <summary>The Sockeye server as a hosted service: the page, sockeye.js and the topics endpoint on one port.</summary>
internal sealed class DashboardServer(TopicHub hub, int port, ILoggerFactory logging) : IHostedService, IAsyncDisposable
{
    private readonly WebSocketServer _server = new(new WebSocketServerOptions
    {
        Port = port,
        // index.html and sockeye.js (copied from clients/js at build time).
        StaticFiles = StaticFiles.FromDirectory(Path.Combine(AppContext.BaseDirectory, "wwwroot")),
        LoggerFactory = logging,
    });

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        _server.MapTopics(null, hub);
        await _server.StartAsync(cancellationToken);
        Console.WriteLine($"dashboard on http://127.0.0.1:{_server.Port}/  (Ctrl-C to stop)");
    }

    public Task StopAsync(CancellationToken cancellationToken) => _server.StopAsync();

    public ValueTask DisposeAsync() => _server.DisposeAsync();
}
