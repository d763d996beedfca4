using System.Runtime.InteropServices;

namespace Sockeye.Server;

/// <summary>
/// The process's open-file limit (<c>RLIMIT_NOFILE</c>), which bounds connections long before memory does: every
/// accepted socket is a descriptor. Used to derive a default <see cref="WebSocketServerOptions.MaxConnections"/> that
/// the limit can actually serve, so a full server answers 503 instead of failing accept with EMFILE.
/// </summary>
internal static partial class DescriptorLimit
{
    // Descriptors kept back for everything that is not a connection: the runtime's own (epoll, eventfds, loaded
    // assemblies, log output), the listener, files served, TLS, and the reserve the accept loop sheds load with.
    internal const int Headroom = 64;
    internal const int Ceiling = 100_000;

    /// <summary>The soft limit on open descriptors, or null where it cannot be read (Windows, or an error).</summary>
    public static long? Current()
    {
        if (OperatingSystem.IsLinux() || OperatingSystem.IsMacOS() || OperatingSystem.IsFreeBSD())
        {
            int resource = OperatingSystem.IsLinux() ? 7 : 8; // RLIMIT_NOFILE: 7 on Linux, 8 on the BSDs and macOS
            try
            {
                if (GetRLimit(resource, out RLimit limit) == 0)
                {
                    ulong current = limit.Current;
                    return current > long.MaxValue ? long.MaxValue : (long)current;
                }
            }
            catch (Exception ex) when (ex is DllNotFoundException or EntryPointNotFoundException)
            {
            }
        }

        return null;
    }

    /// <summary>Descriptors open now (Linux: <c>/proc/self/fd</c>), or 0 where that cannot be read.</summary>
    public static int InUse()
    {
        try
        {
            return OperatingSystem.IsLinux() ? Directory.GetFileSystemEntries("/proc/self/fd").Length : 0;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return 0;
        }
    }

    /// <summary>
    /// Connections the descriptors left can hold with headroom to spare, at most 100,000: the limit less what the
    /// process already holds (the runtime alone holds ~90) less <see cref="Headroom"/>.
    /// </summary>
    public static int DefaultMaxConnections(long? limit, int inUse)
    {
        if (limit is not { } n)
        {
            return Ceiling;
        }

        return (int)Math.Clamp(n - inUse - Headroom, 1, Ceiling);
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct RLimit
    {
        public nuint Current; // rlim_t: unsigned long
        public nuint Maximum;
    }

    [LibraryImport("libc", EntryPoint = "getrlimit")]
    private static partial int GetRLimit(int resource, out RLimit limit);
}
