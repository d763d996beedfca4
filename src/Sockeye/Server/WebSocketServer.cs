using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Sockeye.Server;

/// <summary>
/// A WebSocket server: listens on one TCP port, answers the HTTP/1.1 upgrade, routes connections to endpoints by
/// path and serves static files to plain GET requests on the same port.
/// </summary>
/// <example>
/// <code>
/// await using var server = new WebSocketServer(new WebSocketServerOptions { Port = 8080 });
/// server.Map("/echo", async ws =>
/// {
///     while (await ws.ReceiveAsync() is { IsClose: false } message)
///         await ws.SendAsync(message.Type, message.Payload);
/// });
/// await server.RunAsync(stoppingToken);
/// </code>
/// </example>
public sealed partial class WebSocketServer : IAsyncDisposable
{
    private readonly ConcurrentDictionary<long, WebSocketConnection> _connections = new();
    // Accepted TCP connections still being served; StopAsync waits for them to reach zero.
    private int _sessionCount;
    private readonly TaskCompletionSource _sessionsDone = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly CancellationTokenSource _stopping = new();
    private readonly ILogger _logger;
    private readonly ILogger _connectionLogger;
    // Routing, origin, host, limit, hooks, subprotocol and compression: the whole upgrade decision.
    private readonly HandshakePolicy _policy;
    private Socket? _listener;
    private int? _boundPort;
    private Task? _acceptLoop;

    /// <summary>Creates a server; call <see cref="Map"/> then <see cref="StartAsync"/> or <see cref="RunAsync"/>.</summary>
    public WebSocketServer(WebSocketServerOptions? options = null)
    {
        Options = options ?? new WebSocketServerOptions();
        _policy = new HandshakePolicy(Options);
        ILoggerFactory factory = Options.LoggerFactory ?? NullLoggerFactory.Instance;
        _logger = factory.CreateLogger("Sockeye.Server");
        _connectionLogger = factory.CreateLogger("Sockeye.Connection");
    }

    /// <summary>The server's options.</summary>
    public WebSocketServerOptions Options { get; }

    /// <summary>The port actually listened on (useful with port 0).</summary>
    public int Port => _boundPort ?? Options.Port;

    /// <summary>Connections currently open.</summary>
    public int ConnectionCount => _connections.Count;

    /// <summary>Routes WebSocket connections for <paramref name="path"/> (exact, decoded) to <paramref name="handler"/>.</summary>
    public WebSocketEndpoint Map(string path, WebSocketHandler handler, EndpointOptions? options = null) =>
        _policy.Map(path, handler, options);

    /// <summary>Routes WebSocket connections whose path matches no <see cref="Map"/> to <paramref name="handler"/>.</summary>
    public WebSocketEndpoint MapFallback(WebSocketHandler handler, EndpointOptions? options = null) =>
        _policy.MapFallback(handler, options);

    /// <summary>Binds the port and starts accepting connections.</summary>
    public Task StartAsync(CancellationToken cancellationToken = default)
    {
        IPAddress address = Options.Host switch
        {
            "localhost" => IPAddress.Loopback,
            "*" or "+" => IPAddress.IPv6Any,
            var host => IPAddress.Parse(host),
        };
        var listener = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        if (address.Equals(IPAddress.IPv6Any))
        {
            listener.DualMode = true;
        }

        try
        {
            AllowRebindOverTimeWait(listener);
            listener.Bind(new IPEndPoint(address, Options.Port));
            listener.Listen(Options.Backlog);
        }
        catch
        {
            listener.Dispose();
            throw;
        }

        _listener = listener;
        _boundPort = (listener.LocalEndPoint as IPEndPoint)?.Port;
        _logger.LogInformation("listening on {Scheme}://{Endpoint}", Options.Certificate is null ? "http" : "https", FormatEndPoint(listener.LocalEndPoint));
        _acceptLoop = AcceptLoopAsync(listener);
        return Task.CompletedTask;
    }

    /// <summary>
    /// A restarted server must be able to bind while its old connections sit in TIME_WAIT, but must never share the
    /// port with a live listener. .NET's <see cref="SocketOptionName.ReuseAddress"/> sets SO_REUSEPORT too on Linux,
    /// which lets a second server bind the same port and take half the connections; plain SO_REUSEADDR (set raw)
    /// allows only the TIME_WAIT case, so a second server fails with "address already in use".
    /// </summary>
    private static void AllowRebindOverTimeWait(Socket listener)
    {
        if (OperatingSystem.IsLinux())
        {
            listener.SetRawSocketOption(1 /* SOL_SOCKET */, 2 /* SO_REUSEADDR */, BitConverter.GetBytes(1));
        }
        else if (OperatingSystem.IsMacOS() || OperatingSystem.IsFreeBSD())
        {
            listener.SetRawSocketOption(0xFFFF /* SOL_SOCKET */, 4 /* SO_REUSEADDR */, BitConverter.GetBytes(1));
        }
        else if (OperatingSystem.IsWindows())
        {
            listener.ExclusiveAddressUse = true; // Windows' SO_REUSEADDR would allow port stealing
        }
    }

    /// <summary>Starts, runs until <paramref name="cancellationToken"/> is canceled, then stops gracefully.</summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        await StartAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await Task.Delay(Timeout.Infinite, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }

        await StopAsync().ConfigureAwait(false);
    }

    /// <summary>
    /// Stops accepting, closes every open connection with 1001 (going away) and waits for their closing handshakes,
    /// at most <see cref="WebSocketOptions.CloseTimeout"/>.
    /// </summary>
    public async Task StopAsync()
    {
        if (_stopping.IsCancellationRequested)
        {
            return;
        }

        await _stopping.CancelAsync().ConfigureAwait(false);
        _listener?.Dispose();
        if (_acceptLoop is not null)
        {
            await _acceptLoop.ConfigureAwait(false);
        }

        // Graceful: each connection gets 1001 after the messages already queued for it, then has until the
        // deadline to answer; whatever is still open then is cut.
        var closing = _connections.Values.Select(c => CloseQuietlyAsync(c, CloseCode.GoingAway, "server shutting down")).ToList();
        _logger.LogInformation("closing {Count} connections (deadline {Timeout})", closing.Count, Options.ShutdownTimeout);
        await Task.WhenAll(closing).WaitAsync(Options.ShutdownTimeout).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        foreach (WebSocketConnection straggler in _connections.Values)
        {
            if (!straggler.Completion.IsCompleted) // closed in time but not yet unregistered: nothing to cut
            {
                straggler.Abort("shutdown deadline passed");
            }
        }

        if (Volatile.Read(ref _sessionCount) == 0)
        {
            _sessionsDone.TrySetResult();
        }

        await _sessionsDone.Task.WaitAsync(TimeSpan.FromSeconds(2)).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        _logger.LogInformation("stopped");
    }

    /// <summary>One accepted connection is done (refused, served, or its WebSocket closed).</summary>
    private void EndSession()
    {
        if (Interlocked.Decrement(ref _sessionCount) == 0 && _stopping.IsCancellationRequested)
        {
            _sessionsDone.TrySetResult();
        }
    }

    private static async Task CloseQuietlyAsync(WebSocketConnection connection, ushort code, string reason)
    {
        try
        {
            await connection.CloseAsync(code, reason).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or OperationCanceledException or InvalidOperationException)
        {
        }
    }

    internal static string FormatEndPoint(EndPoint? endPoint) => endPoint switch
    {
        IPEndPoint ip when ip.AddressFamily == AddressFamily.InterNetworkV6 => $"[{ip.Address}]:{ip.Port}",
        IPEndPoint ip => $"{ip.Address}:{ip.Port}",
        _ => endPoint?.ToString() ?? "?",
    };

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await StopAsync().ConfigureAwait(false);
        _stopping.Dispose();
    }
}
