using System.Buffers.Binary;
using System.Diagnostics;
using Sockeye.Client;
using Sockeye.SecurityTests.Support;

namespace Sockeye.SecurityTests.Attacks;

/// <summary>Attacks with frames, after a valid upgrade, over real loopback sockets against an echo server.</summary>
[Collection(RunsAlone.Name)]
public sealed class FrameAttackTests
{
    [Fact]
    public async Task A_64_bit_length_with_the_top_bit_set_is_a_protocol_error()
    {
        await using var server = await Servers.StartEchoAsync();
        await using RawClient client = await RawClient.UpgradeAsync(server.Port);
        await client.SendAsync(Frames.Build(0x2, [], declaredLength: 0x8000_0000_0000_0005UL));
        WireFrame close = await client.ReadCloseAsync();
        Assert.Equal(CloseCode.ProtocolError, close.CloseCode);
        await client.ExpectEndAsync();
        await Servers.AssertHealthyAsync(server);
    }

    [Theory]
    [InlineData(1UL << 40)]            // a terabyte
    [InlineData((1UL << 20) + 1)]      // one byte over the default 1 MiB limit
    public async Task A_declared_length_over_the_limit_is_refused_with_1009_before_any_payload(ulong length)
    {
        await using var server = await Servers.StartEchoAsync();
        await using RawClient client = await RawClient.UpgradeAsync(server.Port);
        var watch = Stopwatch.StartNew();
        await client.SendAsync(Frames.Build(0x2, [], declaredLength: length)); // header only, no payload follows
        WireFrame close = await client.ReadCloseAsync();
        Assert.Equal(CloseCode.MessageTooBig, close.CloseCode);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(3), $"refusal took {watch.Elapsed}");
        await client.ExpectEndAsync();
        await Servers.AssertHealthyAsync(server);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(0)]
    public async Task A_flood_of_tiny_fragments_is_refused_with_1009(int fragmentSize)
    {
        await using var server = await Servers.StartEchoAsync();
        await using RawClient client = await RawClient.UpgradeAsync(server.Port);
        // 1 MiB limit / 64-byte minimum charge = 16,384 fragments allowed; send 40,000, never finishing the message.
        var flood = new List<byte>(Frames.Build(0x2, new byte[fragmentSize], fin: false));
        byte[] fragment = Frames.Build(0x0, new byte[fragmentSize], fin: false);
        for (int i = 0; i < 40_000; i++)
        {
            flood.AddRange(fragment);
        }

        Task<WireFrame> close = client.ReadCloseAsync();
        await client.TrySendAsync(flood.ToArray());
        WireFrame frame = await close;
        Assert.Equal(CloseCode.MessageTooBig, frame.CloseCode);
        Assert.Contains("small fragments", frame.CloseReason, StringComparison.Ordinal);
        await Servers.AssertHealthyAsync(server);
    }

    [Fact]
    public async Task Four_MiB_in_64_byte_fragments_fits_a_4_MiB_limit_and_is_echoed_whole()
    {
        const int Size = 4 * 1024 * 1024;
        await using var server = await Servers.StartEchoAsync(o => o.WebSocket.MaxMessageSize = Size);
        await using RawClient client = await RawClient.UpgradeAsync(server.Port);
        byte[] message = new byte[Size];
        new Random(42).NextBytes(message);
        var wire = new List<byte>(Size + (Size / 64 * 6));
        for (int offset = 0; offset < Size; offset += 64)
        {
            wire.AddRange(Frames.Build(offset == 0 ? (byte)0x2 : (byte)0x0, message.AsSpan(offset, 64), fin: offset + 64 == Size, key: [1, 2, 3, 4]));
        }

        Task<WireFrame?> echo = client.ReadFrameAsync(TimeSpan.FromSeconds(60));
        await client.SendAsync(wire.ToArray());
        WireFrame? frame = await echo;
        Assert.NotNull(frame);
        Assert.Equal(0x2, frame.Opcode);
        Assert.True(frame.Fin);
        Assert.Equal(message, frame.Payload);
        await Servers.AssertHealthyAsync(server);
    }

    [Fact]
    public async Task Endless_zero_length_frames_do_not_starve_other_connections()
    {
        await using var server = await Servers.StartEchoAsync();
        await using RawClient flooder = await RawClient.UpgradeAsync(server.Port);
        using var stop = new CancellationTokenSource();
        long framesSent = 0;
        // Empty pongs (no answer owed) and empty text messages (echoed; drained below), as fast as the socket takes them.
        byte[] batch = [.. Enumerable.Range(0, 500).SelectMany(i => i % 2 == 0 ? Frames.Build(0xA, []) : Frames.Build(0x1, []))];
        Task flood = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                await flooder.SendAsync(batch);
                Interlocked.Add(ref framesSent, 500);
            }
        });
        long echoes = 0;
        Task<string?> drain = Task.Run<string?>(async () =>
        {
            while (await flooder.ReadFrameAsync(TimeSpan.FromSeconds(30)) is { } frame)
            {
                if (frame.Opcode == 0x1)
                {
                    Interlocked.Increment(ref echoes);
                    if (frame.Payload.Length > 0)
                    {
                        return frame.Text;
                    }
                }
            }

            return null;
        });

        // The flood is well under way before the others are measured: on a busy machine the flooding task may start
        // late, and five quick health checks could otherwise all finish before it had sent anything.
        await Servers.EventuallyAsync(() => Interlocked.Read(ref framesSent) > 10_000 || flood.IsCompleted, "10,000 flood frames sent", TimeSpan.FromSeconds(30));
        Assert.False(flood.IsCompleted, $"the flood ended early: {flood.Exception}");

        // Meanwhile other clients get through, repeatedly.
        for (int i = 0; i < 5; i++)
        {
            await Servers.AssertHealthyAsync(server);
        }

        // ...while the flood was still going (its loop ends only when stopped or when a send fails).
        Assert.False(flood.IsCompleted, $"the flood ended while the others were served: {flood.Exception}");
        await stop.CancelAsync();
        await flood;
        // The flooding connection itself still works: a real message after the flood is echoed.
        await flooder.SendAsync(Frames.Text("after the flood"));
        Assert.Equal("after the flood", await drain.WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.True(Interlocked.Read(ref echoes) > 1_000);
    }

    [Fact]
    public async Task A_ping_flood_is_answered_in_order_and_leaves_the_server_healthy()
    {
        await using var server = await Servers.StartEchoAsync();
        await using RawClient client = await RawClient.UpgradeAsync(server.Port);
        const int Pings = 10_000;
        byte[] wire = [.. Enumerable.Range(0, Pings).SelectMany(i => Frames.Build(0x9, BitConverter.GetBytes(i)))];
        Task<int> pongs = Task.Run(async () =>
        {
            int expected = 0;
            while (expected < Pings && await client.ReadFrameAsync() is { } frame)
            {
                Assert.Equal(0xA, frame.Opcode);
                Assert.Equal(expected, BitConverter.ToInt32(frame.Payload));
                expected++;
            }

            return expected;
        });
        await client.SendAsync(wire);
        Assert.Equal(Pings, await pongs);
        await client.SendAsync(Frames.Text("still echoing"));
        Assert.Equal("still echoing", (await client.ReadFrameAsync())!.Text);
        await Servers.AssertHealthyAsync(server);
    }

    [Fact]
    public async Task A_ping_flood_from_a_peer_that_never_reads_its_pongs_is_held_back_not_buffered()
    {
        // Pongs wait for the send buffer (MaxSendBuffer), so a peer that floods pings without reading stops being
        // read: TCP backpressure reaches the flooder instead of the server's memory growing.
        await using var server = await Servers.StartEchoAsync(o => o.WebSocket.MaxSendBuffer = 64 * 1024);
        await using RawClient client = await RawClient.UpgradeAsync(server.Port, "/", receiveBufferSize: 16 * 1024);
        byte[] batch = [.. Enumerable.Range(0, 1_000).SelectMany(_ => Frames.Build(0x9, new byte[100]))]; // 106 KB of pings, 102 KB of pongs
        long before = GC.GetTotalMemory(forceFullCollection: true);
        long sent = 0;
        using var stalled = new CancellationTokenSource();
        Task flood = Task.Run(async () =>
        {
            while (sent < 1_000L * 1024 * 1024)
            {
                await client.Socket.SendAsync(batch, System.Net.Sockets.SocketFlags.None, stalled.Token);
                Interlocked.Add(ref sent, batch.Length);
            }
        });

        // Wait until the flooder makes no progress for a second: the server stopped reading it.
        long last = -1;
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (Interlocked.Read(ref sent) != last)
        {
            Assert.True(DateTime.UtcNow < deadline && !flood.IsCompleted, $"the flood was never held back ({sent:N0} bytes accepted)");
            last = Interlocked.Read(ref sent);
            await Task.WhenAny(flood, Task.Delay(1_000));
        }

        long growth = GC.GetTotalMemory(forceFullCollection: true) - before;
        Assert.True(last < 64L * 1024 * 1024, $"{last:N0} bytes of pings were accepted before backpressure");
        Assert.True(growth < 32L * 1024 * 1024, $"managed memory grew by {growth:N0} bytes");
        await stalled.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => flood);
        await Servers.AssertHealthyAsync(server);
    }

    [Theory]
    [InlineData(0x3)]
    [InlineData(0x7)]
    [InlineData(0xB)]
    [InlineData(0xF)]
    public async Task Unknown_opcodes_are_refused_from_the_header_with_1002(byte opcode)
    {
        await using var server = await Servers.StartEchoAsync();
        await using RawClient client = await RawClient.UpgradeAsync(server.Port);
        await client.SendAsync(Frames.Build(opcode, [], declaredLength: 1UL << 32)); // 4 GiB declared, nothing sent
        Assert.Equal(CloseCode.ProtocolError, (await client.ReadCloseAsync()).CloseCode);
        await client.ExpectEndAsync();
        await Servers.AssertHealthyAsync(server);
    }

    [Theory]
    [InlineData(0x9, 126UL)]
    [InlineData(0xA, 65_535UL)]
    [InlineData(0x8, 1UL << 33)]
    public async Task Oversized_control_frames_are_refused_with_1002(byte opcode, ulong length)
    {
        await using var server = await Servers.StartEchoAsync();
        await using RawClient client = await RawClient.UpgradeAsync(server.Port);
        await client.SendAsync(Frames.Build(opcode, [], declaredLength: length));
        Assert.Equal(CloseCode.ProtocolError, (await client.ReadCloseAsync()).CloseCode);
        await client.ExpectEndAsync();
        await Servers.AssertHealthyAsync(server);
    }

    [Theory]
    [InlineData(new byte[] { 0xC3, 0x28 })]             // invalid continuation
    [InlineData(new byte[] { 0xED, 0xA0, 0x80 })]       // UTF-16 surrogate
    [InlineData(new byte[] { 0xF0, 0x9F, 0x98 })]       // truncated 4-byte sequence
    public async Task Invalid_UTF8_in_a_close_reason_is_answered_with_1007(byte[] reason)
    {
        await using var server = await Servers.StartEchoAsync();
        await using RawClient client = await RawClient.UpgradeAsync(server.Port);
        await client.SendAsync(Frames.Close(1000, reason));
        Assert.Equal(CloseCode.InvalidPayloadData, (await client.ReadCloseAsync()).CloseCode);
        await client.ExpectEndAsync();
        await Servers.AssertHealthyAsync(server);
    }

    [Fact]
    public async Task Client_masking_keys_come_from_a_cryptographic_RNG()
    {
        // A raw TCP "server" that answers the handshake and records the masking key of every client frame.
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        int port = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
        const int Frames = 1_000;
        Task<List<uint>> capture = Task.Run(async () =>
        {
            using var socket = await listener.AcceptSocketAsync();
            var peer = await AcceptRawAsync(socket);
            var keys = new List<uint>();
            while (keys.Count < Frames && await peer.ReadFrameAsync() is { } frame)
            {
                Assert.True(frame.Masked);
                keys.Add(frame.MaskingKey);
            }

            return keys;
        });

        var options = new WebSocketClientOptions();
        options.WebSocket.PingInterval = TimeSpan.Zero;
        await using WebSocketConnection client = await WebSocketClient.ConnectAsync(new Uri($"ws://127.0.0.1:{port}/"), options);
        for (int i = 0; i < Frames; i++)
        {
            await client.SendBinaryAsync(new byte[] { (byte)i });
        }

        List<uint> keys = await capture.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(Frames, keys.Count);
        // One collision among 1000 random 32-bit keys happens (~1e-4); two almost never (~7e-9); a counter or a
        // reused key produces many.
        Assert.True(keys.Distinct().Count() >= Frames - 1, "masking keys repeat");
        int arithmetic = keys.Zip(keys.Skip(1), (a, b) => b - a).Zip(keys.Zip(keys.Skip(1), (a, b) => b - a).Skip(1), (d1, d2) => d1 == d2).Count(same => same);
        Assert.True(arithmetic < 3, $"{arithmetic} consecutive keys step by the same amount");
        // Every key bit is set about half the time (binomial, n=1000: 3.5 sigma band ≈ 445..555).
        for (int bit = 0; bit < 32; bit++)
        {
            int ones = keys.Count(k => ((k >> bit) & 1) != 0);
            Assert.InRange(ones, 430, 570);
        }
    }

    /// <summary>Answers a client's opening handshake on a raw accepted socket.</summary>
    internal static async Task<RawPeer> AcceptRawAsync(System.Net.Sockets.Socket socket)
    {
        var peer = new RawPeer(socket);
        string head = await peer.ReadHeadAsync();
        string key = head.Split("\r\n").First(l => l.StartsWith("Sec-WebSocket-Key:", StringComparison.OrdinalIgnoreCase))[18..].Trim();
        await peer.SendAsync($"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {HandshakeKey.ComputeAccept(key)}\r\n\r\n");
        return peer;
    }
}

/// <summary>The server end of a raw accepted socket, reading the client's masked frames.</summary>
internal sealed class RawPeer(System.Net.Sockets.Socket socket)
{
    private readonly List<byte> _buffer = [];

    public async Task SendAsync(string text) => await socket.SendAsync(System.Text.Encoding.ASCII.GetBytes(text), System.Net.Sockets.SocketFlags.None);

    public async Task<string> ReadHeadAsync()
    {
        while (true)
        {
            int end = System.Runtime.InteropServices.CollectionsMarshal.AsSpan(_buffer).IndexOf("\r\n\r\n"u8);
            if (end >= 0)
            {
                string head = System.Text.Encoding.Latin1.GetString([.. _buffer.GetRange(0, end + 4)]);
                _buffer.RemoveRange(0, end + 4);
                return head;
            }

            if (!await FillAsync())
            {
                throw new IOException("client left during the handshake");
            }
        }
    }

    public async Task<WireFrame?> ReadFrameAsync()
    {
        while (true)
        {
            int size = Support.Frames.TryParse(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(_buffer), out WireFrame? frame);
            if (size > 0)
            {
                _buffer.RemoveRange(0, size);
                return frame;
            }

            if (!await FillAsync())
            {
                return null;
            }
        }
    }

    private async Task<bool> FillAsync()
    {
        byte[] chunk = new byte[64 * 1024];
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        int n = await socket.ReceiveAsync(chunk, System.Net.Sockets.SocketFlags.None, timeout.Token);
        _buffer.AddRange(chunk.AsSpan(0, n));
        return n > 0;
    }
}
