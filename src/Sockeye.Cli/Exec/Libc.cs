using System.Runtime.InteropServices;

namespace Sockeye.Cli.Exec;

/// <summary>The one POSIX call .NET does not expose: sending a signal other than SIGKILL to another process.</summary>
internal static class Libc
{
    public const int SIGKILL = 9;
    public const int SIGTERM = 15;

    /// <summary>kill(2). Returns 0, or -1 (e.g. ESRCH: no such process).</summary>
    // DllImport rather than LibraryImport: the generated stub needs AllowUnsafeBlocks, and int-only
    // signatures marshal without any code anyway.
#pragma warning disable SYSLIB1054
    [DllImport("libc", EntryPoint = "kill")]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    public static extern int Kill(int pid, int signal);
#pragma warning restore SYSLIB1054

    /// <summary>Whether a process with this id exists (signal 0 checks without sending).</summary>
    public static bool Exists(int pid) => Kill(pid, 0) == 0;
}
