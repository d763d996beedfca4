// Upper-bound baseline: answers the WebSocket handshake, then copies bytes back without parsing
// frames. Echoed frames therefore stay masked, which RFC 6455 forbids from a server, so the load
// generator must be run with --raw-baseline to accept them. No WebSocket server can beat this:
// it does the same socket reads and writes with zero per-frame work.
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;

var port = 5002;
for (var i = 0; i + 1 < args.Length; i += 2)
{
    if (args[i] == "--port")
    {
        port = int.Parse(args[i + 1], CultureInfo.InvariantCulture);
    }
    else
    {
        await Console.Error.WriteLineAsync($"usage: RawEcho [--port N]; unknown {args[i]}").ConfigureAwait(false);
        return 2;
    }
}

using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
listener.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
listener.Bind(new IPEndPoint(IPAddress.Loopback, port));
listener.Listen(4096);
await Console.Out.WriteLineAsync($"raw echo listening on ws://127.0.0.1:{port}/").ConfigureAwait(false);

while (true)
{
    var socket = await listener.AcceptAsync().ConfigureAwait(false);
    _ = RawEchoConnection.RunAsync(socket);
}

/// <summary>One accepted connection: handshake, then a receive/send copy loop on one reused buffer.</summary>
internal static class RawEchoConnection
{
    private const int BufferSize = 64 * 1024;
    private const string AcceptGuid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

    public static async Task RunAsync(Socket socket)
    {
        using (socket)
        {
            try
            {
                socket.NoDelay = true;
                var buffer = new byte[BufferSize];
                var (headerEnd, filled) = await ReadRequestAsync(socket, buffer).ConfigureAwait(false);
                if (headerEnd < 0 || FindKey(Encoding.ASCII.GetString(buffer, 0, headerEnd)) is not { } key)
                {
                    await SendAllAsync(socket, "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n"u8.ToArray()).ConfigureAwait(false);
                    return;
                }

#pragma warning disable CA5350 // RFC 6455 mandates SHA-1 for Sec-WebSocket-Accept; not a security use.
                var accept = Convert.ToBase64String(SHA1.HashData(Encoding.ASCII.GetBytes(key + AcceptGuid)));
#pragma warning restore CA5350
                await SendAllAsync(socket, Encoding.ASCII.GetBytes(
                    $"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {accept}\r\n\r\n"))
                    .ConfigureAwait(false);

                // Frames that arrived with the request are echoed like the rest.
                var pending = filled - (headerEnd + 4);
                if (pending > 0)
                {
                    await SendAllAsync(socket, buffer.AsMemory(headerEnd + 4, pending)).ConfigureAwait(false);
                }

                int read;
                while ((read = await socket.ReceiveAsync(buffer.AsMemory(), SocketFlags.None).ConfigureAwait(false)) > 0)
                {
                    await SendAllAsync(socket, buffer.AsMemory(0, read)).ConfigureAwait(false);
                }
            }
            catch (SocketException)
            {
                // Peer reset; the echo has nothing to report.
            }
        }
    }

    private static async Task<(int HeaderEnd, int Filled)> ReadRequestAsync(Socket socket, byte[] buffer)
    {
        var filled = 0;
        while (filled < buffer.Length)
        {
            var read = await socket.ReceiveAsync(buffer.AsMemory(filled), SocketFlags.None).ConfigureAwait(false);
            if (read == 0)
            {
                break;
            }

            filled += read;
            var end = buffer.AsSpan(0, filled).IndexOf("\r\n\r\n"u8);
            if (end >= 0)
            {
                return (end, filled);
            }
        }

        return (-1, filled);
    }

    private static string? FindKey(string head)
    {
        foreach (var line in head.Split("\r\n"))
        {
            var colon = line.IndexOf(':', StringComparison.Ordinal);
            if (colon > 0 && line.AsSpan(0, colon).Trim().Equals("Sec-WebSocket-Key", StringComparison.OrdinalIgnoreCase))
            {
                return line[(colon + 1)..].Trim();
            }
        }

        return null;
    }

    private static async Task SendAllAsync(Socket socket, ReadOnlyMemory<byte> data)
    {
        while (!data.IsEmpty)
        {
            data = data[await socket.SendAsync(data, SocketFlags.None).ConfigureAwait(false)..];
        }
    }
}
