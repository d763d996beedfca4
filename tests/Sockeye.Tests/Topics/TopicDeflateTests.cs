using System.Buffers;
using System.IO.Compression;
using System.IO.Pipelines;
using System.Text;
using Sockeye.Topics;
using Sockeye.Transport;

namespace Sockeye.Tests.Topics;

/// <summary>
/// Compress once for many (RFC 7692): connections whose compressor keeps no context (server_no_context_takeover) get
/// the same compressed frame; connections with context takeover get the plain frame (§6 lets any message go
/// uncompressed). Frames are read raw from the pipe and inflated with System.IO.Compression, an independent
/// implementation.
/// </summary>
public class TopicDeflateTests
{
    private static readonly string Text = string.Concat(Enumerable.Repeat("{\"sym\":\"NVDA\",\"price\":101.37,\"n\":4417} ", 100));

    [Fact]
    public async Task Subscribers_without_context_takeover_share_one_compressed_frame_and_others_get_it_plain()
    {
        await using var hub = new TopicHub();
        var independent = new PerMessageDeflateParameters(true, true, 15, 15, "permessage-deflate; server_no_context_takeover; client_no_context_takeover");
        var takeover = new PerMessageDeflateParameters(false, false, 15, 15, "permessage-deflate");
        (WebSocketConnection a, PipeReader ra) = Open(independent);
        (WebSocketConnection b, PipeReader rb) = Open(independent);
        (WebSocketConnection c, PipeReader rc) = Open(takeover);
        foreach (WebSocketConnection connection in new[] { a, b, c })
        {
            await hub.SubscribeAsync(connection, "t");
        }

        await hub.PublishTextAsync("t", Text);
        byte[] frameA = await ReadFrameAsync(ra);
        byte[] frameB = await ReadFrameAsync(rb);
        byte[] frameC = await ReadFrameAsync(rc);

        Assert.Equal(frameA, frameB); // the same bytes for both
        Assert.Equal(0x40, frameA[0] & 0x40); // RSV1: compressed
        Assert.True(frameA.Length < Text.Length / 4, $"compressed frame is {frameA.Length} bytes for {Text.Length}");
        Assert.Equal(Text, Inflate(Payload(frameA)));
        Assert.Equal(0, frameC[0] & 0x40); // plain for the connection whose compressor keeps context
        Assert.Equal(Text, Encoding.UTF8.GetString(Payload(frameC)));
    }

    private static (WebSocketConnection Server, PipeReader Peer) Open(PerMessageDeflateParameters agreed)
    {
        (InMemoryTransport server, InMemoryTransport client) = InMemoryTransport.CreatePair();
        var options = new WebSocketOptions { PingInterval = TimeSpan.Zero, Deflate = new PerMessageDeflateOptions() };
        return (WebSocketConnection.Open(server, Role.Server, options, compression: agreed), client.Input);
    }

    private static async Task<byte[]> ReadFrameAsync(PipeReader reader)
    {
        while (true)
        {
            ReadResult result = await reader.ReadAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(10));
            byte[] bytes = result.Buffer.ToArray();
            int length = bytes.Length >= 2 ? (bytes[1] & 0x7F) : -1;
            int header = 2;
            Assert.NotEqual(127, length); // these frames are under 64 KiB
            if (length == 126)
            {
                length = bytes.Length >= 4 ? (bytes[2] << 8) | bytes[3] : -1;
                header = 4;
            }

            if (length >= 0 && bytes.Length >= header + length)
            {
                reader.AdvanceTo(result.Buffer.GetPosition(header + length));
                return bytes[..(header + length)];
            }

            reader.AdvanceTo(result.Buffer.Start, result.Buffer.End);
        }
    }

    private static byte[] Payload(byte[] frame) => (frame[1] & 0x7F) == 126 ? frame[4..] : frame[2..];

    // §7.2.2: append 00 00 ff ff and inflate as raw deflate.
    private static string Inflate(byte[] data)
    {
        using var input = new MemoryStream([.. data, 0x00, 0x00, 0xff, 0xff]);
        using var inflate = new DeflateStream(input, CompressionMode.Decompress);
        using var output = new MemoryStream();
        var buffer = new byte[4096];
        int n;
        while ((n = inflate.Read(buffer)) > 0)
        {
            output.Write(buffer, 0, n);
        }

        return Encoding.UTF8.GetString(output.ToArray());
    }
}
