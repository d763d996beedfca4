// Baseline echo server on ASP.NET Core Kestrel + the framework's ManagedWebSocket, written the
// way the ASP.NET Core docs' sample is: one buffer per connection, echo each received fragment
// with its message type and EndOfMessage flag.
using System.Buffers;
using System.Globalization;
using System.Net.WebSockets;

var port = 5001;
var bufferSize = 4096;
for (var i = 0; i + 1 < args.Length; i += 2)
{
    switch (args[i])
    {
        case "--port":
            port = int.Parse(args[i + 1], CultureInfo.InvariantCulture);
            break;
        case "--buffer":
            bufferSize = int.Parse(args[i + 1], CultureInfo.InvariantCulture);
            break;
        default:
            await Console.Error.WriteLineAsync($"usage: KestrelEcho [--port N] [--buffer BYTES]; unknown {args[i]}").ConfigureAwait(false);
            return 2;
    }
}

var builder = WebApplication.CreateSlimBuilder();
builder.Logging.ClearProviders();
builder.WebHost.UseUrls($"http://127.0.0.1:{port}");

var app = builder.Build();
app.UseWebSockets();
app.Run(async context =>
{
    if (!context.WebSockets.IsWebSocketRequest)
    {
        context.Response.StatusCode = StatusCodes.Status400BadRequest;
        return;
    }

    using var socket = await context.WebSockets.AcceptWebSocketAsync().ConfigureAwait(false);
    var buffer = ArrayPool<byte>.Shared.Rent(bufferSize);
    try
    {
        while (true)
        {
            var received = await socket.ReceiveAsync(buffer.AsMemory(), context.RequestAborted).ConfigureAwait(false);
            if (received.MessageType == WebSocketMessageType.Close)
            {
                await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, context.RequestAborted).ConfigureAwait(false);
                return;
            }

            await socket.SendAsync(buffer.AsMemory(0, received.Count), received.MessageType, received.EndOfMessage, context.RequestAborted)
                .ConfigureAwait(false);
        }
    }
    catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or IOException)
    {
        // The client went away without a close handshake; nothing to report in a benchmark.
    }
    finally
    {
        ArrayPool<byte>.Shared.Return(buffer);
    }
});

await app.RunAsync().ConfigureAwait(false);
return 0;
