using System.Buffers;

namespace Sockeye.Topics;

/// <summary>
/// An <see cref="IBufferWriter{T}"/> over an array rented from <see cref="ArrayPool{T}"/>. <see cref="Detach"/> hands
/// the array to the caller (who returns it once the frame is sent), so one writer per thread builds every frame.
/// </summary>
internal sealed class RentedBufferWriter : IBufferWriter<byte>
{
    private byte[] _array = [];
    private int _written;

    public int Written => _written;

    public Span<byte> WrittenSpan => _array.AsSpan(0, _written);

    /// <summary>Starts a frame with <paramref name="reserve"/> bytes kept free at its start (e.g. §2.1's length).</summary>
    public void Start(int sizeHint, int reserve)
    {
        if (_array.Length < sizeHint + reserve)
        {
            if (_array.Length > 0)
            {
                ArrayPool<byte>.Shared.Return(_array);
            }

            _array = ArrayPool<byte>.Shared.Rent(Math.Max(256, sizeHint + reserve));
        }

        _written = reserve;
    }

    public void Advance(int count) => _written += count;

    public Memory<byte> GetMemory(int sizeHint = 0)
    {
        Ensure(sizeHint);
        return _array.AsMemory(_written);
    }

    public Span<byte> GetSpan(int sizeHint = 0)
    {
        Ensure(sizeHint);
        return _array.AsSpan(_written);
    }

    /// <summary>The frame built so far; the writer forgets the array (the next frame rents another).</summary>
    public OutgoingFrame Detach(MessageType type)
    {
        var frame = new OutgoingFrame(_array, _written, type);
        _array = [];
        _written = 0;
        return frame;
    }

    private void Ensure(int sizeHint)
    {
        int needed = _written + Math.Max(sizeHint, 1);
        if (needed <= _array.Length)
        {
            return;
        }

        byte[] bigger = ArrayPool<byte>.Shared.Rent(Math.Max(needed, _array.Length * 2));
        _array.AsSpan(0, _written).CopyTo(bigger);
        if (_array.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(_array);
        }

        _array = bigger;
    }
}

/// <summary>A request frame in a pooled array, owned by whoever holds it until it is sent (then returned to the pool).</summary>
internal readonly record struct OutgoingFrame(byte[] Array, int Length, MessageType Type)
{
    public ReadOnlyMemory<byte> Memory => Array.AsMemory(0, Length);

    public void Return()
    {
        if (Array.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(Array);
        }
    }
}
