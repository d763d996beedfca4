using System.IO.Pipelines;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;

namespace Sockeye.Transport;

/// <summary>
/// A connection over a <see cref="Stream"/> as an <see cref="IWebSocketTransport"/>: TLS (an <see cref="SslStream"/>
/// over the socket), or a stream another host upgraded (ASP.NET Core's HTTP/1.1 upgrade or HTTP/2 extended CONNECT
/// stream). Reads use zero-byte reads (supported by SslStream and Kestrel's streams), so an idle connection holds no
/// pipe buffer either.
/// </summary>
public sealed class StreamTransport : IWebSocketTransport, IAsyncDisposable
{
    private readonly Socket? _socket;
    private readonly Stream _stream;
    private int _closed;

    /// <summary>Wraps <paramref name="stream"/>, which runs over <paramref name="socket"/>.</summary>
    public StreamTransport(Socket socket, Stream stream)
        : this(stream, socket?.RemoteEndPoint, socket?.LocalEndPoint)
    {
        ArgumentNullException.ThrowIfNull(socket);
        _socket = socket;
        _socket.NoDelay = true;
    }

    /// <summary>
    /// Wraps a duplex <paramref name="stream"/> with no socket of its own (e.g. an upgraded HTTP request's stream);
    /// the end points are only reported. Closing ends the stream: the host that owns the connection under it
    /// (an HTTP/2 stream, a Kestrel connection) finishes it. With <paramref name="releaseReadBufferWhenIdle"/> (the
    /// default) reads wait for data with a zero-byte read before taking a buffer, so an idle connection holds none;
    /// without it a connection keeps a 4 KiB read buffer while idle, which pays off for streams whose zero-byte read
    /// is a whole second read (Kestrel's upgraded streams: about twice the small-message rate).
    /// </summary>
    public StreamTransport(Stream stream, EndPoint? remoteEndPoint = null, EndPoint? localEndPoint = null, bool releaseReadBufferWhenIdle = true)
    {
        ArgumentNullException.ThrowIfNull(stream);
        _stream = stream;
        RemoteEndPoint = remoteEndPoint;
        LocalEndPoint = localEndPoint;
        Input = PipeReader.Create(stream, new StreamPipeReaderOptions(bufferSize: 4096, minimumReadSize: 1024, leaveOpen: true, useZeroByteReads: releaseReadBufferWhenIdle));
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

            if (_socket is null)
            {
                // No socket to half-close: the stream's owner ends the connection once the stream is disposed, and
                // waiting for the peer's end first would wait out the linger (§7.1.1: the client waits for ours).
                await _stream.FlushAsync(timeout.Token).ConfigureAwait(false);
            }
            else
            {
                _socket.Shutdown(SocketShutdown.Send);
                // Drain until the peer's end, so closing does not reset the connection over unread data. Straight from
                // the stream: the input pipe is left to its reader, which may still hold delivered bytes.
                byte[] scratch = new byte[4096];
                while (await _stream.ReadAsync(scratch, timeout.Token).ConfigureAwait(false) > 0)
                {
                }
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
            _socket?.Close(0);
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
