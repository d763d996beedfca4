namespace Sockeye.Cli.Exec;

/// <summary>Finds a program the way a shell does (a name with '/' is a path, otherwise searched in PATH) and checks it can be run.</summary>
internal static class ExecutableResolver
{
    private const UnixFileMode AnyExecute = UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute;

    /// <summary>The full path of <paramref name="program"/>, or null with a reason.</summary>
    public static string? Resolve(string program, out string error)
    {
        error = string.Empty;
        if (program.Contains('/', StringComparison.Ordinal))
        {
            string full = Path.GetFullPath(program);
            return IsExecutableFile(full, out error) ? full : null;
        }

        string path = Environment.GetEnvironmentVariable("PATH") ?? "/usr/local/bin:/usr/bin:/bin";
        foreach (string dir in path.Split(':', StringSplitOptions.RemoveEmptyEntries))
        {
            string candidate = Path.Combine(dir, program);
            if (IsExecutableFile(candidate, out _))
            {
                return candidate;
            }
        }

        error = $"'{program}' not found in PATH";
        return null;
    }

    /// <summary>Whether <paramref name="path"/> is a regular file with an execute bit set.</summary>
    public static bool IsExecutableFile(string path, out string error)
    {
        error = string.Empty;
        if (!File.Exists(path))
        {
            error = Directory.Exists(path) ? $"{path} is a directory" : $"{path} not found";
            return false;
        }

        if (!OperatingSystem.IsWindows() && (File.GetUnixFileMode(path) & AnyExecute) == 0)
        {
            error = $"{path} is not executable (chmod +x)";
            return false;
        }

        return true;
    }
}
