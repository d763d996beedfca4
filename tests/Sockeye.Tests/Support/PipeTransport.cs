using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using Sockeye.Transport;

namespace Sockeye.Tests.Support;

/// <summary>
/// An in-memory <see cref="IWebSocketTransport"/> over two pipes. The connection reads <see cref="Input"/> and writes
/// <see cref="Output"/>; the test plays the peer through <see cref="WriteAsync"/> (bytes to the connection) and
/// <see cref="PeerInput"/> (bytes from it). Neither pipe applies backpressure, so a test never blocks the engine.
/// </summary>
internal sealed class PipeTransport : IWebSocketTransport
{
    private readonly Pipe _toConnection = new(new PipeOptions(pauseWriterThreshold: 0, resumeWriterThreshold: 0, useSynchronizationContext: false));
    private readonly Pipe _fromConnection = new(new PipeOptions(pauseWriterThreshold: 0, resumeWriterThreshold: 0, useSynchronizationContext: false));
    private readonly Lock _peerGate = new();
    private bool _peerOutputDone;

    public PipeReader Input => _toConnection.Reader;

    public PipeWriter Output => _fromConnection.Writer;

    public EndPoint? RemoteEndPoint { get; } = new IPEndPoint(IPAddress.Loopback, 50000);

    public EndPoint? LocalEndPoint { get; } = new IPEndPoint(IPAddress.Loopback, 9876);

    /// <summary>What the connection wrote, as the peer receives it; completes when the connection closes the transport.</summary>
    public PipeReader PeerInput => _fromConnection.Reader;

    /// <summary>Set when the connection called <see cref="CloseAsync"/>.</summary>
    public TaskCompletionSource Closed { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Set when the connection called <see cref="Abort"/>.</summary>
    public TaskCompletionSource Aborted { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Peer sends bytes to the connection. Returns false when the transport is already closed.</summary>
    public bool Write(ReadOnlySpan<byte> bytes)
    {
        lock (_peerGate)
        {
            if (_peerOutputDone)
            {
                return false;
            }

            // No backpressure: the flush completes synchronously and the reader is scheduled on the thread pool.
            _toConnection.Writer.Write(bytes);
            ValueTask<FlushResult> flush = _toConnection.Writer.FlushAsync();
            return flush.IsCompletedSuccessfully && !flush.Result.IsCompleted;
        }
    }

    /// <summary>Peer half-closes (TCP FIN): the connection sees the end of its input.</summary>
    public void EndPeerOutput()
    {
        lock (_peerGate)
        {
            if (!_peerOutputDone)
            {
                _peerOutputDone = true;
                _toConnection.Writer.Complete();
            }
        }
    }

    public Task CloseAsync(TimeSpan lingerTimeout)
    {
        _fromConnection.Writer.Complete();

        EndPeerOutput();
        Closed.TrySetResult();
        return Task.CompletedTask;
    }

    public void Abort()
    {
        // Like closing a socket: the connection's pending read ends. Its output ends when it closes the transport.
        EndPeerOutput();
        Aborted.TrySetResult();
    }
}
