using System.Buffers;
using System.Globalization;
using CsCheck;
using Xunit.Abstractions;

namespace Sockeye.SecurityTests.Fuzz;

/// <summary>
/// Runs a CsCheck property and reports how many inputs it tried. Bounded by default (CI: seconds); set
/// <c>SOCKEYE_FUZZ_SECONDS</c> to run each property for that long instead, <c>SOCKEYE_FUZZ_SEED</c> to replay a
/// failure, and <c>SOCKEYE_FUZZ_LOG</c> to append "property executions seconds" lines to a file.
/// </summary>
internal static class FuzzRun
{
    private static readonly int Seconds = int.TryParse(Environment.GetEnvironmentVariable("SOCKEYE_FUZZ_SECONDS"), out int s) ? s : -1;
    private static readonly string? Seed = Environment.GetEnvironmentVariable("SOCKEYE_FUZZ_SEED") is { Length: > 0 } seed ? seed : null;
    private static readonly Lock LogGate = new();

    public static void Run<T>(ITestOutputHelper output, string name, Gen<T> gen, Action<T> property, long iter, Func<T, string>? print = null)
    {
        long count = 0;
        var watch = System.Diagnostics.Stopwatch.StartNew();
        gen.Sample(t =>
        {
            Interlocked.Increment(ref count);
            property(t);
        }, seed: Seed, iter: Seconds > 0 ? -1 : iter, time: Seconds > 0 ? Seconds : -1, print: print);
        Report(output, name, count, watch.Elapsed);
    }

    public static async Task RunAsync<T>(ITestOutputHelper output, string name, Gen<T> gen, Func<T, Task> property, long iter, Func<T, string>? print = null)
    {
        long count = 0;
        var watch = System.Diagnostics.Stopwatch.StartNew();
        await gen.SampleAsync(async t =>
        {
            Interlocked.Increment(ref count);
            await property(t);
        }, seed: Seed, iter: Seconds > 0 ? -1 : iter, time: Seconds > 0 ? Seconds : -1, print: print);
        Report(output, name, count, watch.Elapsed);
    }

    private static void Report(ITestOutputHelper output, string name, long count, TimeSpan elapsed)
    {
        string line = string.Create(CultureInfo.InvariantCulture, $"{name} executions={count} seconds={elapsed.TotalSeconds:F1}");
        output.WriteLine(line);
        if (Environment.GetEnvironmentVariable("SOCKEYE_FUZZ_LOG") is { Length: > 0 } path)
        {
            lock (LogGate)
            {
                File.AppendAllText(path, line + Environment.NewLine);
            }
        }
    }

    public static string Hex(byte[] bytes) => Convert.ToHexString(bytes);

    /// <summary>Splits <paramref name="data"/> at <paramref name="cuts"/> into a multi-segment sequence (empty segments allowed).</summary>
    public static ReadOnlySequence<byte> Segments(byte[] data, IEnumerable<int> cuts)
    {
        var points = cuts.Select(c => Math.Clamp(c, 0, data.Length)).Order().ToList();
        points.Add(data.Length);
        Segment? first = null;
        Segment? last = null;
        int start = 0;
        foreach (int point in points)
        {
            // Each segment gets its own array, as a pipe's buffers would be.
            var memory = new ReadOnlyMemory<byte>(data.AsSpan(start, point - start).ToArray());
            if (first is null)
            {
                first = last = new Segment(memory, 0);
            }
            else
            {
                last = last!.Append(memory);
            }

            start = point;
        }

        return new ReadOnlySequence<byte>(first!, 0, last!, last!.Memory.Length);
    }

    /// <summary>Offset of <paramref name="position"/> within <paramref name="sequence"/>.</summary>
    public static long Offset(in ReadOnlySequence<byte> sequence, SequencePosition position) => sequence.Slice(sequence.Start, position).Length;

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(ReadOnlyMemory<byte> memory, long runningIndex)
        {
            Memory = memory;
            RunningIndex = runningIndex;
        }

        public Segment Append(ReadOnlyMemory<byte> memory)
        {
            var next = new Segment(memory, RunningIndex + Memory.Length);
            Next = next;
            return next;
        }
    }
}
