using System.Runtime.InteropServices;
using static Sockeye.Extensions.ZlibNative;

namespace Sockeye.Extensions;

/// <summary>
/// One zlib stream (deflate or inflate) in native memory. The <c>z_stream</c> itself lives in native memory because
/// zlib's state points back at it; input and output are pinned only for the duration of each call, so nothing
/// stays pinned between messages.
/// </summary>
internal abstract unsafe class ZlibCodec : IDisposable
{
    private protected ZStream* _strm;

    protected ZlibCodec(int windowBits)
    {
        WindowBits = windowBits;
        _strm = (ZStream*)NativeMemory.AllocZeroed((nuint)sizeof(ZStream));
    }

    /// <summary>The negotiated LZ77 window (RFC 7692 §7.1.2), 8–15.</summary>
    public int WindowBits { get; }

    /// <summary>Forgets the stream's history (no context takeover, RFC 7692 §7.1.1).</summary>
    public abstract void Reset();

    /// <summary>The sliding window's content (up to 2^WindowBits bytes): what the peer's side also remembers.</summary>
    public byte[] GetDictionary()
    {
        uint length = 0;
        ThrowIfFailed(GetDictionaryCore(null, &length), "getDictionary");
        byte[] dictionary = GC.AllocateUninitializedArray<byte>((int)length);
        fixed (byte* p = dictionary)
        {
            ThrowIfFailed(GetDictionaryCore(p, &length), "getDictionary");
        }

        return dictionary;
    }

    /// <summary>Primes a reset stream with a history saved by <see cref="GetDictionary"/>.</summary>
    public void SetDictionary(ReadOnlySpan<byte> dictionary)
    {
        fixed (byte* p = dictionary)
        {
            ThrowIfFailed(SetDictionaryCore(p, (uint)dictionary.Length), "setDictionary");
        }
    }

    /// <summary>zlib's <c>deflateGetDictionary</c> or <c>inflateGetDictionary</c> on this stream.</summary>
    protected abstract int GetDictionaryCore(byte* dictionary, uint* length);

    /// <summary>zlib's <c>deflateSetDictionary</c> or <c>inflateSetDictionary</c> on this stream.</summary>
    protected abstract int SetDictionaryCore(byte* dictionary, uint length);

    protected abstract void End();

    protected void ThrowIfFailed(int code, string what)
    {
        if (code == ZMemError)
        {
            throw new InsufficientMemoryException($"zlib {what}: out of memory");
        }

        if (code != ZOk)
        {
            throw new InvalidOperationException($"zlib {what} failed: {Describe(_strm, code)}");
        }
    }

    private void Release()
    {
        if (_strm is not null)
        {
            End();
            NativeMemory.Free(_strm);
            _strm = null;
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        Release();
        GC.SuppressFinalize(this);
    }

    ~ZlibCodec() => Release();
}

/// <summary>A raw deflate compressor.</summary>
internal sealed unsafe class ZlibDeflater : ZlibCodec
{
    public ZlibDeflater(int windowBits, int level, int memLevel)
        : base(windowBits)
    {
        Level = level;
        MemLevel = memLevel;
        // RFC 7692 §7.1.2.1 allows 8 bits, but zlib refuses a raw 8-bit window. Its 9-bit window never emits a
        // distance beyond 250 (512 minus MIN_LOOKAHEAD), so the output is valid for an 8-bit inflater.
        ThrowIfFailed(DeflateInitRaw(_strm, level, Math.Max(windowBits, 9), memLevel), "deflateInit2");
    }

    public int Level { get; }

    public int MemLevel { get; }

    /// <summary>
    /// Compresses as much of <paramref name="input"/> as fits into <paramref name="output"/>. With
    /// <see cref="ZlibNative.ZSyncFlush"/> the call is complete when <paramref name="done"/> is true: all input
    /// consumed and the flush's empty stored block (<c>00 00 ff ff</c>) written.
    /// </summary>
    public int Compress(ReadOnlySpan<byte> input, Span<byte> output, int flush, out int consumed, out bool done)
    {
        fixed (byte* inPtr = input)
        fixed (byte* outPtr = output)
        {
            _strm->NextIn = inPtr;
            _strm->AvailIn = (uint)input.Length;
            _strm->NextOut = outPtr;
            _strm->AvailOut = (uint)output.Length;
            int code = Deflate(_strm, flush);
            consumed = input.Length - (int)_strm->AvailIn;
            int written = output.Length - (int)_strm->AvailOut;
            // Z_BUF_ERROR only means "no progress possible", e.g. a flush right after a flush: nothing left to do.
            done = _strm->AvailIn == 0 && (_strm->AvailOut != 0 || code == ZBufError);
            _strm->NextIn = null;
            _strm->NextOut = null;
            if (code != ZOk && code != ZBufError)
            {
                ThrowIfFailed(code, "deflate");
            }

            return written;
        }
    }

    public override void Reset() => ThrowIfFailed(DeflateReset(_strm), "deflateReset");

    protected override int GetDictionaryCore(byte* dictionary, uint* length) => DeflateGetDictionary(_strm, dictionary, length);

    protected override int SetDictionaryCore(byte* dictionary, uint length) => DeflateSetDictionary(_strm, dictionary, length);

    protected override void End() => _ = DeflateEnd(_strm);
}

/// <summary>A raw deflate decompressor.</summary>
internal sealed unsafe class ZlibInflater : ZlibCodec
{
    public ZlibInflater(int windowBits)
        : base(windowBits)
    {
        ThrowIfFailed(InflateInitRaw(_strm, windowBits), "inflateInit2");
    }

    /// <summary>
    /// Decompresses from <paramref name="input"/> into <paramref name="output"/>. Returns the bytes written;
    /// <paramref name="code"/> is zlib's result: Z_OK / Z_BUF_ERROR (progress or nothing to do), Z_STREAM_END (the
    /// peer ended the deflate stream with BFINAL), Z_DATA_ERROR (corrupt input, <paramref name="error"/> says why).
    /// </summary>
    public int Decompress(ReadOnlySpan<byte> input, Span<byte> output, out int consumed, out int code, out string? error)
    {
        fixed (byte* inPtr = input)
        fixed (byte* outPtr = output)
        {
            _strm->NextIn = inPtr;
            _strm->AvailIn = (uint)input.Length;
            _strm->NextOut = outPtr;
            _strm->AvailOut = (uint)output.Length;
            code = Inflate(_strm, ZNoFlush);
            consumed = input.Length - (int)_strm->AvailIn;
            int written = output.Length - (int)_strm->AvailOut;
            error = code is ZOk or ZBufError or ZStreamEnd ? null : Describe(_strm, code);
            _strm->NextIn = null;
            _strm->NextOut = null;
            if (code == ZMemError)
            {
                throw new InsufficientMemoryException("zlib inflate: out of memory");
            }

            return written;
        }
    }

    public override void Reset() => ThrowIfFailed(InflateReset(_strm), "inflateReset");

    protected override int GetDictionaryCore(byte* dictionary, uint* length) => InflateGetDictionary(_strm, dictionary, length);

    protected override int SetDictionaryCore(byte* dictionary, uint length) => InflateSetDictionary(_strm, dictionary, length);

    protected override void End() => _ = InflateEnd(_strm);
}
