using System.ComponentModel;
using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Sockeye.Cli.Exec;

/// <summary>
/// Starts a program with posix_spawn(3) in a process group of its own (POSIX_SPAWN_SETPGROUP: group id = its pid), so
/// that stopping it can signal everything it started, even children that outlive it, with one kill(-pgid).
/// System.Diagnostics.Process cannot do that. stdin, stdout and stderr are pipes; the program starts with every signal
/// at its default action and none blocked (the runtime ignores SIGPIPE, and ignored signals survive exec).
/// </summary>
internal static class ProcessSpawner
{
    /// <summary>A started program: its pid (= its process group id) and our ends of its three pipes.</summary>
    public sealed record Started(int Pid, SafeFileHandle Stdin, SafeFileHandle Stdout, SafeFileHandle Stderr);

    /// <summary>Starts <paramref name="spec"/>. Throws <see cref="Win32Exception"/> when it cannot (not found, no descriptors).</summary>
    public static Started Spawn(LaunchSpec spec)
    {
        var childEnds = new List<int>(3);
        var ourEnds = new List<int>(3);
        IntPtr actions = Marshal.AllocHGlobal(Libc.OpaqueSize);
        IntPtr attributes = Marshal.AllocHGlobal(Libc.OpaqueSize);
        IntPtr signals = Marshal.AllocHGlobal(Libc.OpaqueSize);
        IntPtr[] argv = NativeStrings([spec.FileName, .. spec.Arguments]);
        IntPtr[] envp = NativeStrings(spec.Environment.Select(pair => pair.Key + "=" + pair.Value));
        bool actionsReady = false;
        bool attributesReady = false;
        bool started = false;
        try
        {
            (int stdinChild, int stdin) = Pipe(childReads: true, childEnds, ourEnds);
            (int stdoutChild, int stdout) = Pipe(childReads: false, childEnds, ourEnds);
            (int stderrChild, int stderr) = Pipe(childReads: false, childEnds, ourEnds);
            Check(Libc.FileActionsInit(actions));
            actionsReady = true;
            // Our ends are close-on-exec; dup2 gives the child its ends as 0, 1, 2 without that flag.
            Check(Libc.FileActionsAddDup2(actions, stdinChild, 0));
            Check(Libc.FileActionsAddDup2(actions, stdoutChild, 1));
            Check(Libc.FileActionsAddDup2(actions, stderrChild, 2));
            Check(Libc.AttrInit(attributes));
            attributesReady = true;
            Check(Libc.AttrSetFlags(attributes, Libc.POSIX_SPAWN_SETPGROUP | Libc.POSIX_SPAWN_SETSIGDEF | Libc.POSIX_SPAWN_SETSIGMASK));
            Check(Libc.AttrSetProcessGroup(attributes, 0));
            _ = Libc.SignalSetEmpty(signals);
            Check(Libc.AttrSetSignalMask(attributes, signals));
            _ = Libc.SignalSetFill(signals);
            Check(Libc.AttrSetSignalDefault(attributes, signals));
            Check(Libc.PosixSpawn(out int pid, spec.FileName, actions, attributes, argv, envp));
            started = true;
            return new Started(pid, Handle(stdin), Handle(stdout), Handle(stderr));
        }
        finally
        {
            // The child's ends are its own now; ours stay open only when it started.
            foreach (int fd in started ? childEnds : childEnds.Concat(ourEnds))
            {
                _ = Libc.Close(fd);
            }

            if (actionsReady)
            {
                _ = Libc.FileActionsDestroy(actions);
            }

            if (attributesReady)
            {
                _ = Libc.AttrDestroy(attributes);
            }

            Marshal.FreeHGlobal(actions);
            Marshal.FreeHGlobal(attributes);
            Marshal.FreeHGlobal(signals);
            FreeNativeStrings(argv);
            FreeNativeStrings(envp);
        }
    }

    /// <summary>A pipe (close-on-exec): the child's end and ours, the child reading or writing.</summary>
    private static (int Child, int Ours) Pipe(bool childReads, List<int> childEnds, List<int> ourEnds)
    {
        int[] fds = new int[2]; // [0] reads, [1] writes
        if (Libc.Pipe2(fds, Libc.O_CLOEXEC) != 0)
        {
            throw new Win32Exception(Marshal.GetLastPInvokeError());
        }

        (int child, int ours) = childReads ? (fds[0], fds[1]) : (fds[1], fds[0]);
        childEnds.Add(child);
        ourEnds.Add(ours);
        return (child, ours);
    }

    private static SafeFileHandle Handle(int fd) => new((IntPtr)fd, ownsHandle: true);

    private static void Check(int error)
    {
        if (error != 0)
        {
            throw new Win32Exception(error);
        }
    }

    /// <summary>A NULL-terminated array of NUL-terminated UTF-8 strings, as execve(2) takes them.</summary>
    private static IntPtr[] NativeStrings(IEnumerable<string> strings) => [.. strings.Select(Marshal.StringToCoTaskMemUTF8), IntPtr.Zero];

    private static void FreeNativeStrings(IntPtr[] strings)
    {
        foreach (IntPtr s in strings)
        {
            Marshal.FreeCoTaskMem(s);
        }
    }
}
