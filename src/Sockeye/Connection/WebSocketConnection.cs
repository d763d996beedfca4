using System.IO.Pipelines;
using System.Net;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Sockeye.Extensions;
using Sockeye.Protocol;
using Sockeye.Transport;

namespace Sockeye;

/// <summary>
/// One open WebSocket connection, server or client side: receive messages, send messages, close.
/// </summary>
/// <remarks>
/// <para><b>Thread safety.</b> Sends (<see cref="SendTextAsync(string, CancellationToken)"/>,
/// <see cref="SendBinaryAsync(ReadOnlyMemory{byte}, CancellationToken)"/>, <see cref="SendAsync(MessageType, System.Buffers.ReadOnlySequence{byte}, CancellationToken)"/>) may be called concurrently from any thread; each message
/// goes out whole and messages keep the order of the calls. Receives must not overlap: call
/// <see cref="ReceiveAsync"/> (or <see cref="ReceivePartAsync"/>) again only after the previous call completed.
/// <see cref="CloseAsync"/> may be called at any time from any thread.</para>
/// <para><b>Receiving drives the connection.</b> Pings are answered and close frames handled by an internal read
/// loop, but data messages are only read when the application asks for them: an application that stops receiving
/// applies TCP backpressure to its peer instead of buffering without bound.</para>
/// </remarks>
public sealed partial class WebSocketConnection : IAsyncDisposable
{
    private static long s_nextId;

    private readonly IWebSocketTransport _transport;
    private readonly PipeReader _input;
    private readonly PipeWriter _output;
    private readonly Role _role;
    private readonly WebSocketOptions _options;
    private readonly ILogger _logger;
    private readonly MessageHandoff _handoff = new();
    private readonly TaskCompletionSource _closed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _closeReceivedSignal = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Task? _readLoop;

    internal WebSocketConnection(IWebSocketTransport transport, Role role, WebSocketOptions options, WebSocketRequest request,
        string? subprotocol, ILogger? logger, PerMessageDeflateParameters? compression = null)
    {
        if (compression is not null)
        {
            _deflate = new PerMessageDeflate(role, compression, options.Deflate ?? new PerMessageDeflateOptions());
        }

        _transport = transport;
        _input = transport.Input;
        _output = transport.Output;
        _role = role;
        _options = options;
        _logger = logger ?? NullLogger.Instance;
        _rules = new ReceiveRules(role, options.MaxMessageSize, options.EffectiveMaxFrameSize,
            allowedRsv: _deflate?.RsvBits ?? 0, minFragmentCharge: options.MinFragmentCharge);
        Request = request;
        Subprotocol = subprotocol;
        Id = Interlocked.Increment(ref s_nextId);
    }

    /// <summary>A process-unique number for this connection, used in log lines.</summary>
    public long Id { get; }

    /// <summary>Which side of the connection this is.</summary>
    public Role Role => _role;

    /// <summary>The opening handshake request (for a client: the request it sent).</summary>
    public WebSocketRequest Request { get; }

    /// <summary>The peer's address.</summary>
    public EndPoint? RemoteEndPoint => _transport.RemoteEndPoint;

    /// <summary>The negotiated subprotocol, or null when none was agreed.</summary>
    public string? Subprotocol { get; }

    /// <summary>The agreed <c>Sec-WebSocket-Extensions</c> value, or null when no extension is in use.</summary>
    public string? Extensions => _deflate?.Header;

    /// <summary>The agreed permessage-deflate parameters (RFC 7692), or null when messages are not compressed.</summary>
    public PerMessageDeflateParameters? Compression => _deflate?.Parameters;

    /// <summary>
    /// The close code of the closing handshake once the connection is closing: the code the peer sent (1005 if its
    /// close frame had none), the code we failed the connection with, or 1006 if the TCP connection ended without
    /// a close frame. Null while open.
    /// </summary>
    public ushort? CloseStatus { get; private set; }

    /// <summary>The close reason that goes with <see cref="CloseStatus"/> (may be empty).</summary>
    public string? CloseReason { get; private set; }

    /// <summary>True once a close frame has been sent or received, or the connection failed.</summary>
    public bool IsClosing => _closeSent || _closeReceived || _failed;

    /// <summary>Completes when the connection is fully closed and its transport released.</summary>
    public Task Completion => _closed.Task;

    /// <summary>Application state attached to this connection (e.g. by a handshake hook).</summary>
    public object? State { get; set; }

    /// <summary>The options in effect for this connection (a copy: changing it changes nothing).</summary>
    public WebSocketOptions Options => _options.Clone();

    /// <summary>
    /// Runs a WebSocket connection over a transport whose opening handshake was already done elsewhere (custom
    /// hosting, an in-memory transport in tests). The connection starts reading at once.
    /// </summary>
    /// <param name="transport">The transport, past its opening handshake.</param>
    /// <param name="role">This side's role.</param>
    /// <param name="options">Limits and timeouts (copied).</param>
    /// <param name="subprotocol">The subprotocol agreed in the handshake.</param>
    /// <param name="logger">Where to log.</param>
    /// <param name="compression">permessage-deflate parameters agreed in the handshake (both sides must use the same), or null.</param>
    public static WebSocketConnection Open(IWebSocketTransport transport, Role role, WebSocketOptions? options = null,
        string? subprotocol = null, ILogger? logger = null, PerMessageDeflateParameters? compression = null)
    {
        ArgumentNullException.ThrowIfNull(transport);
        var head = new HttpHead { Method = "GET", Target = "/", VersionMajor = 1, VersionMinor = 1 };
        var request = new WebSocketRequest(head, transport.RemoteEndPoint, transport.LocalEndPoint);
        var connection = new WebSocketConnection(transport, role, (options ?? new WebSocketOptions()).Clone(), request, subprotocol, logger, compression);
        connection.Start();
        return connection;
    }

    internal void Start()
    {
        _lastReceived = Environment.TickCount64;
        StartKeepalive();
        _readLoop = ReadLoopAsync();
    }

    /// <summary>
    /// Receives the next whole message. The returned payload is valid until the next receive call. Returns a message
    /// of type <see cref="MessageType.Close"/> once the connection has closed. Canceling the token aborts the connection.
    /// </summary>
    public ValueTask<WebSocketMessage> ReceiveAsync(CancellationToken cancellationToken = default) =>
        ReceiveCoreAsync(ReceiveMode.Whole, cancellationToken);

    /// <summary>
    /// Receives the next part of a message as it arrives, for streaming large messages without holding them whole:
    /// parts of one message have <see cref="WebSocketMessage.EndOfMessage"/> false until the last. The message size
    /// limit does not apply to streamed messages (the frame size limit does). Text parts may split a character.
    /// </summary>
    public ValueTask<WebSocketMessage> ReceivePartAsync(CancellationToken cancellationToken = default) =>
        ReceiveCoreAsync(ReceiveMode.Stream, cancellationToken);

    private ValueTask<WebSocketMessage> ReceiveCoreAsync(ReceiveMode mode, CancellationToken cancellationToken)
    {
        ValueTask<WebSocketMessage> pending = _handoff.RequestAsync(mode);
        if (pending.IsCompleted || !cancellationToken.CanBeCanceled)
        {
            return pending;
        }

        return AwaitWithCancellationAsync(pending, cancellationToken);
    }

    private async ValueTask<WebSocketMessage> AwaitWithCancellationAsync(ValueTask<WebSocketMessage> pending, CancellationToken cancellationToken)
    {
        // A receive cannot be withdrawn halfway through a message, so cancellation aborts the connection.
        await using (cancellationToken.Register(static s => ((WebSocketConnection)s!).Abort("receive canceled"), this).ConfigureAwait(false))
        {
            WebSocketMessage message = await pending.ConfigureAwait(false);
            cancellationToken.ThrowIfCancellationRequested();
            return message;
        }
    }

    /// <summary>Closes the connection abruptly, without a closing handshake (status 1006).</summary>
    public void Abort(string reason = "aborted")
    {
        if (_closed.Task.IsCompleted)
        {
            return; // already closed and released: nothing to abort, nothing to log
        }

        if (CloseStatus is null)
        {
            CloseStatus = CloseCode.AbnormalClosure;
            CloseReason = reason;
        }

        _failed = true;
        Log.Aborted(_logger, Id, reason);
        _transport.Abort();
        _handoff.Complete();
        SignalAborted();
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        if (!_closed.Task.IsCompleted)
        {
            Abort("disposed");
        }

        if (_readLoop is not null)
        {
            await _readLoop.ConfigureAwait(false);
        }
    }

    /// <inheritdoc />
    public override string ToString() => $"#{Id} {RemoteEndPoint} {Request.Path}";
}
