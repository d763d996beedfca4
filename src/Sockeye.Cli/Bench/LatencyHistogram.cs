using System.Numerics;

namespace Sockeye.Cli.Bench;

/// <summary>
/// HDR-style log-linear histogram of non-negative values (Stopwatch ticks here): values below
/// 256 are counted exactly, larger ones in 128 linear sub-buckets per power of two, so every
/// recorded value is known to within 0.8 %. Recording is one array increment, allocation-free.
/// </summary>
internal sealed class LatencyHistogram
{
    private const int SubBucketBits = 8;
    private const int SubBucketCount = 1 << SubBucketBits;
    private const int HalfCount = SubBucketCount / 2;

    // Largest shift is for 2^62: 62 - SubBucketBits + 1, so this covers every long.
    private readonly long[] _counts = new long[((64 - SubBucketBits) * HalfCount) + SubBucketCount];

    public long Count { get; private set; }

    public long Max { get; private set; }

    public double Sum { get; private set; }

    public void Record(long value)
    {
        if (value < 0)
        {
            value = 0;
        }

        _counts[IndexOf(value)]++;
        Count++;
        Sum += value;
        if (value > Max)
        {
            Max = value;
        }
    }

    public void Add(LatencyHistogram other)
    {
        for (var i = 0; i < _counts.Length; i++)
        {
            _counts[i] += other._counts[i];
        }

        Count += other.Count;
        Sum += other.Sum;
        Max = Math.Max(Max, other.Max);
    }

    /// <summary>Value at the given percentile (0-100); the bucket's midpoint, never above <see cref="Max"/>.</summary>
    public long Percentile(double percentile)
    {
        if (Count == 0)
        {
            return 0;
        }

        var target = Math.Max(1, (long)Math.Ceiling(percentile / 100.0 * Count));
        long seen = 0;
        for (var i = 0; i < _counts.Length; i++)
        {
            seen += _counts[i];
            if (seen >= target)
            {
                return Math.Min(ValueAt(i), Max);
            }
        }

        return Max;
    }

    private static int IndexOf(long value)
    {
        if (value < SubBucketCount)
        {
            return (int)value;
        }

        var msb = 63 - BitOperations.LeadingZeroCount((ulong)value);
        var shift = msb - SubBucketBits + 1;

        // value >> shift lies in [HalfCount, SubBucketCount), so consecutive shifts tile the array.
        return (shift * HalfCount) + (int)(value >> shift);
    }

    private static long ValueAt(int index)
    {
        if (index < SubBucketCount)
        {
            return index;
        }

        var shift = (index / HalfCount) - 1;
        long mantissa = (index % HalfCount) + HalfCount;
        return (mantissa << shift) + ((1L << shift) >> 1);
    }
}
