using Microsoft.Extensions.Hosting;
using Sockeye.Server;

namespace Sockeye.Hosting;

/// <summary>Ties the server's lifetime to the host's: listens on start, closes every connection with 1001 on stop.</summary>
internal sealed class SockeyeHostedService(WebSocketServer server) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken) => server.StartAsync(cancellationToken);

    // The server's own ShutdownTimeout bounds the closing handshakes; the host's token only stops us waiting for them
    // (the server finishes closing in the background and is disposed with the container).
    public Task StopAsync(CancellationToken cancellationToken) =>
        server.StopAsync().WaitAsync(cancellationToken);
}
