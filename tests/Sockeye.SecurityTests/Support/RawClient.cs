using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Sockeye.SecurityTests.Support;

/// <summary>
/// A hostile or minimal peer over a real loopback socket: writes whatever bytes a test wants and reads the
/// server's answer (an HTTP head, frames, or the end of the connection) with timeouts, never with sleeps.
/// </summary>
internal sealed class RawClient : IAsyncDisposable
{
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(15);
    private readonly List<byte> _buffer = [];
    private bool _ended;

    private RawClient(Socket socket)
    {
        Socket = socket;
    }

    public Socket Socket { get; }

    /// <summary>Bytes received and not yet consumed by a Read call.</summary>
    public int Buffered => _buffer.Count;

    public static async Task<RawClient> ConnectAsync(int port, int? receiveBufferSize = null)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        if (receiveBufferSize is { } size)
        {
            socket.ReceiveBufferSize = size;
        }

        await socket.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port));
        return new RawClient(socket);
    }

    /// <summary>Connects and completes a valid opening handshake; asserts the 101.</summary>
    public static async Task<RawClient> UpgradeAsync(int port, string path = "/", int? receiveBufferSize = null, params string[] extraHeaders)
    {
        RawClient client = await ConnectAsync(port, receiveBufferSize);
        await client.SendAsync(Handshake.Request(port, path, extraHeaders));
        string head = await client.ReadHeadAsync();
        Assert.StartsWith("HTTP/1.1 101 ", head, StringComparison.Ordinal);
        return client;
    }

    public async Task SendAsync(ReadOnlyMemory<byte> bytes)
    {
        while (!bytes.IsEmpty)
        {
            int n = await Socket.SendAsync(bytes, SocketFlags.None);
            bytes = bytes[n..];
        }
    }

    public Task SendAsync(string latin1) => SendAsync(Encoding.Latin1.GetBytes(latin1));

    /// <summary>Sends, ignoring a reset or broken pipe: the server may legitimately close before all bytes are taken.</summary>
    public async Task<bool> TrySendAsync(ReadOnlyMemory<byte> bytes)
    {
        try
        {
            await SendAsync(bytes);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    /// <summary>Receives more bytes into the buffer; false at the end of the stream (FIN or reset).</summary>
    private async Task<bool> FillAsync(CancellationToken token)
    {
        if (_ended)
        {
            return false;
        }

        byte[] chunk = new byte[64 * 1024];
        int n;
        try
        {
            n = await Socket.ReceiveAsync(chunk, SocketFlags.None, token);
        }
        catch (SocketException)
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

    /// <summary>Reads an HTTP response head (status line and fields), leaving any bytes after it buffered.</summary>
    public async Task<string> ReadHeadAsync(TimeSpan? timeout = null)
    {
        using var cts = new CancellationTokenSource(timeout ?? Timeout);
        while (true)
        {
            int end = IndexOf(_buffer, "\r\n\r\n"u8);
            if (end >= 0)
            {
                string head = Encoding.Latin1.GetString([.. _buffer.GetRange(0, end + 4)]);
                _buffer.RemoveRange(0, end + 4);
                return head;
            }

            if (!await FillAsync(cts.Token))
            {
                throw new IOException($"connection ended before a complete HTTP head; got: {Encoding.Latin1.GetString([.. _buffer])}");
            }
        }
    }

    /// <summary>Reads everything until the server ends the connection; throws if it does not within the timeout.</summary>
    public async Task<byte[]> ReadToEndAsync(TimeSpan? timeout = null)
    {
        using var cts = new CancellationTokenSource(timeout ?? Timeout);
        while (await FillAsync(cts.Token))
        {
        }

        byte[] all = [.. _buffer];
        _buffer.Clear();
        return all;
    }

    /// <summary>The next frame from the server, or null when the connection ended first.</summary>
    public async Task<WireFrame?> ReadFrameAsync(TimeSpan? timeout = null)
    {
        using var cts = new CancellationTokenSource(timeout ?? Timeout);
        while (true)
        {
            int size = Frames.TryParse(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(_buffer), out WireFrame? frame);
            if (size > 0)
            {
                _buffer.RemoveRange(0, size);
                return frame;
            }

            if (!await FillAsync(cts.Token))
            {
                return null;
            }
        }
    }

    /// <summary>Reads frames, skipping pings/pongs/data, until the server's close frame; asserts it arrives.</summary>
    public async Task<WireFrame> ReadCloseAsync(TimeSpan? timeout = null)
    {
        while (true)
        {
            WireFrame? frame = await ReadFrameAsync(timeout);
            Assert.True(frame is not null, "the connection ended without a close frame");
            if (frame.Opcode == 0x8)
            {
                return frame;
            }
        }
    }

    /// <summary>Asserts the server ends the TCP connection (FIN or reset) within the timeout.</summary>
    public async Task ExpectEndAsync(TimeSpan? timeout = null) => await ReadToEndAsync(timeout);

    private static int IndexOf(List<byte> list, ReadOnlySpan<byte> needle) =>
        System.Runtime.InteropServices.CollectionsMarshal.AsSpan(list).IndexOf(needle);

    public ValueTask DisposeAsync()
    {
        Socket.Dispose();
        return ValueTask.CompletedTask;
    }
}

internal static class Handshake
{
    public const string Key = "dGhlIHNhbXBsZSBub25jZQ==";

    /// <summary>A valid upgrade request for 127.0.0.1:<paramref name="port"/>, with extra header lines.</summary>
    public static string Request(int port, string path = "/", params string[] extraHeaders)
    {
        var sb = new StringBuilder();
        sb.Append("GET ").Append(path).Append(" HTTP/1.1\r\nHost: 127.0.0.1:").Append(port)
          .Append("\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ").Append(Key)
          .Append("\r\nSec-WebSocket-Version: 13\r\n");
        foreach (string header in extraHeaders)
        {
            sb.Append(header).Append("\r\n");
        }

        return sb.Append("\r\n").ToString();
    }

    /// <summary>The status code of an HTTP response head.</summary>
    public static int Status(string head) => int.Parse(head.AsSpan(9, 3), System.Globalization.CultureInfo.InvariantCulture);
}
