using Sockeye.Protocol;

namespace Sockeye.Tests.Support;

/// <summary>
/// A <see cref="WebSocketConnection"/> running over a <see cref="PipeTransport"/>, with the test as its peer: the
/// peer writes raw frames (masked when the connection is the server) and reads the raw frames the connection sends.
/// </summary>
internal sealed class EngineHarness : IAsyncDisposable
{
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    private EngineHarness(Role role, WebSocketOptions options, PerMessageDeflateParameters? compression)
    {
        Role = role;
        Transport = new PipeTransport();
        HttpHead head = Http.Request(Http.Upgrade("GET /chat?room=1 HTTP/1.1"));
        var request = new WebSocketRequest(head, Transport.RemoteEndPoint, Transport.LocalEndPoint);
        Connection = new WebSocketConnection(Transport, role, options, request, null, null, compression);
        Connection.Start();
    }

    public Role Role { get; }

    public PipeTransport Transport { get; }

    public WebSocketConnection Connection { get; }

    /// <summary>Starts a connection; keepalive pings are off so the output holds only what a test causes.</summary>
    public static EngineHarness Start(Role role, Action<WebSocketOptions>? configure = null, PerMessageDeflateParameters? compression = null)
    {
        var options = new WebSocketOptions { PingInterval = TimeSpan.Zero };
        configure?.Invoke(options);
        return new EngineHarness(role, options, compression);
    }

    /// <summary>Whether the peer masks its frames: it does exactly when the connection under test is the server.</summary>
    public bool PeerMasks => Role == Role.Server;

    public void Send(Opcode opcode, ReadOnlySpan<byte> payload, bool fin = true) =>
        Transport.Write(RawFrame.Build(opcode, payload, fin, mask: PeerMasks));

    public void Send(Opcode opcode, string text, bool fin = true) =>
        Transport.Write(RawFrame.Build(opcode, text, fin, mask: PeerMasks));

    public void SendClose(ushort code, string reason = "") => Transport.Write(RawFrame.Close(code, reason, mask: PeerMasks));

    public void SendRaw(params byte[][] chunks)
    {
        foreach (byte[] chunk in chunks)
        {
            Transport.Write(chunk);
        }
    }

    /// <summary>The next frame the connection sent, or null if its output ended.</summary>
    public Task<RawFrame?> ReadFrameAsync() => RawFrame.ReadAsync(Transport.PeerInput, Timeout);

    public async Task<RawFrame> ExpectFrameAsync()
    {
        RawFrame? frame = await ReadFrameAsync();
        Assert.NotNull(frame);
        return frame;
    }

    /// <summary>Reads the close frame the connection failed with and checks that nothing follows it.</summary>
    public async Task<RawFrame> ExpectCloseThenEndAsync(ushort code)
    {
        RawFrame close = await ExpectFrameAsync();
        Assert.Equal(Opcode.Close, close.Opcode);
        Assert.True(close.Fin);
        Assert.Equal(Role == Role.Client, close.Masked);
        Assert.Equal(code, close.CloseCode);
        Assert.True(Utf8Validator.IsValid(close.Payload.AsSpan(2)));
        await ExpectEndAsync();
        return close;
    }

    public async Task ExpectEndAsync()
    {
        RawFrame? extra = await ReadFrameAsync();
        Assert.True(extra is null, $"expected the end of the stream, got {extra?.Opcode} {Bytes.ToHex(extra?.Wire ?? [])}");
    }

    /// <summary>Echoes every message back until the connection closes.</summary>
    public Task RunEchoAsync() => Task.Run(async () =>
    {
        while (await Connection.ReceiveAsync() is { IsClose: false } message)
        {
            await Connection.SendAsync(message.Type, message.Payload);
        }
    });

    public async ValueTask DisposeAsync()
    {
        await Connection.DisposeAsync().AsTask().WaitAsync(Timeout);
    }
}
