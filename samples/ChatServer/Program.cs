// A small chat server on Sockeye: endpoints by path, a subprotocol, per-connection state from the request,
// concurrent sends to many connections, and static files on the same port.
//
//   dotnet run --project samples/ChatServer -- 8080
//   then open http://127.0.0.1:8080/ in two browser tabs.
using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Sockeye;
using Sockeye.Server;

int port = args.Length > 0 ? int.Parse(args[0], System.Globalization.CultureInfo.InvariantCulture) : 8080;
using ILoggerFactory logging = LoggerFactory.Create(b => b.AddSimpleConsole(o => o.SingleLine = true));

await using var server = new WebSocketServer(new WebSocketServerOptions
{
    Port = port,
    StaticFiles = StaticFiles.FromDirectory(Path.Combine(AppContext.BaseDirectory, "wwwroot")),
    LoggerFactory = logging,
});

var members = new ConcurrentDictionary<long, WebSocketConnection>();

// /chat?name=ann: every text message is sent to every member, prefixed with the sender's name.
var chatOptions = new EndpointOptions();
chatOptions.Subprotocols.Add("chat.v1");
server.Map("/chat", async ws =>
{
    string name = ws.Request.GetQuery("name") is { Length: > 0 } n ? n : $"guest{ws.Id}";
    members[ws.Id] = ws;
    await BroadcastAsync($"* {name} joined ({members.Count} here)");
    try
    {
        while (await ws.ReceiveAsync() is { IsClose: false } message)
        {
            if (message.Type == MessageType.Text)
            {
                await BroadcastAsync($"{name}: {message.GetText()}");
            }
        }
    }
    finally
    {
        members.TryRemove(ws.Id, out _);
        await BroadcastAsync($"* {name} left");
    }
}, chatOptions);

// /echo: the smallest useful endpoint.
server.Map("/echo", async ws =>
{
    while (await ws.ReceiveAsync() is { IsClose: false } message)
    {
        await ws.SendAsync(message.Type, message.Payload);
    }
});

using var stop = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) => { e.Cancel = true; stop.Cancel(); };
Console.WriteLine($"chat on http://127.0.0.1:{port}/  (Ctrl-C to stop)");
await server.RunAsync(stop.Token);

// Sends run concurrently; each connection keeps its messages whole and in order.
async Task BroadcastAsync(string text)
{
    await Task.WhenAll(members.Values.Select(async member =>
    {
        try
        {
            await member.SendTextAsync(text);
        }
        catch (WebSocketClosedException)
        {
            // That member is leaving; its own handler removes it.
        }
    }));
}
