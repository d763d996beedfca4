using System.Text;
using System.Text.Unicode;
using Microsoft.Extensions.Logging;

namespace Sockeye.Cli.Exec;

/// <summary>
/// Runs one WebSocket connection against one <see cref="IBridgePeer"/>: messages in become lines (or byte chunks)
/// on the peer's input, its output becomes messages out, both streamed and both with backpressure.
/// </summary>
internal sealed class Bridge(WebSocketConnection connection, IBridgePeer peer, ExecSettings settings, ILogger log)
{
    /// <summary>Pumps both ways until one side ends, then ends the other: the peer ending closes the connection
    /// (1000 / 1011), the client leaving stops the peer (EOF, then <see cref="IBridgePeer.StopAsync"/>).</summary>
    public async Task RunAsync()
    {
        string tag = $"#{connection.Id}";
        Task input = DedicatedThread.Run($"{tag} in", PumpInput);
        Task output = DedicatedThread.Run($"{tag} out", PumpOutput);
        Task peerDone = Task.WhenAll(output, peer.Ended);
        Task clientDone = Task.WhenAny(input, connection.Completion);
        if (await Task.WhenAny(peerDone, clientDone).ConfigureAwait(false) == peerDone)
        {
            (ushort code, string? reason) = peer.EndStatus(); // logs how it ended
            if (!connection.IsClosing)
            {
                log.LogInformation("{Tag} {Peer} ended; closing with {Code} {Reason}", tag, peer.Name, code, reason);
                await CloseQuietlyAsync(connection, code, reason).ConfigureAwait(false);
            }
        }
        else
        {
            log.LogInformation("{Tag} connection closed ({Code}); stopping {Peer}", tag, connection.CloseStatus, peer.Name);
            await peer.StopAsync(settings.CloseGrace, output).ConfigureAwait(false);
        }

        await input.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        // A descendant that inherited stdout may hold it open after the process is gone: do not wait on it forever.
        if (await Task.WhenAny(output, Task.Delay(settings.CloseGrace)).ConfigureAwait(false) != output)
        {
            log.LogWarning("{Tag} {Peer} is gone but its output is still open (held by a child process?); leaving it", tag, peer.Name);
        }
    }

    /// <summary>Messages → peer input. Receives the next message only after the previous one was written, so a peer
    /// that stops reading stops this loop, and the connection stops reading its socket (TCP backpressure).</summary>
    private void PumpInput()
    {
        bool open = true;
        try
        {
            while (true)
            {
                WebSocketMessage message = DedicatedThread.Wait(connection.ReceiveAsync());
                if (message.IsClose)
                {
                    return;
                }

                if (!settings.Binary && message.Type == MessageType.Binary)
                {
                    log.LogWarning("#{Id} sent a binary message to a line endpoint; closing with 1003", connection.Id);
                    _ = CloseQuietlyAsync(connection, CloseCode.UnsupportedData, "binary messages need --binary");
                    open = false; // nothing after it reaches the program either
                    continue;
                }

                if (open)
                {
                    open = TryWrite(message);
                }
            }
        }
        finally
        {
            peer.CloseInput();
        }
    }

    private bool TryWrite(in WebSocketMessage message)
    {
        try
        {
            foreach (ReadOnlyMemory<byte> segment in message.Payload)
            {
                peer.Input.Write(segment.Span);
            }

            if (!settings.Binary)
            {
                peer.Input.Write("\n"u8);
            }

            peer.Input.Flush();
            return true;
        }
        catch (Exception ex) when (ex is IOException or ObjectDisposedException)
        {
            // The peer closed its input (or exited): keep receiving so the close handshake is seen, drop the data.
            log.LogDebug("#{Id} {Peer} no longer reads its input ({Error}); dropping messages", connection.Id, peer.Name, ex.Message);
            return false;
        }
    }

    /// <summary>Peer output → messages. Reads the next line or chunk only after the previous message was handed to
    /// the connection, which waits while its output is full: a slow client fills the pipe and blocks the writer.</summary>
    private void PumpOutput()
    {
        var sender = new MessageSender(connection);
        try
        {
            if (settings.Binary)
            {
                byte[] chunk = new byte[Math.Min(64 * 1024, settings.MaxMessage)];
                int n;
                while ((n = peer.Output.Read(chunk)) > 0)
                {
                    sender.Send(MessageType.Binary, chunk.AsMemory(0, n));
                }
            }
            else
            {
                using var lines = new LineReader(peer.Output, settings.MaxMessage);
                while (lines.TryReadLine(out ReadOnlyMemory<byte> line))
                {
                    sender.Send(MessageType.Text, line);
                }
            }
        }
        catch (Exception ex) when (ex is IOException or ObjectDisposedException)
        {
            log.LogDebug("#{Id} {Peer} output ended: {Error}", connection.Id, peer.Name, ex.Message);
        }
    }

    internal static async Task CloseQuietlyAsync(WebSocketConnection connection, ushort code, string? reason)
    {
        try
        {
            await connection.CloseAsync(code, reason).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or OperationCanceledException or InvalidOperationException)
        {
            // Already closed: nothing to report.
        }
    }

    /// <summary>Sends on a dedicated thread; after the connection closed, output is read and dropped so the peer is not blocked.</summary>
    private sealed class MessageSender(WebSocketConnection connection)
    {
        private bool _closed;

        public void Send(MessageType type, ReadOnlyMemory<byte> payload)
        {
            if (_closed)
            {
                return;
            }

            try
            {
                if (type == MessageType.Binary)
                {
                    DedicatedThread.Wait(connection.SendBinaryAsync(payload));
                }
                else if (Utf8.IsValid(payload.Span))
                {
                    DedicatedThread.Wait(connection.SendTextAsync(payload));
                }
                else
                {
                    // Text messages must be UTF-8 (§5.6): invalid bytes become U+FFFD rather than failing the line.
                    DedicatedThread.Wait(connection.SendTextAsync(Encoding.UTF8.GetString(payload.Span)));
                }
            }
            catch (IOException)
            {
                _closed = true; // WebSocketClosedException and transport errors: the client is gone
            }
        }
    }
}
