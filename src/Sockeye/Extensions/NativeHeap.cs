using System.Runtime.InteropServices;

namespace Sockeye.Extensions;

/// <summary>
/// Gives freed native memory back to the operating system. zlib's buffers (64 KiB each at 15 bits) are below glibc's
/// mmap threshold, so after connections go idle and their streams are freed the pages would stay in malloc's arenas
/// and the process would look as big as when every connection was busy. <c>malloc_trim</c> releases them.
/// </summary>
internal static partial class NativeHeap
{
    private static bool s_unavailable = !OperatingSystem.IsLinux();

    [LibraryImport("libc", EntryPoint = "malloc_trim")]
    private static partial int MallocTrim(nuint pad);

    /// <summary>Returns free heap pages to the OS where the C library can (glibc); a no-op elsewhere.</summary>
    public static void Trim()
    {
        if (s_unavailable)
        {
            return;
        }

        try
        {
            _ = MallocTrim(0);
        }
        catch (Exception ex) when (ex is DllNotFoundException or EntryPointNotFoundException)
        {
            s_unavailable = true; // e.g. musl: it returns memory on its own
        }
    }
}
