using System.IO.Compression;
using System.Text;
using BenchmarkDotNet.Attributes;
using Sockeye.Extensions;

namespace Sockeye.Micro;

/// <summary>The zlib calls behind one compressed 64-byte JSON message: deflate with context takeover, inflate with reset.</summary>
[MemoryDiagnoser]
public class ZlibBenchmarks
{
    private readonly byte[] _json = Encoding.ASCII.GetBytes("{\"id\":12345,\"type\":\"tick\",\"sym\":\"ABCD\",\"px\":101.25,\"qty\":300}");
    private readonly byte[] _output = new byte[1024];
    private byte[] _packed = [];
    private ZlibDeflater _deflater = null!;
    private ZlibInflater _inflater = null!;
    private int _counter;

    [Params(1, 6)]
    public int Level { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _deflater = new ZlibDeflater(15, Level, 8);
        _inflater = new ZlibInflater(15);
        using var output = new MemoryStream();
        using (var deflate = new DeflateStream(output, CompressionLevel.Optimal, leaveOpen: true))
        {
            deflate.Write(_json);
            deflate.Flush();
        }

        _packed = output.ToArray();
    }

    [Benchmark(Description = "deflate 64 B, sync flush, context takeover")]
    public int Deflate()
    {
        _json[7] = (byte)('0' + (_counter++ % 10)); // not the very same message every time
        return _deflater.Compress(_json, _output, ZlibNative.ZSyncFlush, out _, out _);
    }

    [Benchmark(Description = "inflate 64 B, then reset")]
    public int Inflate()
    {
        int n = _inflater.Decompress(_packed, _output, out _, out _, out _);
        _inflater.Reset();
        return n;
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _deflater.Dispose();
        _inflater.Dispose();
    }
}
