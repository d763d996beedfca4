using System.Buffers;
using BenchmarkDotNet.Attributes;
using Sockeye.Protocol;

namespace Sockeye.Micro;

/// <summary>Frame header parsing (single and split buffers) and writing.</summary>
[MemoryDiagnoser]
public class FrameBenchmarks
{
    private readonly byte[] _small = new byte[16];
    private readonly byte[] _large = new byte[16];
    private ReadOnlySequence<byte> _split;
    private readonly byte[] _destination = new byte[FrameHeader.MaxSize];
    private ReceiveRules _rules;

    [GlobalSetup]
    public void Setup()
    {
        FrameHeader.Write(_small, fin: true, Opcode.Binary, 64, masked: true, 0x12345678);
        FrameHeader.Write(_large, fin: true, Opcode.Binary, 1 << 20, masked: true, 0x12345678);
        _split = Segments.Split(_large, 3);
        _rules = new ReceiveRules(Role.Server, 16 << 20, 16 << 20);
    }

    [Benchmark(Description = "parse 7-bit length, contiguous")]
    public long ParseSmall()
    {
        FrameHeader.TryRead(new ReadOnlySequence<byte>(_small), out FrameHeader header, out _);
        return header.PayloadLength;
    }

    [Benchmark(Description = "parse 64-bit length, split across segments")]
    public long ParseSplit()
    {
        FrameHeader.TryRead(_split, out FrameHeader header, out _);
        return header.PayloadLength;
    }

    [Benchmark(Description = "parse + check rules")]
    public bool ParseAndCheck()
    {
        FrameHeader.TryRead(new ReadOnlySequence<byte>(_small), out FrameHeader header, out _);
        return _rules.OnHeader(header, out _).IsError;
    }

    [Benchmark(Description = "write masked header")]
    public int Write() => FrameHeader.Write(_destination, fin: true, Opcode.Text, 300, masked: true, 0xCAFEBABE);
}
