using System.Net;
using System.Net.WebSockets;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Sockeye.AspNetCore.Tests;

/// <summary>The app stopping closes open Sockeye connections with 1001, as WebSocketServer.StopAsync does.</summary>
public sealed class ShutdownTests
{
    [Theory]
    [InlineData(Wire.Http11)]
    [InlineData(Wire.H2c)]
    public async Task Stopping_the_app_closes_connections_with_1001(Wire wire)
    {
        WebApplicationBuilder builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0,
            l => l.Protocols = wire == Wire.H2c ? HttpProtocols.Http2 : HttpProtocols.Http1));
        await using WebApplication app = builder.Build();
        app.MapSockeye("/echo", TestHandlers.Echo);
        await app.StartAsync();
        int port = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single()).Port;

        using ClientWebSocket ws = KestrelApp.Client(wire);
        using var timeout = new CancellationTokenSource(KestrelApp.Timeout);
        await ws.ConnectAsync(new Uri($"ws://127.0.0.1:{port}/echo"), new HttpMessageInvoker(new SocketsHttpHandler()), timeout.Token);
        Task stopping = app.StopAsync(timeout.Token);

        WebSocketReceiveResult result = await ws.ReceiveAsync(new byte[16], timeout.Token);
        Assert.Equal(WebSocketMessageType.Close, result.MessageType);
        Assert.Equal(WebSocketCloseStatus.EndpointUnavailable, ws.CloseStatus); // 1001 going away
        await ws.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, timeout.Token);
        await stopping.WaitAsync(KestrelApp.Timeout);
    }
}
