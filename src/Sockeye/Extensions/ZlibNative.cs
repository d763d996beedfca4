using System.Runtime.InteropServices;

namespace Sockeye.Extensions;

/// <summary>
/// The machine's zlib (<c>libz.so.1</c>), called directly: .NET's DeflateStream fixes the LZ77 window at 15 bits,
/// while RFC 7692 §7.1.2 lets each side negotiate 8–15 bits, and memory should follow the negotiated window.
/// </summary>
internal static unsafe partial class ZlibNative
{
    private const string Library = "libz.so.1";

    public const int ZOk = 0;
    public const int ZStreamEnd = 1;
    public const int ZNeedDict = 2;
    public const int ZStreamError = -2;
    public const int ZDataError = -3;
    public const int ZMemError = -4;
    public const int ZBufError = -5;

    public const int ZNoFlush = 0;
    public const int ZSyncFlush = 2;

    private const int ZDeflated = 8;
    private const int ZDefaultStrategy = 0;

    static ZlibNative()
    {
        // Other systems name zlib differently; try the usual names before giving up.
        NativeLibrary.SetDllImportResolver(typeof(ZlibNative).Assembly, static (name, assembly, path) =>
        {
            if (name != Library)
            {
                return IntPtr.Zero;
            }

            foreach (string candidate in (string[])[Library, "libz.so", "libz.1.dylib", "libz.dylib", "zlib1.dll"])
            {
                if (NativeLibrary.TryLoad(candidate, assembly, path, out IntPtr handle))
                {
                    return handle;
                }
            }

            return IntPtr.Zero;
        });
    }

    /// <summary>zlib's <c>z_stream</c> (LP64 and LLP64 layouts alike through <see cref="CULong"/>).</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct ZStream
    {
        public byte* NextIn;
        public uint AvailIn;
        public CULong TotalIn;
        public byte* NextOut;
        public uint AvailOut;
        public CULong TotalOut;
        public sbyte* Msg;
        public void* State;
        public void* ZAlloc;
        public void* ZFree;
        public void* Opaque;
        public int DataType;
        public CULong Adler;
        public CULong Reserved;
    }

    [LibraryImport(Library, EntryPoint = "zlibVersion")]
    private static partial byte* ZlibVersion();

    [LibraryImport(Library, EntryPoint = "deflateInit2_")]
    private static partial int DeflateInit2(ZStream* strm, int level, int method, int windowBits, int memLevel, int strategy, byte* version, int streamSize);

    [LibraryImport(Library, EntryPoint = "deflate")]
    public static partial int Deflate(ZStream* strm, int flush);

    [LibraryImport(Library, EntryPoint = "deflateReset")]
    public static partial int DeflateReset(ZStream* strm);

    [LibraryImport(Library, EntryPoint = "deflateEnd")]
    public static partial int DeflateEnd(ZStream* strm);

    [LibraryImport(Library, EntryPoint = "deflateSetDictionary")]
    public static partial int DeflateSetDictionary(ZStream* strm, byte* dictionary, uint length);

    [LibraryImport(Library, EntryPoint = "deflateGetDictionary")]
    public static partial int DeflateGetDictionary(ZStream* strm, byte* dictionary, uint* length);

    [LibraryImport(Library, EntryPoint = "inflateInit2_")]
    private static partial int InflateInit2(ZStream* strm, int windowBits, byte* version, int streamSize);

    [LibraryImport(Library, EntryPoint = "inflate")]
    public static partial int Inflate(ZStream* strm, int flush);

    [LibraryImport(Library, EntryPoint = "inflateReset")]
    public static partial int InflateReset(ZStream* strm);

    [LibraryImport(Library, EntryPoint = "inflateEnd")]
    public static partial int InflateEnd(ZStream* strm);

    [LibraryImport(Library, EntryPoint = "inflateSetDictionary")]
    public static partial int InflateSetDictionary(ZStream* strm, byte* dictionary, uint length);

    [LibraryImport(Library, EntryPoint = "inflateGetDictionary")]
    public static partial int InflateGetDictionary(ZStream* strm, byte* dictionary, uint* length);

    /// <summary>Raw deflate (negative window bits: no zlib header or checksum, RFC 7692 §7.2.1).</summary>
    public static int DeflateInitRaw(ZStream* strm, int level, int windowBits, int memLevel) =>
        DeflateInit2(strm, level, ZDeflated, -windowBits, memLevel, ZDefaultStrategy, ZlibVersion(), sizeof(ZStream));

    /// <summary>Raw inflate with the given window.</summary>
    public static int InflateInitRaw(ZStream* strm, int windowBits) =>
        InflateInit2(strm, -windowBits, ZlibVersion(), sizeof(ZStream));

    /// <summary>The library's version string, e.g. "1.2.13".</summary>
    public static string Version => Marshal.PtrToStringAnsi((IntPtr)ZlibVersion()) ?? "?";

    /// <summary>The message zlib left in the stream, or the return code.</summary>
    public static string Describe(ZStream* strm, int code) =>
        strm->Msg is not null ? Marshal.PtrToStringAnsi((IntPtr)strm->Msg) ?? code.ToString(System.Globalization.CultureInfo.InvariantCulture)
            : code.ToString(System.Globalization.CultureInfo.InvariantCulture);
}
