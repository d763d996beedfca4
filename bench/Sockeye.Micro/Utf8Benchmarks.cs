using System.Text;
using BenchmarkDotNet.Attributes;
using Sockeye.Protocol;

namespace Sockeye.Micro;

/// <summary>Incremental UTF-8 validation: ASCII fast path and multilingual text, whole and in 4 KiB chunks.</summary>
[MemoryDiagnoser]
public class Utf8Benchmarks
{
    private byte[] _ascii = [];
    private byte[] _mixed = [];

    [GlobalSetup]
    public void Setup()
    {
        _ascii = Encoding.UTF8.GetBytes(new string('a', 65536));
        var sb = new StringBuilder();
        while (sb.Length < 30000)
        {
            sb.Append("Sockeye κόσμε 鮭 🐟 ");
        }

        _mixed = Encoding.UTF8.GetBytes(sb.ToString());
    }

    [Benchmark(Description = "64 KiB ASCII, one chunk")]
    public bool Ascii()
    {
        var v = new Utf8Validator();
        return v.Append(_ascii) && v.IsComplete;
    }

    [Benchmark(Description = "~64 KiB multilingual, 4 KiB chunks")]
    public bool MixedChunks()
    {
        var v = new Utf8Validator();
        ReadOnlySpan<byte> rest = _mixed;
        while (!rest.IsEmpty)
        {
            int n = Math.Min(4096, rest.Length);
            if (!v.Append(rest[..n]))
            {
                return false;
            }

            rest = rest[n..];
        }

        return v.IsComplete;
    }
}
