// Echo server on ASP.NET Core Kestrel with Sockeye's engine (MapSockeye) in place of the framework's WebSockets:
// the same host as bench/KestrelEcho, so the two compare the WebSocket layers side by side. `--deflate` accepts
// permessage-deflate (every message compressed, like KestrelEcho's).
using System.Globalization;
using Sockeye.AspNetCore;
using Sockeye;

var port = 5002;
var deflate = false;
for (var i = 0; i < args.Length; i++)
{
    switch (args[i])
    {
        case "--deflate":
            deflate = true;
            break;
        case "--port" when i + 1 < args.Length:
            port = int.Parse(args[++i], CultureInfo.InvariantCulture);
            break;
        default:
            await Console.Error.WriteLineAsync($"usage: KestrelSockeyeEcho [--port N] [--deflate]; unexpected {args[i]}").ConfigureAwait(false);
            return 2;
    }
}

var builder = WebApplication.CreateSlimBuilder();
builder.Logging.ClearProviders();
builder.WebHost.UseUrls($"http://127.0.0.1:{port}");

var options = new SockeyeOptions { WebSocket = new Sockeye.WebSocketOptions { MaxMessageSize = 16 * 1024 * 1024 } };
if (deflate)
{
    options.WebSocket.Deflate = new PerMessageDeflateOptions { Threshold = 0 };
}

var app = builder.Build();
app.MapSockeye("/", async ws =>
{
    while (await ws.ReceiveAsync().ConfigureAwait(false) is { IsClose: false } message)
    {
        await ws.SendAsync(message.Type, message.Payload).ConfigureAwait(false);
    }
}, options);
await app.RunAsync().ConfigureAwait(false);
return 0;
