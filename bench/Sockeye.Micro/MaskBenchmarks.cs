using BenchmarkDotNet.Attributes;
using Sockeye.Protocol;

namespace Sockeye.Micro;

/// <summary>Vectorized masking against a byte-at-a-time loop.</summary>
[MemoryDiagnoser]
public class MaskBenchmarks
{
    private byte[] _data = [];

    [Params(16, 1024, 65536)]
    public int Size { get; set; }

    [GlobalSetup]
    public void Setup() => _data = new byte[Size];

    [Benchmark(Baseline = true, Description = "byte loop")]
    public int Naive()
    {
        uint key = 0xA1B2C3D4;
        Span<byte> data = _data;
        for (int i = 0; i < data.Length; i++)
        {
            data[i] ^= (byte)(key >> ((i & 3) * 8));
        }

        return data.Length;
    }

    [Benchmark(Description = "Mask.Apply")]
    public int Vectorized() => Mask.Apply(_data, 0xA1B2C3D4, 1);
}
