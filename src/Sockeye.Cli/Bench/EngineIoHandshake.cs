using System.Net.Sockets;
using System.Text;

namespace Sockeye.Cli.Bench;

/// <summary>
/// Socket.IO over the Engine.IO v4 WebSocket transport, after the HTTP upgrade to
/// <c>/socket.io/?EIO=4&amp;transport=websocket</c>: the server opens with <c>0{"sid":...}</c> (Engine.IO OPEN), the
/// client connects to the main namespace with <c>40</c> (MESSAGE + Socket.IO CONNECT) and the server acknowledges with
/// <c>40{"sid":...}</c>. From then on events are <c>42["event",...]</c> and the server pings with <c>2</c>.
/// </summary>
internal static class EngineIoHandshake
{
    /// <summary>The request target of the WebSocket transport (no HTTP long-polling first).</summary>
    public const string Path = "/socket.io/?EIO=4&transport=websocket";

    public static async Task ConnectAsync(Socket socket, ServerFrameBuffer frames, uint mask, CancellationToken cancellationToken)
    {
        string open = await ReadTextAsync(socket, frames, cancellationToken).ConfigureAwait(false);
        if (!open.StartsWith("0{", StringComparison.Ordinal))
        {
            throw new InvalidDataException($"Engine.IO: expected the OPEN packet, got '{Shorten(open)}'");
        }

        await ClientHandshake.SendAllAsync(socket, ClientFrame.Build(0x1, "40"u8, mask), cancellationToken).ConfigureAwait(false);
        string connect = await ReadTextAsync(socket, frames, cancellationToken).ConfigureAwait(false);
        if (!connect.StartsWith("40", StringComparison.Ordinal))
        {
            throw new InvalidDataException($"Socket.IO: expected CONNECT for namespace /, got '{Shorten(connect)}'");
        }
    }

    private static async Task<string> ReadTextAsync(Socket socket, ServerFrameBuffer frames, CancellationToken cancellationToken)
    {
        while (true)
        {
            if (TryReadText(frames, out string? text))
            {
                return text;
            }

            int n = await socket.ReceiveAsync(frames.FreeSpace(), SocketFlags.None, cancellationToken).ConfigureAwait(false);
            if (n == 0)
            {
                throw new InvalidDataException("Engine.IO: the server closed the connection during the handshake");
            }

            frames.Commit(n);
        }
    }

    private static bool TryReadText(ServerFrameBuffer frames, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out string? text)
    {
        while (frames.TryRead(out int opcode, out ReadOnlySpan<byte> payload))
        {
            if (opcode == 0x1)
            {
                text = Encoding.UTF8.GetString(payload);
                return true;
            }

            if (opcode == 0x8)
            {
                throw new InvalidDataException("Engine.IO: the server closed the connection during the handshake");
            }
        }

        text = null;
        return false;
    }

    private static string Shorten(string text) => text.Length <= 80 ? text : string.Concat(text.AsSpan(0, 80), "...");
}
