using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Sockeye.Tests.Support;

/// <summary>A plain TCP client for speaking (and misspeaking) HTTP/1.1 to the server byte by byte.</summary>
internal sealed class RawHttp : IDisposable
{
    private readonly Socket _socket;
    private readonly List<byte> _buffer = [];
    private bool _ended;

    private RawHttp(Socket socket) => _socket = socket;

    public static async Task<RawHttp> ConnectAsync(int port)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        await socket.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port));
        return new RawHttp(socket);
    }

    public async Task SendAsync(string text) => await SendAsync(Encoding.Latin1.GetBytes(text));

    public async Task SendAsync(byte[] bytes) => await _socket.SendAsync(bytes, SocketFlags.None);

    /// <summary>Reads one response: the head, then Content-Length bytes of body.</summary>
    public async Task<(int Status, string Head, byte[] Body)> ReadResponseAsync()
    {
        using var cts = new CancellationTokenSource(TestServer.Timeout);
        int headEnd;
        while ((headEnd = IndexOf("\r\n\r\n"u8)) < 0)
        {
            Assert.True(await FillAsync(cts.Token), "connection closed before a complete response head: " + Encoding.Latin1.GetString([.. _buffer]));
        }

        string head = Encoding.Latin1.GetString(_buffer.GetRange(0, headEnd + 4).ToArray());
        int status = int.Parse(head.AsSpan(9, 3), System.Globalization.CultureInfo.InvariantCulture);
        int length = 0;
        foreach (string line in head.Split("\r\n"))
        {
            if (line.StartsWith("Content-Length:", StringComparison.OrdinalIgnoreCase))
            {
                length = int.Parse(line.AsSpan(15).Trim(), System.Globalization.CultureInfo.InvariantCulture);
            }
        }

        int total = headEnd + 4 + length;
        while (_buffer.Count < total)
        {
            Assert.True(await FillAsync(cts.Token), "connection closed inside a response body");
        }

        byte[] body = _buffer.GetRange(headEnd + 4, length).ToArray();
        _buffer.RemoveRange(0, total);
        return (status, head, body);
    }

    /// <summary>Reads only a response head (for HEAD requests and 101 responses).</summary>
    public async Task<string> ReadHeadAsync()
    {
        using var cts = new CancellationTokenSource(TestServer.Timeout);
        int headEnd;
        while ((headEnd = IndexOf("\r\n\r\n"u8)) < 0)
        {
            Assert.True(await FillAsync(cts.Token), "connection closed before a complete response head");
        }

        string head = Encoding.Latin1.GetString(_buffer.GetRange(0, headEnd + 4).ToArray());
        _buffer.RemoveRange(0, headEnd + 4);
        return head;
    }

    /// <summary>Everything until the server closes the connection (a reset after its data also counts as the end).</summary>
    public async Task<byte[]> ReadToEndAsync()
    {
        using var cts = new CancellationTokenSource(TestServer.Timeout);
        while (await FillAsync(cts.Token))
        {
        }

        byte[] all = [.. _buffer];
        _buffer.Clear();
        return all;
    }

    /// <summary>Bytes received but not consumed by a Read call.</summary>
    public byte[] Pending => [.. _buffer];

    public async Task<byte[]> ReadExactlyAsync(int count)
    {
        using var cts = new CancellationTokenSource(TestServer.Timeout);
        while (_buffer.Count < count)
        {
            Assert.True(await FillAsync(cts.Token), "connection closed early");
        }

        byte[] result = _buffer.GetRange(0, count).ToArray();
        _buffer.RemoveRange(0, count);
        return result;
    }

    private async Task<bool> FillAsync(CancellationToken cancellationToken)
    {
        if (_ended)
        {
            return false;
        }

        var chunk = new byte[65536];
        int n;
        try
        {
            n = await _socket.ReceiveAsync(chunk, SocketFlags.None, cancellationToken);
        }
        catch (SocketException ex) when (ex.SocketErrorCode is SocketError.ConnectionReset)
        {
            n = 0;
        }

        if (n == 0)
        {
            _ended = true;
            return false;
        }

        _buffer.AddRange(chunk.AsSpan(0, n));
        return true;
    }

    private int IndexOf(ReadOnlySpan<byte> needle) => _buffer.ToArray().AsSpan().IndexOf(needle);

    public void Dispose() => _socket.Dispose();
}
