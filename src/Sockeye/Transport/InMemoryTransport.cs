using System.IO.Pipelines;
using System.Net;

namespace Sockeye.Transport;

/// <summary>
/// A transport over in-process pipes: two connected ends, no sockets. For tests and benchmarks of code built on
/// Sockeye, and for running a server and client in one process without the network.
/// </summary>
public sealed class InMemoryTransport : IWebSocketTransport
{
    private readonly Pipe _incoming;
    private readonly Pipe _outgoing;

    private InMemoryTransport(Pipe incoming, Pipe outgoing)
    {
        _incoming = incoming;
        _outgoing = outgoing;
    }

    /// <summary>Two transports where what one writes, the other reads.</summary>
    public static (InMemoryTransport First, InMemoryTransport Second) CreatePair(PipeOptions? options = null)
    {
        options ??= new PipeOptions(pool: BlockPool.Instance, readerScheduler: PipeScheduler.Inline, writerScheduler: PipeScheduler.Inline, useSynchronizationContext: false);
        var a = new Pipe(options);
        var b = new Pipe(options);
        return (new InMemoryTransport(a, b), new InMemoryTransport(b, a));
    }

    /// <inheritdoc />
    public PipeReader Input => _incoming.Reader;

    /// <inheritdoc />
    public PipeWriter Output => _outgoing.Writer;

    /// <inheritdoc />
    public EndPoint? RemoteEndPoint => null;

    /// <inheritdoc />
    public EndPoint? LocalEndPoint => null;

    /// <inheritdoc />
    public async Task CloseAsync(TimeSpan lingerTimeout) => await _outgoing.Writer.CompleteAsync().ConfigureAwait(false);

    /// <inheritdoc />
    public void Abort()
    {
        // Like a reset socket: both directions end. Only the pipes' thread-safe wake-ups are used: completing a
        // writer from here would race the connection (or its peer) writing to it and corrupt the pipe (seen as a
        // NullReferenceException inside Pipe under concurrent aborts). Both read loops see a canceled read and end;
        // both writers see a canceled flush (output lost) and complete their own pipe ends as they finish.
        _incoming.Reader.CancelPendingRead();
        _outgoing.Reader.CancelPendingRead();
        _outgoing.Writer.CancelPendingFlush();
        _incoming.Writer.CancelPendingFlush();
    }
}
