using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;

namespace Sockeye.Transport;

/// <summary>
/// A connected socket as an <see cref="IDuplexPipe"/>. The only layer that touches <see cref="Socket"/>.
/// <list type="bullet">
/// <item>Receive loop: waits with a zero-byte receive, so an idle connection holds no buffer, then reads into pipe
/// memory (no copy between socket and parser).</item>
/// <item>Send loop: everything written to <see cref="Output"/> since the last send goes out in one call, so frames
/// queued by concurrent senders coalesce ("corking") without a timer.</item>
/// </list>
/// </summary>
public sealed class SocketTransport : IWebSocketTransport, IAsyncDisposable
{
    private const int MinReceiveSize = 4096;
    private const int MaxReceiveSize = 256 * 1024;
    private const long DefaultMaxBuffered = 1024 * 1024;
    private readonly Socket _socket;
    private readonly Pipe _input;
    private readonly Pipe _output;
    private readonly Task _receiving;
    private readonly Task _sending;
    private int _disposed;
    private volatile bool _draining;

    /// <summary>Wraps a connected socket and starts its receive and send loops.</summary>
    public SocketTransport(Socket socket, MemoryPool<byte>? pool = null, long maxBufferedInput = DefaultMaxBuffered, long maxBufferedOutput = DefaultMaxBuffered)
    {
        ArgumentNullException.ThrowIfNull(socket);
        _socket = socket;
        _socket.NoDelay = true;
        RemoteEndPoint = socket.RemoteEndPoint;
        LocalEndPoint = socket.LocalEndPoint;
        // Inline schedulers: the parser runs on the thread that completed the receive, and a flush by a sender
        // starts the socket send on its own thread. No thread-pool hop per message.
        _input = new Pipe(GetOptions(pool, maxBufferedInput));
        _output = new Pipe(GetOptions(pool, maxBufferedOutput));
        _receiving = ReceiveLoopAsync();
        _sending = SendLoopAsync();
    }

    // Options are immutable: share the common ones instead of two objects per connection.
    private static PipeOptions? s_defaultOptions;

    private static PipeOptions GetOptions(MemoryPool<byte>? pool, long maxBuffered)
    {
        if (pool is null && maxBuffered == DefaultMaxBuffered)
        {
            return s_defaultOptions ??= Create(BlockPool.Instance, DefaultMaxBuffered);
        }

        return Create(pool ?? BlockPool.Instance, maxBuffered);

        static PipeOptions Create(MemoryPool<byte> pool, long max) => new(pool, PipeScheduler.Inline, PipeScheduler.Inline,
            max, max / 2, MinReceiveSize, useSynchronizationContext: false);
    }

    /// <summary>Bytes received from the peer.</summary>
    public PipeReader Input => _input.Reader;

    /// <summary>Bytes to send to the peer; completing it sends what is buffered, then a FIN.</summary>
    public PipeWriter Output => _output.Writer;

    /// <summary>The peer's address.</summary>
    public EndPoint? RemoteEndPoint { get; }

    /// <summary>Our address.</summary>
    public EndPoint? LocalEndPoint { get; }

    /// <summary>Completes when everything written to <see cref="Output"/> has been sent (or sending failed).</summary>
    internal Task Sending => _sending;

    /// <summary>Completes when the peer has closed its side or receiving failed.</summary>
    internal Task Receiving => _receiving;

    private async Task ReceiveLoopAsync()
    {
        await Task.Yield(); // let the constructor return before the first receive
        PipeWriter writer = _input.Writer;
        Exception? error = null;
        int receiveSize = MinReceiveSize;
        bool moreLikely = false;
        try
        {
            while (true)
            {
                // Zero-byte receive: park without a buffer until data arrives. Skipped right after a receive that
                // filled its buffer, when more data is almost certainly waiting.
                if (!moreLikely)
                {
                    await _socket.ReceiveAsync(Memory<byte>.Empty, SocketFlags.None).ConfigureAwait(false);
                }

                Memory<byte> memory = writer.GetMemory(receiveSize);
                int received = await _socket.ReceiveAsync(memory, SocketFlags.None).ConfigureAwait(false);
                if (received == 0)
                {
                    break;
                }

                // Adapt the receive size: grow while receives fill the buffer (bulk transfer, fewer syscalls),
                // shrink back for small messages so active connections stay small.
                moreLikely = received == memory.Length;
                receiveSize = moreLikely ? Math.Min(receiveSize * 2, MaxReceiveSize) : received < receiveSize / 4 ? MinReceiveSize : receiveSize;

                writer.Advance(received);
                FlushResult flush = await writer.FlushAsync().ConfigureAwait(false);
                if (flush.IsCompleted || flush.IsCanceled || _draining)
                {
                    // The reader is done (connection closing): discard input until the peer's FIN.
                    await DrainAsync().ConfigureAwait(false);
                    break;
                }
            }
        }
        catch (SocketException ex) when (IsConnectionEnd(ex.SocketErrorCode))
        {
            // The peer reset or we closed the socket: an ordinary end of input.
        }
        catch (ObjectDisposedException)
        {
        }
        catch (Exception ex) when (ex is SocketException or IOException)
        {
            error = ex;
        }

        await writer.CompleteAsync(error).ConfigureAwait(false);
    }

    private async Task DrainAsync()
    {
        byte[] scratch = ArrayPool<byte>.Shared.Rent(MinReceiveSize);
        try
        {
            while (await _socket.ReceiveAsync(scratch.AsMemory(), SocketFlags.None).ConfigureAwait(false) > 0)
            {
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(scratch);
        }
    }

    private async Task SendLoopAsync()
    {
        PipeReader reader = _output.Reader;
        Exception? error = null;
        try
        {
            while (true)
            {
                ReadResult result = await reader.ReadAsync().ConfigureAwait(false);
                ReadOnlySequence<byte> buffer = result.Buffer;
                try
                {
                    foreach (ReadOnlyMemory<byte> segment in buffer)
                    {
                        for (ReadOnlyMemory<byte> rest = segment; !rest.IsEmpty;)
                        {
                            int sent = await _socket.SendAsync(rest, SocketFlags.None).ConfigureAwait(false);
                            rest = rest[sent..];
                        }
                    }
                }
                finally
                {
                    reader.AdvanceTo(buffer.End);
                }

                if (result.IsCompleted || result.IsCanceled)
                {
                    break;
                }
            }

            // All queued bytes are out: send FIN so the peer sees an orderly end (RFC 6455 §7.1.1).
            _socket.Shutdown(SocketShutdown.Send);
        }
        catch (SocketException ex) when (IsConnectionEnd(ex.SocketErrorCode))
        {
        }
        catch (ObjectDisposedException)
        {
        }
        catch (Exception ex) when (ex is SocketException or IOException)
        {
            error = ex;
        }

        await reader.CompleteAsync(error).ConfigureAwait(false);
        if (error is not null)
        {
            // Senders must not block on a pipe nobody drains any more.
            _output.Writer.CancelPendingFlush();
        }
    }

    private static bool IsConnectionEnd(SocketError code) =>
        code is SocketError.ConnectionReset or SocketError.ConnectionAborted or SocketError.Shutdown
            or SocketError.OperationAborted or SocketError.Interrupted or SocketError.NotConnected or SocketError.Disconnecting;

    /// <summary>Closes the socket at once; pending receives end and unsent bytes are dropped.</summary>
    public void Abort()
    {
        try
        {
            _socket.Close(0);
        }
        catch (ObjectDisposedException)
        {
        }
    }

    /// <summary>
    /// Sends what is queued, shuts down the send side, waits (up to <paramref name="lingerTimeout"/>) for the peer to
    /// close its side so our last bytes are not lost to a reset, then closes the socket.
    /// </summary>
    public async Task CloseAsync(TimeSpan lingerTimeout)
    {
        await _output.Writer.CompleteAsync().ConfigureAwait(false);
        try
        {
            await _sending.WaitAsync(lingerTimeout).ConfigureAwait(false);
            // Drain and discard input until the peer's FIN, so closing does not send RST over unread data. The
            // input pipe itself is left to its reader, which may still hold delivered bytes.
            _draining = true;
            _input.Writer.CancelPendingFlush();
            await _receiving.WaitAsync(lingerTimeout).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
        }

        Abort();
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        Abort();
        await _input.Reader.CompleteAsync().ConfigureAwait(false);
        await _output.Writer.CompleteAsync().ConfigureAwait(false);
        await Task.WhenAll(_receiving, _sending).ConfigureAwait(false);
        _socket.Dispose();
    }
}
