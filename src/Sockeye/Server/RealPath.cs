namespace Sockeye.Server;

/// <summary>
/// realpath(3) in managed code, one segment at a time: every symbolic link on the way (a directory or the file
/// itself) is replaced by its target, so the result is where the open will really land.
/// </summary>
internal static class RealPath
{
    // Linux's MAXSYMLINKS: more links than this on one path is a loop (ELOOP).
    private const int MaxLinks = 40;

    private static readonly char[] Separators = Path.DirectorySeparatorChar == '/' ? ['/'] : ['/', Path.DirectorySeparatorChar];

    /// <summary>
    /// Resolves <paramref name="segments"/> below <paramref name="start"/> (an absolute path without links). Missing
    /// entries resolve to themselves (the open then fails); null for a link loop.
    /// </summary>
    public static string? Resolve(string start, IEnumerable<string> segments)
    {
        var pending = new Stack<string>(segments.Reverse());
        string current = start;
        int links = 0;
        while (pending.TryPop(out string? segment))
        {
            if (segment.Length == 0 || segment == ".")
            {
                continue;
            }

            if (segment == "..")
            {
                current = Path.GetDirectoryName(current) ?? current; // ".." of the root is the root
                continue;
            }

            string next = Path.Join(current, segment);
            string? target = new FileInfo(next).LinkTarget; // lstat + readlink; null when not a link (or missing)
            if (target is null)
            {
                current = next;
                continue;
            }

            if (++links > MaxLinks)
            {
                return null;
            }

            // A relative target is relative to the link's directory (current); an absolute one starts over.
            string rest = target;
            if (Path.IsPathRooted(target))
            {
                current = Path.GetPathRoot(target)!;
                rest = target[current.Length..];
            }

            string[] parts = rest.Split(Separators, StringSplitOptions.RemoveEmptyEntries);
            for (int i = parts.Length - 1; i >= 0; i--)
            {
                pending.Push(parts[i]);
            }
        }

        return current;
    }

    /// <summary>Splits a path into its segments ('/' and the platform separator).</summary>
    public static string[] Split(string path) => path.Split(Separators, StringSplitOptions.RemoveEmptyEntries);
}
