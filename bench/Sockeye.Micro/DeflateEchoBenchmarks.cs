using System.Buffers;
using System.IO.Compression;
using System.IO.Pipelines;
using System.Text;
using BenchmarkDotNet.Attributes;
using Sockeye.Protocol;
using Sockeye.Transport;

namespace Sockeye.Micro;

/// <summary>
/// A compressed 64-byte JSON message through a server connection's whole engine with permessage-deflate: inflate
/// (client_no_context_takeover, so a pooled inflater per message), deliver, deflate with context takeover, send.
/// The scenario of bench/run.sh's compressed echo, without sockets. "Allocated" is per echoed message.
/// </summary>
[MemoryDiagnoser]
public class DeflateEchoBenchmarks
{
    private byte[] _frame = [];
    private InMemoryTransport _client = null!;
    private WebSocketConnection _server = null!;
    private Task _echo = Task.CompletedTask;

    [Params(1, 6)]
    public int Level { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        (InMemoryTransport serverSide, InMemoryTransport clientSide) = InMemoryTransport.CreatePair(
            new PipeOptions(readerScheduler: PipeScheduler.Inline, writerScheduler: PipeScheduler.Inline,
                pauseWriterThreshold: 0, useSynchronizationContext: false));
        _client = clientSide;
        var options = new WebSocketOptions
        {
            PingInterval = TimeSpan.Zero,
            Deflate = new PerMessageDeflateOptions { Threshold = 0, CompressionLevel = Level },
        };
        _server = WebSocketConnection.Open(serverSide, Role.Server, options,
            compression: new PerMessageDeflateParameters(false, true, 15, 15, "permessage-deflate; client_no_context_takeover"));
        _echo = EchoAsync(_server);

        byte[] json = Encoding.ASCII.GetBytes("{\"id\":12345,\"type\":\"tick\",\"sym\":\"ABCD\",\"px\":101.25,\"qty\":300}");
        byte[] payload = Compress(json);
        int headerSize = FrameHeader.GetSize(payload.Length, masked: true);
        _frame = new byte[headerSize + payload.Length];
        uint key = 0x11223344;
        FrameHeader.Write(_frame, fin: true, Opcode.Text, payload.Length, masked: true, key, rsv: 0b100);
        Mask.CopyAndApply(payload, _frame.AsSpan(headerSize), key, 0);
    }

    private static byte[] Compress(byte[] data)
    {
        using var output = new MemoryStream();
        using (var deflate = new DeflateStream(output, CompressionLevel.Optimal, leaveOpen: true))
        {
            deflate.Write(data);
            deflate.Flush();
        }

        byte[] all = output.ToArray();
        return all[..all.AsSpan().LastIndexOf((ReadOnlySpan<byte>)[0x00, 0x00, 0xff, 0xff])];
    }

    private static async Task EchoAsync(WebSocketConnection connection)
    {
        while (await connection.ReceiveAsync() is { IsClose: false } message)
        {
            await connection.SendAsync(message.Type, message.Payload);
        }
    }

    [Benchmark(Description = "echo one compressed 64-byte JSON message")]
    public async ValueTask<long> Echo()
    {
        await _client.Output.WriteAsync(_frame);
        while (true)
        {
            ReadResult result = await _client.Input.ReadAsync();
            ReadOnlySequence<byte> buffer = result.Buffer;
            if (FrameHeader.TryRead(buffer, out FrameHeader header, out _) == OperationStatus.Done && buffer.Length >= header.Size + header.PayloadLength)
            {
                long length = header.Size + header.PayloadLength;
                _client.Input.AdvanceTo(buffer.GetPosition(length));
                return length;
            }

            _client.Input.AdvanceTo(buffer.Start, buffer.End);
        }
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _client.Abort();
        _server.Abort();
    }
}
