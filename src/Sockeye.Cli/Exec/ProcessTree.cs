using System.Globalization;

namespace Sockeye.Cli.Exec;

/// <summary>
/// Processes read from /proc: a program's descendants (to reach those that left its process group while it runs)
/// and the live members of its process group (to stop what it left behind when it exits).
/// </summary>
internal static class ProcessTree
{
    /// <summary><paramref name="root"/> followed by its live descendants, parents before children.</summary>
    public static List<int> Collect(int root)
    {
        var result = new List<int> { root };
        var children = new Dictionary<int, List<int>>();
        foreach ((int pid, Stat stat) in All())
        {
            if (!children.TryGetValue(stat.Parent, out List<int>? list))
            {
                children[stat.Parent] = list = [];
            }

            list.Add(pid);
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

    /// <summary>How many processes of group <paramref name="group"/> are alive (zombies, such as its exited leader, are not).</summary>
    public static int CountLiveMembers(int group) => All().Count(p => p.Stat.Group == group && p.Stat.State is not ('Z' or 'X'));

    /// <summary>Sends <paramref name="signal"/> to each process; ones already gone are skipped.</summary>
    public static void Signal(IEnumerable<int> pids, int signal)
    {
        foreach (int pid in pids)
        {
            _ = Libc.Kill(pid, signal);
        }
    }

    private readonly record struct Stat(char State, int Parent, int Group);

    private static IEnumerable<(int Pid, Stat Stat)> All()
    {
        IEnumerable<string> dirs;
        try
        {
            dirs = Directory.EnumerateDirectories("/proc");
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            yield break;
        }

        foreach (string dir in dirs)
        {
            if (int.TryParse(Path.GetFileName(dir), NumberStyles.None, CultureInfo.InvariantCulture, out int pid)
                && ReadStat(dir) is { } stat)
            {
                yield return (pid, stat);
            }
        }
    }

    // /proc/PID/stat is "pid (comm) state ppid pgrp ..."; comm may hold spaces and parentheses, so parse after the last ')'.
    private static Stat? ReadStat(string dir)
    {
        string text;
        try
        {
            text = File.ReadAllText(Path.Combine(dir, "stat"));
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null; // exited meanwhile
        }

        int close = text.LastIndexOf(')');
        string[] fields = close < 0 || close + 2 > text.Length ? [] : text[(close + 2)..].Split(' ', 4);
        return fields.Length >= 3 && fields[0].Length == 1
            && int.TryParse(fields[1], NumberStyles.None, CultureInfo.InvariantCulture, out int parent)
            && int.TryParse(fields[2], NumberStyles.None, CultureInfo.InvariantCulture, out int group)
            ? new Stat(fields[0][0], parent, group)
            : null;
    }
}
