using System.Globalization;

namespace Sockeye.Cli.Bench;

/// <summary>
/// One sample of the allocation report that <c>serve --broadcast</c> writes with SOCKEYE_REPORT_ALLOCATIONS=FILE
/// (src/Sockeye.Cli/AllocationReport.cs): bytes allocated so far, the hub's delivered and published counts and the GC
/// collection counts, all taken at one moment.
/// </summary>
internal sealed record ServerAllocations(long Sequence, long AllocatedBytes, long Delivered, long Published, long Gen0, long Gen1, long Gen2)
{
    /// <summary>Reads the current sample, or null when the file is missing or unreadable.</summary>
    public static ServerAllocations? Read(string path)
    {
        // The server rewrites the line in place every 100 ms; a read that caught it half-way sees two different
        // sequence numbers and tries again.
        for (int attempt = 0; attempt < 10; attempt++)
        {
            string text;
            try
            {
                using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
                using var reader = new StreamReader(stream);
                text = reader.ReadToEnd();
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                return null;
            }

            string[] f = text.Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            if (f.Length == 9 && f[0] == "v1" && f[1] == f[8] && f.Skip(1).All(x => long.TryParse(x, CultureInfo.InvariantCulture, out _)))
            {
                long At(int i) => long.Parse(f[i], CultureInfo.InvariantCulture);
                return new ServerAllocations(At(1), At(2), At(3), At(4), At(5), At(6), At(7));
            }

            Thread.Sleep(5);
        }

        return null;
    }
}
