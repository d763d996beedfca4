using System.Buffers;

namespace Sockeye.Cli;

/// <summary>Sends what <c>sockeye connect</c> reads on stdin, until EOF.</summary>
internal static class StdinSender
{
    private const int ChunkBytes = 64 * 1024;

    /// <summary>Each line (without its line end) as a text message.</summary>
    public static async Task SendLinesAsync(WebSocketConnection connection, TextReader stdin)
    {
        while (await stdin.ReadLineAsync().ConfigureAwait(false) is { } line)
        {
            await connection.SendTextAsync(line).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// All of stdin as ONE binary message, sent in fragments (RFC 6455 §5.4) as it is read, so a file of any size
    /// goes out without being held in memory. Empty stdin sends nothing. One read is held back so that input that
    /// fits one read (most small inputs) goes out as a single unfragmented frame.
    /// </summary>
    public static async Task SendBinaryAsync(WebSocketConnection connection, Stream stdin)
    {
        byte[] held = ArrayPool<byte>.Shared.Rent(ChunkBytes);
        byte[] next = ArrayPool<byte>.Shared.Rent(ChunkBytes);
        WebSocketMessageWriter? writer = null;
        try
        {
            int heldCount = await stdin.ReadAsync(held.AsMemory(0, ChunkBytes)).ConfigureAwait(false);
            if (heldCount == 0)
            {
                return;
            }

            writer = await connection.BeginMessageAsync(MessageType.Binary).ConfigureAwait(false);
            while (true)
            {
                int count = await stdin.ReadAsync(next.AsMemory(0, ChunkBytes)).ConfigureAwait(false);
                if (count == 0)
                {
                    await writer.CompleteAsync(held.AsMemory(0, heldCount)).ConfigureAwait(false);
                    return;
                }

                await writer.WriteAsync(held.AsMemory(0, heldCount)).ConfigureAwait(false);
                (held, next, heldCount) = (next, held, count);
            }
        }
        finally
        {
            if (writer is not null)
            {
                await writer.DisposeAsync().ConfigureAwait(false);
            }

            ArrayPool<byte>.Shared.Return(held);
            ArrayPool<byte>.Shared.Return(next);
        }
    }
}
