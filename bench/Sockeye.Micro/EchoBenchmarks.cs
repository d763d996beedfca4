using System.Buffers;
using System.IO.Pipelines;
using BenchmarkDotNet.Attributes;
using Sockeye.Protocol;
using Sockeye.Transport;

namespace Sockeye.Micro;

/// <summary>
/// One message through a server connection's whole engine (parse, unmask, validate, deliver, send) over an
/// in-memory transport. MemoryDiagnoser's "Allocated" column is the allocation per echoed message (goal: 0 B).
/// </summary>
[MemoryDiagnoser]
public class EchoBenchmarks
{
    private byte[] _frame = [];
    private InMemoryTransport _client = null!;
    private WebSocketConnection _server = null!;
    private Task _echo = Task.CompletedTask;
    private int _responseLength;

    [Params(16, 1024, 65536)]
    public int Size { get; set; }

    [Params(false, true)]
    public bool Text { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        (InMemoryTransport serverSide, InMemoryTransport clientSide) = InMemoryTransport.CreatePair(
            new PipeOptions(readerScheduler: PipeScheduler.Inline, writerScheduler: PipeScheduler.Inline,
                pauseWriterThreshold: 0, useSynchronizationContext: false));
        _client = clientSide;
        _server = WebSocketConnection.Open(serverSide, Role.Server, new WebSocketOptions { PingInterval = TimeSpan.Zero, MaxMessageSize = 1 << 20 });
        _echo = EchoAsync(_server);

        byte[] payload = new byte[Size];
        Array.Fill(payload, (byte)'x');
        int headerSize = FrameHeader.GetSize(Size, masked: true);
        _frame = new byte[headerSize + Size];
        uint key = 0x11223344;
        FrameHeader.Write(_frame, fin: true, Text ? Opcode.Text : Opcode.Binary, Size, masked: true, key);
        Mask.CopyAndApply(payload, _frame.AsSpan(headerSize), key, 0);
        _responseLength = FrameHeader.GetSize(Size, masked: false) + Size;
    }

    private static async Task EchoAsync(WebSocketConnection connection)
    {
        while (await connection.ReceiveAsync() is { IsClose: false } message)
        {
            await connection.SendAsync(message.Type, message.Payload);
        }
    }

    [Benchmark(Description = "echo one message through the engine")]
    public async ValueTask<long> Echo()
    {
        await _client.Output.WriteAsync(_frame);
        long received = 0;
        while (received < _responseLength)
        {
            ReadResult result = await _client.Input.ReadAsync();
            received += result.Buffer.Length;
            _client.Input.AdvanceTo(result.Buffer.End);
        }

        return received;
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _client.Abort();
        _server.Abort();
    }
}
