using System.Runtime.InteropServices;

namespace Sockeye.Cli.Exec;

/// <summary>
/// The POSIX calls .NET does not expose, for starting a program in its own process group and waiting for it
/// (Linux values; see <see cref="ProcessSpawner"/>). Calls that fail return -1 (errno from
/// <see cref="Marshal.GetLastPInvokeError"/>), except posix_spawn* which return the error number.
/// </summary>
// DllImport rather than LibraryImport: the generated stubs need AllowUnsafeBlocks, and these signatures (ints,
// pointers, blittable arrays) marshal without any code anyway.
#pragma warning disable SYSLIB1054
internal static class Libc
{
    public const int SIGKILL = 9;
    public const int SIGTERM = 15;

    public const int EINTR = 4;
    public const int O_CLOEXEC = 0x80000;
    public const short POSIX_SPAWN_SETPGROUP = 0x02;
    public const short POSIX_SPAWN_SETSIGDEF = 0x04;
    public const short POSIX_SPAWN_SETSIGMASK = 0x08;
    public const int P_PID = 1;
    public const int WEXITED = 4;
    public const int WNOWAIT = 0x01000000;
    public const int CLD_EXITED = 1;

    /// <summary>Bytes reserved for posix_spawnattr_t, posix_spawn_file_actions_t, sigset_t, siginfo_t (glibc: 336, 80, 128, 128).</summary>
    public const int OpaqueSize = 1024;

    /// <summary>kill(2). Returns 0, or -1 (e.g. ESRCH: no such process). A negative pid is a process group.</summary>
    [DllImport("libc", EntryPoint = "kill")]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    public static extern int Kill(int pid, int signal);

    /// <summary>Whether a process with this id exists (signal 0 checks without sending).</summary>
    public static bool Exists(int pid) => Kill(pid, 0) == 0;

    [DllImport("libc", EntryPoint = "pipe2", SetLastError = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    public static extern int Pipe2([Out] int[] fds, int flags);

    [DllImport("libc", EntryPoint = "close")]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    public static extern int Close(int fd);

    [DllImport("libc", EntryPoint = "posix_spawn")]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    public static extern int PosixSpawn(out int pid, [MarshalAs(UnmanagedType.LPUTF8Str)] string path, IntPtr fileActions, IntPtr attributes, IntPtr[] argv, IntPtr[] envp);

    [DllImport("libc", EntryPoint = "posix_spawn_file_actions_init")]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    public static extern int FileActionsInit(IntPtr fileActions);

    [DllImport("libc", EntryPoint = "posix_spawn_file_actions_adddup2")]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    public static extern int FileActionsAddDup2(IntPtr fileActions, int fd, int newFd);

    [DllImport("libc", EntryPoint = "posix_spawn_file_actions_destroy")]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    public static extern int FileActionsDestroy(IntPtr fileActions);

    [DllImport("libc", EntryPoint = "posix_spawnattr_init")]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    public static extern int AttrInit(IntPtr attributes);

    [DllImport("libc", EntryPoint = "posix_spawnattr_setflags")]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    public static extern int AttrSetFlags(IntPtr attributes, short flags);

    [DllImport("libc", EntryPoint = "posix_spawnattr_setpgroup")]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    public static extern int AttrSetProcessGroup(IntPtr attributes, int processGroup);

    [DllImport("libc", EntryPoint = "posix_spawnattr_setsigmask")]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    public static extern int AttrSetSignalMask(IntPtr attributes, IntPtr signals);

    [DllImport("libc", EntryPoint = "posix_spawnattr_setsigdefault")]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    public static extern int AttrSetSignalDefault(IntPtr attributes, IntPtr signals);

    [DllImport("libc", EntryPoint = "posix_spawnattr_destroy")]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    public static extern int AttrDestroy(IntPtr attributes);

    [DllImport("libc", EntryPoint = "sigemptyset")]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    public static extern int SignalSetEmpty(IntPtr signals);

    [DllImport("libc", EntryPoint = "sigfillset")]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    public static extern int SignalSetFill(IntPtr signals);

    /// <summary>waitid(2); with WNOWAIT the child stays a zombie (its pid, and so its process group id, stays taken).</summary>
    [DllImport("libc", EntryPoint = "waitid", SetLastError = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    public static extern int WaitId(int idType, int id, IntPtr info, int options);

    [DllImport("libc", EntryPoint = "waitpid", SetLastError = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    public static extern int WaitPid(int pid, out int status, int options);
}
#pragma warning restore SYSLIB1054
