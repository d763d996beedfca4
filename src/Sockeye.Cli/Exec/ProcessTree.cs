using System.Globalization;

namespace Sockeye.Cli.Exec;

/// <summary>
/// A process and its descendants, read from /proc, so that stopping a program also stops what it started (a shell
/// script's <c>sleep</c>, a worker pool) instead of leaving orphans. Elsewhere than Linux only the process itself.
/// </summary>
internal static class ProcessTree
{
    /// <summary><paramref name="root"/> followed by its live descendants, parents before children.</summary>
    public static List<int> Collect(int root)
    {
        var result = new List<int> { root };
        var children = new Dictionary<int, List<int>>();
        try
        {
            foreach (string dir in Directory.EnumerateDirectories("/proc"))
            {
                if (!int.TryParse(Path.GetFileName(dir), NumberStyles.None, CultureInfo.InvariantCulture, out int pid)
                    || ReadParent(dir) is not { } parent)
                {
                    continue;
                }

                if (!children.TryGetValue(parent, out List<int>? list))
                {
                    children[parent] = list = [];
                }

                list.Add(pid);
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return result;
        }

        for (int i = 0; i < result.Count; i++)
        {
            if (children.TryGetValue(result[i], out List<int>? list))
            {
                result.AddRange(list);
            }
        }

        return result;
    }

    /// <summary>Sends <paramref name="signal"/> to each process; ones already gone are skipped.</summary>
    public static void Signal(IEnumerable<int> pids, int signal)
    {
        foreach (int pid in pids)
        {
            _ = Libc.Kill(pid, signal);
        }
    }

    // /proc/PID/stat is "pid (comm) state ppid ..."; comm may hold spaces and parentheses, so parse after the last ')'.
    private static int? ReadParent(string dir)
    {
        string stat;
        try
        {
            stat = File.ReadAllText(Path.Combine(dir, "stat"));
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null; // exited meanwhile
        }

        int close = stat.LastIndexOf(')');
        string[] fields = stat[(close + 2)..].Split(' ', 3);
        return fields.Length >= 2 && int.TryParse(fields[1], NumberStyles.None, CultureInfo.InvariantCulture, out int ppid) ? ppid : null;
    }
}
