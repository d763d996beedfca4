using System.Collections.Concurrent;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Sockeye.Client;

namespace Sockeye.Topics;

/// <summary>
/// A client of the <c>sockeye.v1</c> topics protocol (docs/protocol.md), the C# counterpart of <c>sockeye.js</c>:
/// subscribe, publish with acknowledgement, presence. It reconnects by itself (exponential backoff with full
/// jitter) and resubscribes every topic from the last position it received, so with the server's history every
/// message arrives exactly once and in order; when the server cannot resume, the subscription is told to reset.
/// </summary>
/// <remarks>
/// <para>Errors are <see cref="TopicException"/>s with a <see cref="TopicException.Code"/>: the server's
/// (<c>forbidden</c>, <c>bad_request</c>, <c>unavailable</c>, <c>too_large</c>, …) or the client's own:
/// <c>timeout</c> (no answer within <see cref="TopicClientOptions.RequestTimeout"/>), <c>disconnected</c> (the
/// connection the request was sent on closed before its answer: its outcome is unknown, and it is not retried,
/// since a retry could publish twice), <c>closed</c> (the client was disposed).</para>
/// <para>All methods may be called from any thread. Handlers and events run on the client's receive loop.</para>
/// </remarks>
/// <example>
/// <code>
/// await using TopicClient client = await TopicClient.ConnectAsync(new Uri("ws://127.0.0.1:8080/"));
/// await using TopicSubscription chat = await client.SubscribeAsync("chat", m => Console.WriteLine(m.GetText()));
/// StreamPosition position = await client.PublishTextAsync("chat", "hello");
/// </code>
/// </example>
public sealed partial class TopicClient : IAsyncDisposable
{
    private readonly Uri _uri;
    private readonly TopicClientOptions _options;
    private readonly WebSocketClientOptions _connect;
    private readonly ILogger _log;
    private readonly Lock _gate = new();
    private readonly Dictionary<long, PendingRequest> _pending = [];
    private readonly ConcurrentDictionary<string, TopicSubscription> _subscriptions = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, TopicSubscription>.AlternateLookup<ReadOnlySpan<char>> _subscriptionsBySpan;
    private readonly CancellationTokenSource _disposing = new();
    private readonly TaskCompletionSource _firstOpen = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Timer _sweep;
    private readonly long _timeoutMs;
    private WebSocketConnection? _open;     // the connection once its hello arrived (requests go out on it)
    private WebSocketConnection? _current;  // the connection being run, open or not (closed on dispose)
    private long _nextId;
    private int _attempts;
    private Task? _supervisor;
    private volatile TopicClientState _state = TopicClientState.Connecting;
    private volatile string? _connectionId;
    private bool _disposed;

    private TopicClient(Uri uri, TopicClientOptions options)
    {
        _uri = uri;
        _options = options;
        _connect = WithSubprotocol(options.Connection);
        _log = (options.Connection.LoggerFactory ?? NullLoggerFactory.Instance).CreateLogger("Sockeye.Topics.Client");
        _subscriptionsBySpan = _subscriptions.GetAlternateLookup<ReadOnlySpan<char>>();
        _timeoutMs = (long)options.RequestTimeout.TotalMilliseconds;
        // One timer checks every deadline, instead of a timer per request.
        TimeSpan period = TimeSpan.FromMilliseconds(Math.Clamp(_timeoutMs / 10, 10, 250));
        _sweep = new Timer(static s => ((TopicClient)s!).ExpireRequests(), this, period, period);
    }

    /// <summary>The connection's state.</summary>
    public TopicClientState State => _state;

    /// <summary>This connection's id as presence shows it (from the server's <c>hello</c>); null while not open.</summary>
    public string? ConnectionId => _connectionId;

    /// <summary>The state changed (raised on the client's receive loop: do not block in it).</summary>
    public event EventHandler<TopicClientStateChangedEventArgs>? StateChanged;

    /// <summary>
    /// Connects to a topics endpoint (<c>ws://</c> or <c>wss://</c>) with the <c>sockeye.v1</c> subprotocol and waits
    /// for the server's <c>hello</c>. Throws as <see cref="WebSocketClient.ConnectAsync"/> does when the first
    /// connection fails (<see cref="WebSocketHandshakeException"/> also when the server does not speak
    /// <c>sockeye.v1</c>), and <see cref="TimeoutException"/> when no <c>hello</c> comes within the handshake
    /// timeout. Once connected, the client reconnects by itself until disposed.
    /// </summary>
    public static async Task<TopicClient> ConnectAsync(Uri uri, TopicClientOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(uri);
        options ??= new TopicClientOptions();
        options.Validate();
        var client = new TopicClient(uri, options);
        try
        {
            WebSocketConnection connection = await client.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
            client._supervisor = client.SuperviseAsync(connection);
            try
            {
                await client._firstOpen.Task.WaitAsync(options.Connection.HandshakeTimeout, cancellationToken).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                throw new TimeoutException($"{uri} sent no sockeye.v1 hello within {options.Connection.HandshakeTimeout.TotalSeconds:0.#} s");
            }

            return client;
        }
        catch
        {
            await client.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>
    /// Subscribes to <paramref name="topic"/>, delivering each message to <paramref name="handler"/> on the receive
    /// loop (zero-copy: the payload is valid only during the call). Completes when the server confirmed the
    /// subscription; throws <see cref="TopicException"/> when it refused (<c>forbidden</c>, <c>bad_request</c>) or
    /// did not answer in time.
    /// </summary>
    public Task<TopicSubscription> SubscribeAsync(string topic, TopicMessageHandler handler, TopicSubscribeOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(handler);
        return SubscribeCoreAsync(topic, handler, options, cancellationToken);
    }

    /// <summary>
    /// Subscribes to <paramref name="topic"/>; read its messages with <see cref="TopicSubscription.ReadAllAsync"/>
    /// (up to <see cref="TopicSubscribeOptions.Capacity"/> wait there; beyond, the client stops reading from the
    /// server until the reader catches up). Otherwise as the handler overload.
    /// </summary>
    public Task<TopicSubscription> SubscribeAsync(string topic, TopicSubscribeOptions? options = null, CancellationToken cancellationToken = default) =>
        SubscribeCoreAsync(topic, null, options, cancellationToken);

    /// <summary>
    /// Publishes to <paramref name="topic"/> and returns the message's position once the server acknowledged it.
    /// While the client is reconnecting the message waits and is sent on the next connection (within the timeout).
    /// Throws <see cref="TopicException"/>: refused by the server, <c>timeout</c>, <c>disconnected</c> (sent, but
    /// the connection closed before the acknowledgement: it may or may not have been published), <c>closed</c>.
    /// </summary>
    public ValueTask<StreamPosition> PublishAsync(string topic, MessageType type, ReadOnlyMemory<byte> payload, CancellationToken cancellationToken = default)
    {
        if (type is not (MessageType.Text or MessageType.Binary))
        {
            throw new ArgumentException("Only text and binary messages can be published.", nameof(type));
        }

        if (TopicName.Check(topic) is { } invalid)
        {
            return ValueTask.FromException<StreamPosition>(new TopicException("bad_request", invalid));
        }

        long id = NextId();
        OutgoingFrame frame = type == MessageType.Text
            ? ClientFrames.PublishText(id, topic, payload.Span)
            : ClientFrames.PublishBinary(id, topic, payload.Span);
        return PositionOf(Request(id, "pub", topic, frame, cancellationToken));
    }

    /// <summary>Publishes a text message; as <see cref="PublishAsync"/>.</summary>
    public ValueTask<StreamPosition> PublishTextAsync(string topic, string text, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (TopicName.Check(topic) is { } invalid)
        {
            return ValueTask.FromException<StreamPosition>(new TopicException("bad_request", invalid));
        }

        long id = NextId();
        return PositionOf(Request(id, "pub", topic, ClientFrames.PublishText(id, topic, text), cancellationToken));
    }

    /// <summary>The members of a topic with presence on (each with the info it subscribed with).</summary>
    public async Task<IReadOnlyList<PresenceMember>> GetPresenceAsync(string topic, CancellationToken cancellationToken = default)
    {
        if (TopicName.Check(topic) is { } invalid)
        {
            throw new TopicException("bad_request", invalid);
        }

        long id = NextId();
        RequestAnswer answer = await Request(id, "presence", topic, ClientFrames.Simple("presence", id, topic), cancellationToken).ConfigureAwait(false);
        return answer.Members ?? [];
    }

    /// <summary>
    /// Closes the connection (1000) and stops reconnecting. Waiting requests fail with <c>closed</c>; every
    /// subscription completes.
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        List<PendingRequest> failed;
        WebSocketConnection? connection;
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            _open = null;
            _connectionId = null;
            connection = _current;
            failed = TakeAllLocked(static _ => true);
            TransitionLocked(TopicClientState.Closed);
        }

        await _disposing.CancelAsync().ConfigureAwait(false);
        await _sweep.DisposeAsync().ConfigureAwait(false);
        foreach (PendingRequest request in failed)
        {
            request.SetException(new TopicException("closed", "the client was disposed"));
        }

        foreach (TopicSubscription subscription in _subscriptions.Values)
        {
            subscription.End(null);
        }

        _subscriptions.Clear();
        RaiseStateChanged(TopicClientState.Closed, null, null);
        _firstOpen.TrySetException(new TopicException("closed", "the client was disposed"));
        _ = _firstOpen.Task.Exception; // observed: nobody else may wait for it

        if (connection is not null)
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            try
            {
                await connection.CloseAsync(1000, null, timeout.Token).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is OperationCanceledException or IOException or InvalidOperationException)
            {
                connection.Abort("topic client disposed");
            }
        }

        if (_supervisor is not null)
        {
            await _supervisor.ConfigureAwait(false);
        }

        _disposing.Dispose();
    }

    private async Task<TopicSubscription> SubscribeCoreAsync(string topic, TopicMessageHandler? handler, TopicSubscribeOptions? options, CancellationToken cancellationToken)
    {
        options ??= new TopicSubscribeOptions();
        if (TopicName.Check(topic) is { } invalid)
        {
            throw new TopicException("bad_request", invalid);
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(options.Capacity, 1);
        if (options.Presence is { } info)
        {
            // Checked once here; every (re)subscription sends it as raw JSON.
            using System.Text.Json.JsonDocument _ = System.Text.Json.JsonDocument.Parse(info);
        }

        var subscription = new TopicSubscription(this, topic, handler, options);
        lock (_gate)
        {
            if (_disposed)
            {
                throw new TopicException("closed", "the client was disposed");
            }

            if (!_subscriptions.TryAdd(topic, subscription))
            {
                throw new TopicException("bad_request", $"already subscribed to '{topic}'");
            }

            if (_open is { } connection)
            {
                SendSubscribeLocked(subscription, connection);
            }
        }

        try
        {
            await subscription.Ready.Task.WaitAsync(_options.RequestTimeout, cancellationToken).ConfigureAwait(false);
            return subscription;
        }
        catch (Exception ex) when (ex is TimeoutException or OperationCanceledException)
        {
            await UnsubscribeAsync(subscription, CancellationToken.None).ConfigureAwait(false);
            if (ex is TimeoutException)
            {
                throw new TopicException("timeout", $"no answer to 'sub' on '{topic}' within {_timeoutMs} ms");
            }

            throw;
        }
    }

    internal async ValueTask UnsubscribeAsync(TopicSubscription subscription, CancellationToken cancellationToken)
    {
        bool open;
        lock (_gate)
        {
            if (!_subscriptions.TryRemove(new KeyValuePair<string, TopicSubscription>(subscription.Topic, subscription)))
            {
                return;
            }

            subscription.Active = false;
            open = _open is not null;
        }

        subscription.End(null);
        if (!open)
        {
            return; // no connection holds it, and the next one will not resubscribe
        }

        try
        {
            long id = NextId();
            await Request(id, "unsub", subscription.Topic, ClientFrames.Simple("unsub", id, subscription.Topic), cancellationToken).ConfigureAwait(false);
        }
        catch (TopicException ex)
        {
            // Locally it is over either way; a server that did not hear it forgets it with the connection.
            _log.LogDebug("topics client: unsubscribing from '{Topic}': {Code} {Reason}", subscription.Topic, ex.Code, ex.Message);
        }
    }

    // State changes are decided under the gate (so Closed is final), and announced outside it.
    private bool TransitionLocked(TopicClientState state)
    {
        if (_state == state || _state == TopicClientState.Closed)
        {
            return false;
        }

        _state = state;
        return true;
    }

    private void RaiseStateChanged(TopicClientState state, string? connectionId, WebSocketConnection? lost)
    {
        if (StateChanged is { } handlers)
        {
            Invoke(args => handlers(this, args), new TopicClientStateChangedEventArgs(state, connectionId, lost?.CloseStatus, lost?.CloseReason));
        }
    }

    private long NextId() => Interlocked.Increment(ref _nextId);

    private async Task<WebSocketConnection> OpenConnectionAsync(CancellationToken cancellationToken)
    {
        WebSocketConnection connection = await WebSocketClient.ConnectAsync(_uri, _connect, cancellationToken).ConfigureAwait(false);
        if (!string.Equals(connection.Subprotocol, TopicHub.Subprotocol, StringComparison.Ordinal))
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            throw new WebSocketHandshakeException($"{_uri} did not agree to the {TopicHub.Subprotocol} subprotocol");
        }

        return connection;
    }

    // Runs one connection after another until disposed: receive until it closes, then reconnect.
    private async Task SuperviseAsync(WebSocketConnection connection)
    {
        while (true)
        {
            bool run;
            lock (_gate)
            {
                run = !_disposed;
                _current = run ? connection : null;
            }

            if (run)
            {
                await ReceiveLoopAsync(connection).ConfigureAwait(false);
            }

            OnConnectionLost(connection);
            await connection.DisposeAsync().ConfigureAwait(false);
            WebSocketConnection? next = await ReconnectAsync().ConfigureAwait(false);
            if (next is null)
            {
                return;
            }

            connection = next;
        }
    }

    private async Task<WebSocketConnection?> ReconnectAsync()
    {
        CancellationToken disposing = _disposing.Token;
        while (!disposing.IsCancellationRequested)
        {
            // Full jitter: a random delay up to the exponential bound, so a restarted server is not hit by every
            // client at once.
            double bound = Math.Min(_options.MaxReconnectDelay.TotalMilliseconds,
                _options.MinReconnectDelay.TotalMilliseconds * Math.Pow(2, Math.Min(_attempts, 30)));
            _attempts++;
            try
            {
                await Task.Delay(TimeSpan.FromMilliseconds(Random.Shared.NextDouble() * bound), disposing).ConfigureAwait(false);
                return await OpenConnectionAsync(disposing).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (disposing.IsCancellationRequested)
            {
                return null;
            }
            catch (Exception ex) when (ex is SocketException or IOException or OperationCanceledException or TimeoutException)
            {
                _log.LogDebug("topics client: reconnecting to {Uri} (attempt {Attempt}) failed: {Reason}", _uri, _attempts, ex.Message);
            }
        }

        return null;
    }

    private void OnConnectionLost(WebSocketConnection connection)
    {
        List<PendingRequest> failed;
        bool reconnecting;
        lock (_gate)
        {
            if (ReferenceEquals(_open, connection))
            {
                _open = null;
            }

            _current = null;
            _connectionId = null;
            // A request sent on the lost connection may or may not have been applied: it fails rather than being
            // re-sent (a retried publish could be published twice). Requests not sent yet wait for the next one.
            failed = TakeAllLocked(r => ReferenceEquals(r.SentOn, connection));
            reconnecting = !_disposed && TransitionLocked(TopicClientState.Reconnecting);
        }

        foreach (PendingRequest request in failed)
        {
            request.SetException(new TopicException("disconnected",
                $"the connection closed before '{request.Op}' on '{request.Topic}' was answered; its outcome is unknown"));
        }

        if (reconnecting)
        {
            _log.LogInformation("topics client: connection to {Uri} lost ({Code} {Reason}); reconnecting", _uri, connection.CloseStatus, connection.CloseReason);
            RaiseStateChanged(TopicClientState.Reconnecting, null, connection);
        }
    }

    private static WebSocketClientOptions WithSubprotocol(WebSocketClientOptions source)
    {
        var copy = new WebSocketClientOptions
        {
            WebSocket = source.WebSocket,
            HandshakeTimeout = source.HandshakeTimeout,
            MaxResponseHeaderBytes = source.MaxResponseHeaderBytes,
            AllowInvalidCertificates = source.AllowInvalidCertificates,
            RemoteCertificateValidation = source.RemoteCertificateValidation,
            LoggerFactory = source.LoggerFactory,
        };
        copy.Subprotocols.Add(TopicHub.Subprotocol);
        foreach (string subprotocol in source.Subprotocols)
        {
            if (!string.Equals(subprotocol, TopicHub.Subprotocol, StringComparison.Ordinal))
            {
                copy.Subprotocols.Add(subprotocol);
            }
        }

        foreach (KeyValuePair<string, string> header in source.Headers)
        {
            copy.Headers.Add(header);
        }

        return copy;
    }
}
