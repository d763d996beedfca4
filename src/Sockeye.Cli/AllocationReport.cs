using System.Buffers.Text;
using Microsoft.Win32.SafeHandles;

namespace Sockeye.Cli;

/// <summary>
/// Benchmark aid for <c>serve --broadcast</c> (bench/run.sh, fan-out scenarios): with the environment variable
/// <c>SOCKEYE_REPORT_ALLOCATIONS=FILE</c> the server rewrites FILE every 100 ms with one line,
/// <c>v1 SEQ ALLOCATED_BYTES DELIVERED PUBLISHED GEN0 GEN1 GEN2 SEQ</c>: the bytes this process has allocated so far
/// (<see cref="GC.GetTotalAllocatedBytes(bool)"/>, precise), the hub's delivered and published counts and the
/// collection counts, all read at the same moment. The load generator (<c>sockeye bench --fanout
/// --server-alloc-file FILE</c>) reads it at the start and the end of its measured window, so allocated bytes per
/// delivery come from two consistent samples. Not a CLI option: it is a measuring hook, not a feature.
/// </summary>
/// <remarks>
/// The sampler allocates nothing itself (a dedicated thread formats into one reused buffer and overwrites the file
/// in place), so it does not show up in what it measures. SEQ is written at both ends of the line: a reader that
/// caught a rewrite half-way sees two different values and reads again.
/// </remarks>
internal static class AllocationReport
{
    public const string Variable = "SOCKEYE_REPORT_ALLOCATIONS";

    // Fixed width, so each rewrite covers the previous line completely.
    private const int LineLength = 256;

    /// <summary>Starts the sampler when <see cref="Variable"/> names a file; otherwise does nothing.</summary>
    public static void StartIfRequested(Func<(long Delivered, long Published)> counters)
    {
        string? path = Environment.GetEnvironmentVariable(Variable);
        if (string.IsNullOrEmpty(path))
        {
            return;
        }

        SafeFileHandle file;
        try
        {
            file = File.OpenHandle(path, FileMode.Create, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            Console.Error.WriteLine($"sockeye: {Variable}: cannot write {path}: {ex.Message}");
            return;
        }

        var thread = new Thread(() => Run(file, counters)) { IsBackground = true, Name = "allocation report" };
        thread.Start();
    }

    private static void Run(SafeFileHandle file, Func<(long Delivered, long Published)> counters)
    {
        byte[] line = new byte[LineLength];
        for (long seq = 1; ; seq++)
        {
            (long delivered, long published) = counters();
            long allocated = GC.GetTotalAllocatedBytes(precise: true);
            Span<byte> span = line;
            span.Fill((byte)' ');
            int at = 0;
            Put(span, ref at, "v1"u8);
            Put(span, ref at, seq);
            Put(span, ref at, allocated);
            Put(span, ref at, delivered);
            Put(span, ref at, published);
            Put(span, ref at, GC.CollectionCount(0));
            Put(span, ref at, GC.CollectionCount(1));
            Put(span, ref at, GC.CollectionCount(2));
            Put(span, ref at, seq);
            span[^1] = (byte)'\n';
            try
            {
                RandomAccess.Write(file, line, 0);
            }
            catch (IOException)
            {
                return; // the file went away (disk full, unmounted): stop reporting, keep serving
            }

            Thread.Sleep(100);
        }
    }

    private static void Put(Span<byte> line, ref int at, ReadOnlySpan<byte> text)
    {
        text.CopyTo(line[at..]);
        at += text.Length + 1;
    }

    private static void Put(Span<byte> line, ref int at, long value)
    {
        Utf8Formatter.TryFormat(value, line[at..], out int written);
        at += written + 1;
    }
}
