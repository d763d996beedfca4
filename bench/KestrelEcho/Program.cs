// Baseline echo server on ASP.NET Core Kestrel + the framework's ManagedWebSocket, written the
// way the ASP.NET Core docs' sample is: one buffer per connection, echo each received fragment
// with its message type and EndOfMessage flag. `--deflate` accepts permessage-deflate the
// documented way (DangerousEnableCompression; server context takeover stays on, the default).
using System.Buffers;
using System.Globalization;
using System.Net.WebSockets;

var port = 5001;
var bufferSize = 4096;
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
        case "--buffer" when i + 1 < args.Length:
            bufferSize = int.Parse(args[++i], CultureInfo.InvariantCulture);
            break;
        default:
            await Console.Error.WriteLineAsync($"usage: KestrelEcho [--port N] [--buffer BYTES] [--deflate]; unexpected {args[i]}").ConfigureAwait(false);
            return 2;
    }
}

var builder = WebApplication.CreateSlimBuilder();
builder.Logging.ClearProviders();
builder.WebHost.UseUrls($"http://127.0.0.1:{port}");

// Compression is negotiated only when the client offers it; ManagedWebSocket then compresses every message.
var acceptContext = new WebSocketAcceptContext { DangerousEnableCompression = deflate };

var app = builder.Build();
app.UseWebSockets();
app.Run(async context =>
{
    if (!context.WebSockets.IsWebSocketRequest)
    {
        context.Response.StatusCode = StatusCodes.Status400BadRequest;
        return;
    }

    using var socket = await context.WebSockets.AcceptWebSocketAsync(acceptContext).ConfigureAwait(false);
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
