using System.Globalization;

namespace Sockeye.Cli.Bench;

/// <summary>Reads another process's resident memory and CPU time from Linux /proc.</summary>
internal static class ProcessStats
{
    // USER_HZ; 100 on every mainstream Linux architecture.
    private const double ClockTicksPerSecond = 100;

    /// <summary>VmRSS in KiB, or null when the process or /proc is unavailable.</summary>
    public static long? ReadRssKb(int pid)
    {
        try
        {
            foreach (var line in File.ReadLines($"/proc/{pid}/status"))
            {
                if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                {
                    return long.Parse(line.AsSpan(6).Trim().TrimEnd("kB").Trim(), CultureInfo.InvariantCulture);
                }
            }
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }

        return null;
    }

    /// <summary>User plus system CPU seconds, or null when unavailable.</summary>
    public static double? ReadCpuSeconds(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");

            // The command name may contain spaces; fields are counted after its closing ')'.
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            var utime = long.Parse(fields[11], CultureInfo.InvariantCulture);
            var stime = long.Parse(fields[12], CultureInfo.InvariantCulture);
            return (utime + stime) / ClockTicksPerSecond;
        }
        catch (IOException)
        {
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }
    }

    public static double OwnCpuSeconds() => Environment.CpuUsage.TotalTime.TotalSeconds;
}
