using System.IO.Pipelines;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;

namespace Sockeye.Transport;

/// <summary>
/// A connection over a <see cref="Stream"/> (TLS: an <see cref="SslStream"/> over the socket) as an
/// <see cref="IWebSocketTransport"/>. Reads use zero-byte reads (supported by SslStream), so an idle TLS connection
/// holds no pipe buffer either.
/// </summary>
public sealed class StreamTransport : IWebSocketTransport, IAsyncDisposable
{
    private readonly Socket _socket;
    private readonly Stream _stream;
    private int _closed;

    /// <summary>Wraps <paramref name="stream"/>, which runs over <paramref name="socket"/>.</summary>
    public StreamTransport(Socket socket, Stream stream)
    {
        ArgumentNullException.ThrowIfNull(socket);
        ArgumentNullException.ThrowIfNull(stream);
        _socket = socket;
        _socket.NoDelay = true;
        _stream = stream;
        RemoteEndPoint = socket.RemoteEndPoint;
        LocalEndPoint = socket.LocalEndPoint;
        Input = PipeReader.Create(stream, new StreamPipeReaderOptions(bufferSize: 4096, minimumReadSize: 1024, leaveOpen: true, useZeroByteReads: true));
        Output = PipeWriter.Create(stream, new StreamPipeWriterOptions(minimumBufferSize: 4096, leaveOpen: true));
    }

    /// <inheritdoc />
    public PipeReader Input { get; }

    /// <inheritdoc />
    public PipeWriter Output { get; }

    /// <inheritdoc />
    public EndPoint? RemoteEndPoint { get; }

    /// <inheritdoc />
    public EndPoint? LocalEndPoint { get; }

    /// <inheritdoc />
    public async Task CloseAsync(TimeSpan lingerTimeout)
    {
        if (Interlocked.Exchange(ref _closed, 1) != 0)
        {
            return;
        }

        using var timeout = new CancellationTokenSource(lingerTimeout);
        try
        {
            await Output.CompleteAsync().ConfigureAwait(false);
            if (_stream is SslStream ssl)
            {
                await ssl.ShutdownAsync().WaitAsync(timeout.Token).ConfigureAwait(false); // TLS close_notify
            }

            _socket.Shutdown(SocketShutdown.Send);
            // Drain until the peer's end, so closing does not reset the connection over unread data. Straight from
            // the stream: the input pipe is left to its reader, which may still hold delivered bytes.
            byte[] scratch = new byte[4096];
            while (await _stream.ReadAsync(scratch, timeout.Token).ConfigureAwait(false) > 0)
            {
            }
        }
        catch (Exception ex) when (ex is IOException or SocketException or OperationCanceledException or ObjectDisposedException or InvalidOperationException)
        {
        }

        Abort();
    }

    /// <inheritdoc />
    public void Abort()
    {
        Interlocked.Exchange(ref _closed, 1);
        try
        {
            _socket.Close(0);
        }
        catch (ObjectDisposedException)
        {
        }

        _stream.Dispose();
    }

    /// <inheritdoc />
    public ValueTask DisposeAsync()
    {
        Abort();
        return ValueTask.CompletedTask;
    }
}
