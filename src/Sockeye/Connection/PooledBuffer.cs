using System.Buffers;

namespace Sockeye;

/// <summary>A growable byte buffer rented from <see cref="ArrayPool{T}"/>, used to assemble fragmented messages.</summary>
internal sealed class PooledBuffer : IDisposable
{
    private byte[] _array = [];

    public int Length { get; private set; }

    public ReadOnlyMemory<byte> Memory => _array.AsMemory(0, Length);

    public void Append(ReadOnlySpan<byte> data)
    {
        if (Length + data.Length > _array.Length)
        {
            Grow(Length + data.Length);
        }

        data.CopyTo(_array.AsSpan(Length));
        Length += data.Length;
    }

    /// <summary>Free space for exactly <paramref name="size"/> more bytes after the content; commit with <see cref="Advance"/>.</summary>
    public Span<byte> GetSpan(int size)
    {
        if (Length + size > _array.Length)
        {
            Grow(Length + size);
        }

        return _array.AsSpan(Length, size);
    }

    /// <summary>Adds <paramref name="count"/> bytes written into the span from <see cref="GetSpan"/>.</summary>
    public void Advance(int count) => Length += count;

    /// <summary>Forgets the content but keeps the array (the next part of a message reuses it).</summary>
    public void Clear() => Length = 0;

    /// <summary>Forgets the content and returns the array to the pool, so an idle connection holds nothing.</summary>
    public void Reset()
    {
        Length = 0;
        if (_array.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(_array);
            _array = [];
        }
    }

    /// <summary>Forgets the array without returning it to the pool (someone may still read it).</summary>
    public void Abandon()
    {
        Length = 0;
        _array = [];
    }

    private void Grow(int needed)
    {
        byte[] bigger = ArrayPool<byte>.Shared.Rent(Math.Max(needed, Math.Min(_array.Length * 2, Array.MaxLength)));
        _array.AsSpan(0, Length).CopyTo(bigger);
        if (_array.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(_array);
        }

        _array = bigger;
    }

    public void Dispose() => Reset();
}
