using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Sockeye.Server;

/// <summary>
/// Opens a path for reading only if it is a regular file, without ever blocking. A plain open(2) of a FIFO waits
/// for a writer forever (and would freeze the I/O thread that serves it), and a terminal could become our
/// controlling terminal; so on Linux and macOS the file is opened with <c>O_NONBLOCK | O_NOCTTY</c> and the type
/// of the opened descriptor is checked (statx/fstat): what is checked is what was opened.
/// </summary>
internal static unsafe partial class RegularFile
{
    private const string Libc = "libc";
    private const int LinuxFlags = 0x800 | 0x100 | 0x80000; // O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC
    private const int MacFlags = 0x4 | 0x20000 | 0x1000000;  // the same names on Darwin
    private const int FileTypeMask = 0xF000;                 // S_IFMT
    private const int RegularType = 0x8000;                  // S_IFREG

    /// <summary>The file as a seekable stream, or null when it is missing, unreadable or not a regular file.</summary>
    public static FileStream? Open(string path)
    {
        SafeFileHandle? handle = OperatingSystem.IsLinux() ? OpenNonBlocking(path, LinuxFlags)
            : OperatingSystem.IsMacOS() ? OpenNonBlocking(path, MacFlags)
            : OpenManaged(path);
        if (handle is null)
        {
            return null;
        }

        try
        {
            bool? regular = OperatingSystem.IsLinux() ? IsRegularLinux(handle)
                : OperatingSystem.IsMacOS() ? IsRegularMac(handle)
                : null;
            var stream = new FileStream(handle, FileAccess.Read, bufferSize: 0);
            // Where the type is unknown, at least refuse what cannot seek (pipes, sockets, terminals).
            if (regular == false || !stream.CanSeek)
            {
                stream.Dispose();
                return null;
            }

            return stream;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException)
        {
            handle.Dispose();
            return null;
        }
    }

    private static SafeFileHandle? OpenNonBlocking(string path, int flags)
    {
        int fd = NativeOpen(path, flags);
        return fd < 0 ? null : new SafeFileHandle(fd, ownsHandle: true);
    }

    // Windows has no FIFOs in a directory tree; other systems are best effort.
    private static SafeFileHandle? OpenManaged(string path)
    {
        try
        {
            return File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            return null;
        }
    }

    // struct statx has one layout on every Linux architecture: stx_mode is the u16 at offset 28.
    private static bool? IsRegularLinux(SafeFileHandle handle)
    {
        const int AtEmptyPath = 0x1000;
        const uint StatxType = 0x1;
        byte* buffer = stackalloc byte[256];
        try
        {
            if (Statx((int)handle.DangerousGetHandle(), string.Empty, AtEmptyPath, StatxType, buffer) != 0)
            {
                return false;
            }
        }
        catch (EntryPointNotFoundException)
        {
            return null; // a libc without statx (musl before 1.2.5)
        }

        return (*(ushort*)(buffer + 28) & FileTypeMask) == RegularType;
    }

    // Darwin's struct stat (64-bit inodes): st_dev (i32), then st_mode (u16) at offset 4.
    private static bool? IsRegularMac(SafeFileHandle handle)
    {
        byte* buffer = stackalloc byte[256];
        int fd = (int)handle.DangerousGetHandle();
        int result = RuntimeInformation.ProcessArchitecture == Architecture.X64 ? FstatInode64(fd, buffer) : Fstat(fd, buffer);
        return result == 0 && (*(ushort*)(buffer + 4) & FileTypeMask) == RegularType;
    }

    // open(2) is variadic; only the fixed arguments are passed (no O_CREAT, so no mode), which every ABI passes
    // as an ordinary call does.
    [LibraryImport(Libc, EntryPoint = "open", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int NativeOpen(string path, int flags);

    [LibraryImport(Libc, EntryPoint = "statx", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Statx(int dirfd, string path, int flags, uint mask, byte* buffer);

    [LibraryImport(Libc, EntryPoint = "fstat")]
    private static partial int Fstat(int fd, byte* buffer);

    [LibraryImport(Libc, EntryPoint = "fstat$INODE64")]
    private static partial int FstatInode64(int fd, byte* buffer);
}
