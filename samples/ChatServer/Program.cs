// A chat on Sockeye topics: a room per topic ("/chat/<room>"), a live list of who is in the room (presence),
// history so a page that reconnects misses nothing, hooks that keep the rooms tidy, and the browser client
// sockeye.js served next to the page from the same port.
//
//   dotnet run --project samples/ChatServer -- 8080
//   then open http://127.0.0.1:8080/#lobby in two browser tabs (the part after # is the room).
using System.Globalization;
using Microsoft.Extensions.Logging;
using Sockeye;
using Sockeye.Server;
using Sockeye.Topics;

int port = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 8080;
using ILoggerFactory logging = LoggerFactory.Create(b => b.AddSimpleConsole(o => o.SingleLine = true));

await using var hub = new TopicHub(new TopicHubOptions
{
    // The last 200 messages of each room are kept: a page that lost its connection resumes from its last message.
    Topics = new TopicOptions { HistorySize = 200, Presence = true },
    AuthorizeSubscribe = (_, topic) => ValueTask.FromResult(RoomProblem(topic)),
    AuthorizePublish = (_, topic, type, payload) => ValueTask.FromResult(
        RoomProblem(topic) is { } problem ? PublishDecision.Refuse(problem)
        : type != MessageType.Text ? PublishDecision.Refuse("chat messages are text")
        : payload.Length > 4096 ? PublishDecision.Refuse("message too long (4 KiB at most)")
        : PublishDecision.Allow),
    Logger = logging.CreateLogger("Chat"),
});

await using var server = new WebSocketServer(new WebSocketServerOptions
{
    Port = port,
    // index.html and sockeye.js (copied from clients/js at build time).
    StaticFiles = StaticFiles.FromDirectory(Path.Combine(AppContext.BaseDirectory, "wwwroot")),
    LoggerFactory = logging,
});

// Every WebSocket path speaks sockeye.v1; a plain client (websocat ws://127.0.0.1:8080/chat/lobby) joins the room
// named by its path and sees the raw messages.
server.MapTopics(null, hub);

using var stop = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) => { e.Cancel = true; stop.Cancel(); };
await server.StartAsync();
Console.WriteLine($"chat on http://127.0.0.1:{server.Port}/  (Ctrl-C to stop)");
try
{
    await Task.Delay(Timeout.Infinite, stop.Token);
}
catch (OperationCanceledException)
{
}

await server.StopAsync();

// Rooms are topics "/chat/<name>", with a short name.
static string? RoomProblem(string topic) =>
    !topic.StartsWith("/chat/", StringComparison.Ordinal) ? "rooms are /chat/<name>"
    : topic.Length is <= 6 or > 70 ? "a room name has 1 to 64 characters"
    : null;
