using System.Net;
using System.Net.Sockets;
using Sockeye.Client;
using Sockeye.Tests.Support;

namespace Sockeye.Tests.Client;

/// <summary>
/// A connect that gets no answer fails with a <see cref="TimeoutException"/> naming the step that timed out (TCP
/// connect, TLS handshake, WebSocket upgrade) and its likely cause, not "The operation was canceled.".
/// </summary>
public sealed class ClientTimeoutTests : IDisposable
{
    private static readonly TimeSpan Limit = TimeSpan.FromMilliseconds(300);
    private readonly List<Socket> _sockets = [];

    /// <summary>Accepts connections (the kernel completes the TCP handshake) and never answers.</summary>
    private int SilentListener()
    {
        var listener = Track(new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp));
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen(8);
        return ((IPEndPoint)listener.LocalEndPoint!).Port;
    }

    /// <summary>A listener whose accept queue is full: Linux drops further SYNs, so a connect gets no answer.</summary>
    private int FullListener()
    {
        var listener = Track(new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp));
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen(0);
        var endpoint = (IPEndPoint)listener.LocalEndPoint!;
        for (int i = 0; i < 4; i++)
        {
            var filler = Track(new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { Blocking = false });
            try
            {
                filler.Connect(endpoint);
            }
            catch (SocketException e) when (e.SocketErrorCode is SocketError.WouldBlock or SocketError.InProgress)
            {
            }
        }

        return endpoint.Port;
    }

    private Socket Track(Socket socket)
    {
        _sockets.Add(socket);
        return socket;
    }

    private static async Task<TimeoutException> ConnectExpectingTimeout(string url)
    {
        var options = new WebSocketClientOptions { HandshakeTimeout = Limit };
        return await Assert.ThrowsAsync<TimeoutException>(() => WebSocketClient.ConnectAsync(new Uri(url), options).WaitAsync(TestServer.Timeout));
    }

    [Fact]
    public async Task No_answer_to_the_upgrade_request_says_so()
    {
        TimeoutException ex = await ConnectExpectingTimeout($"ws://127.0.0.1:{SilentListener()}/");
        Assert.StartsWith("WebSocket handshake with 127.0.0.1:", ex.Message, StringComparison.Ordinal);
        Assert.Contains("timed out after 0.3 s: no answer to the upgrade request", ex.Message, StringComparison.Ordinal);
        Assert.IsAssignableFrom<OperationCanceledException>(ex.InnerException);
    }

    [Fact]
    public async Task No_TLS_handshake_answer_asks_whether_the_server_serves_TLS()
    {
        TimeoutException ex = await ConnectExpectingTimeout($"wss://127.0.0.1:{SilentListener()}/");
        Assert.StartsWith("TLS handshake with 127.0.0.1:", ex.Message, StringComparison.Ordinal);
        Assert.Contains("no TLS handshake answer (is the server serving TLS on this port", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task No_answer_to_the_TCP_connect_says_so()
    {
        TimeoutException ex = await ConnectExpectingTimeout($"ws://127.0.0.1:{FullListener()}/");
        Assert.StartsWith("TCP connect to 127.0.0.1:", ex.Message, StringComparison.Ordinal);
        Assert.Contains("timed out after 0.3 s: no answer from the host", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_callers_cancellation_is_not_reported_as_a_timeout()
    {
        using var canceled = new CancellationTokenSource();
        var options = new WebSocketClientOptions { HandshakeTimeout = TimeSpan.FromMinutes(1) };
        Task<WebSocketConnection> connecting = WebSocketClient.ConnectAsync(new Uri($"ws://127.0.0.1:{SilentListener()}/"), options, canceled.Token);
        await canceled.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => connecting.WaitAsync(TestServer.Timeout));
    }

    public void Dispose()
    {
        foreach (Socket socket in _sockets)
        {
            socket.Dispose();
        }
    }
}
