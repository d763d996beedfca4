using System.Buffers;
using System.Collections.Concurrent;
using Sockeye.Protocol;

namespace Sockeye;

/// <summary>
/// A message framed once, to be sent unchanged to many server-side connections (fan-out): each send copies the same
/// frame bytes into a connection's output, with no per-connection framing, encoding or allocation. Server frames
/// are unmasked (RFC 6455 §5.1), which is what makes one frame valid for every connection.
/// </summary>
/// <remarks>
/// The frame lives in a pooled buffer. Call <see cref="Dispose"/> once every send that uses the message has
/// completed; the object is then recycled, and using it afterwards is a bug (like a returned
/// <see cref="ArrayPool{T}"/> array). Messages are sent uncompressed: RFC 7692 lets any message on a
/// permessage-deflate connection go uncompressed.
/// </remarks>
public sealed class PreparedMessage : IDisposable
{
    // Recycled objects: a publish that prepares one message allocates nothing in steady state.
    private static readonly ConcurrentBag<PreparedMessage> s_pool = [];
    private const int MaxPooled = 1024;
    private static int s_pooled;

    // Frame buffers are rented on the thread that publishes and returned on whichever thread sent last, with many
    // in flight at once: ArrayPool<byte>.Shared's small per-thread and per-core caches overflow under such fan-out and
    // allocate. This pool is shared by all threads (up to 256 buffers per size up to 64 KiB; larger frames use the
    // shared pool).
    private static readonly ArrayPool<byte> s_buffers = ArrayPool<byte>.Create(64 * 1024, 256);
    private const int LargestPooled = 64 * 1024;


    private byte[] _buffer = [];
    private int _length;
    private int _headerLength;

    private PreparedMessage()
    {
    }

    /// <summary>The message type (text or binary).</summary>
    public MessageType Type { get; private set; }

    /// <summary>The payload (what receivers get).</summary>
    public ReadOnlyMemory<byte> Payload => _buffer.AsMemory(_headerLength, _length - _headerLength);

    /// <summary>The whole frame as it goes on the wire.</summary>
    internal ReadOnlyMemory<byte> Frame => _buffer.AsMemory(0, _length);

    /// <summary>
    /// Frames <paramref name="payload"/> as one final, unmasked <paramref name="type"/> frame. Text payloads must be
    /// valid UTF-8 (§5.6); <see cref="ArgumentException"/> otherwise.
    /// </summary>
    public static PreparedMessage Create(MessageType type, ReadOnlySpan<byte> payload)
    {
        if (type is not (MessageType.Text or MessageType.Binary))
        {
            throw new ArgumentException("Only text and binary messages can be prepared.", nameof(type));
        }

        if (type == MessageType.Text && !Utf8Validator.IsValid(payload))
        {
            throw new ArgumentException("Text messages must be valid UTF-8 (RFC 6455 §5.6).", nameof(payload));
        }

        PreparedMessage message = s_pool.TryTake(out PreparedMessage? pooled) ? pooled : new PreparedMessage();
        if (pooled is not null)
        {
            Interlocked.Decrement(ref s_pooled);
        }

        int header = FrameHeader.GetSize(payload.Length, masked: false);
        message._buffer = header + payload.Length <= LargestPooled ? s_buffers.Rent(header + payload.Length) : ArrayPool<byte>.Shared.Rent(header + payload.Length);
        message._headerLength = FrameHeader.Write(message._buffer, fin: true, type == MessageType.Text ? Opcode.Text : Opcode.Binary,
            payload.Length, masked: false, maskingKey: 0);
        payload.CopyTo(message._buffer.AsSpan(message._headerLength));
        message._length = message._headerLength + payload.Length;
        message.Type = type;
        return message;
    }

    /// <summary>Returns the frame's buffer to the pool and recycles this object.</summary>
    public void Dispose()
    {
        // Atomic, so a racing second Dispose can never return the buffer twice.
        byte[] buffer = Interlocked.Exchange(ref _buffer, []);
        if (buffer.Length == 0)
        {
            return;
        }

        _length = 0;
        _headerLength = 0;
        (buffer.Length <= LargestPooled ? s_buffers : ArrayPool<byte>.Shared).Return(buffer);
        if (Interlocked.Increment(ref s_pooled) <= MaxPooled)
        {
            s_pool.Add(this);
        }
        else
        {
            Interlocked.Decrement(ref s_pooled);
        }
    }
}
