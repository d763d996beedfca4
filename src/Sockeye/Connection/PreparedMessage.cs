using System.Buffers;
using System.Collections.Concurrent;
using Sockeye.Extensions;
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

    // The message compressed once (RFC 7692 §7.2.1) for connections whose compressor keeps no context, so every such
    // connection with the same settings can take the same bytes; one slot, for the first settings asked for.
    private readonly Lock _deflateGate = new();
    private byte[]? _deflated;
    private int _deflatedLength;
    private int _deflatedKey = NoDeflatedFrame;
    private const int NoDeflatedFrame = -1;

    /// <summary>
    /// The frame for a connection with <paramref name="deflate"/> agreed: compressed once and shared when the
    /// connection compresses each message on its own and the message is over its threshold, otherwise the plain
    /// frame (any message may go uncompressed, §6). With context takeover the compressor's state belongs to one
    /// connection, so shared bytes are impossible; such connections get the plain frame.
    /// </summary>
    internal ReadOnlyMemory<byte> FrameFor(PerMessageDeflate? deflate)
    {
        int payloadLength = _length - _headerLength;
        if (deflate is null || !deflate.SendsIndependently || !deflate.ShouldCompress(payloadLength))
        {
            return Frame;
        }

        lock (_deflateGate)
        {
            if (_deflatedKey == NoDeflatedFrame)
            {
                _deflatedKey = deflate.SendSettingsKey;
                Compress(deflate, payloadLength);
            }

            // Another settings set took the slot, or compressing did not make it smaller: the plain frame.
            return _deflatedKey == deflate.SendSettingsKey && _deflated is not null ? _deflated.AsMemory(0, _deflatedLength) : Frame;
        }
    }

    private void Compress(PerMessageDeflate deflate, int payloadLength)
    {
        ReadOnlySpan<byte> payload = _buffer.AsSpan(_headerLength, payloadLength);
        int room = payloadLength + (payloadLength >> 8) + 64;
        byte[] scratch = ArrayPool<byte>.Shared.Rent(room);
        ZlibDeflater deflater = ZlibPool.RentDeflater(deflate.SendWindowBits, deflate.Level, deflate.MemoryLevel);
        try
        {
            int filled = deflater.Compress(payload, scratch, ZlibNative.ZSyncFlush, out int consumed, out bool done);
            if (!done || consumed != payloadLength)
            {
                return; // did not fit the generous bound: not worth it
            }

            ReadOnlySpan<byte> data = scratch.AsSpan(0, filled);
            if (data.EndsWith(PerMessageDeflate.Tail))
            {
                data = data[..^4];
            }

            if (data.Length >= payloadLength)
            {
                return;
            }

            Opcode opcode = Type == MessageType.Text ? Opcode.Text : Opcode.Binary;
            int header = FrameHeader.GetSize(data.Length, masked: false);
            int size = header + data.Length;
            byte[] frame = size <= LargestPooled ? s_buffers.Rent(size) : ArrayPool<byte>.Shared.Rent(size);
            FrameHeader.Write(frame, fin: true, opcode, data.Length, masked: false, maskingKey: 0, PerMessageDeflate.Rsv1);
            data.CopyTo(frame.AsSpan(header));
            _deflated = frame;
            _deflatedLength = header + data.Length;
        }
        finally
        {
            ZlibPool.Return(deflater);
            ArrayPool<byte>.Shared.Return(scratch);
        }
    }

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

        PreparedMessage message = Rent(type, payload.Length);
        payload.CopyTo(message.PayloadSpan);
        return message;
    }

    /// <summary>
    /// Frames a payload of <paramref name="payloadLength"/> bytes that <paramref name="write"/> writes in place (as
    /// <see cref="string.Create{TState}(int, TState, System.Buffers.SpanAction{char, TState})"/>): a payload made of
    /// several parts is copied once, straight into the frame. Text payloads must be valid UTF-8 (§5.6);
    /// <see cref="ArgumentException"/> otherwise.
    /// </summary>
    public static PreparedMessage Create<TState>(MessageType type, int payloadLength, TState state, SpanAction<byte, TState> write)
        where TState : allows ref struct
    {
        ArgumentNullException.ThrowIfNull(write);
        ArgumentOutOfRangeException.ThrowIfNegative(payloadLength);
        if (type is not (MessageType.Text or MessageType.Binary))
        {
            throw new ArgumentException("Only text and binary messages can be prepared.", nameof(type));
        }

        PreparedMessage message = Rent(type, payloadLength);
        try
        {
            Span<byte> payload = message.PayloadSpan;
            write(payload, state);
            if (type == MessageType.Text && !Utf8Validator.IsValid(payload))
            {
                throw new ArgumentException("Text messages must be valid UTF-8 (RFC 6455 §5.6).", nameof(write));
            }
        }
        catch
        {
            message.Dispose();
            throw;
        }

        return message;
    }

    /// <summary>A recycled (or new) message with a pooled frame buffer and its header written; the payload is left to fill.</summary>
    private static PreparedMessage Rent(MessageType type, int payloadLength)
    {
        PreparedMessage message = s_pool.TryTake(out PreparedMessage? pooled) ? pooled : new PreparedMessage();
        if (pooled is not null)
        {
            Interlocked.Decrement(ref s_pooled);
        }

        int size = FrameHeader.GetSize(payloadLength, masked: false) + payloadLength;
        message._buffer = size <= LargestPooled ? s_buffers.Rent(size) : ArrayPool<byte>.Shared.Rent(size);
        message._headerLength = FrameHeader.Write(message._buffer, fin: true, type == MessageType.Text ? Opcode.Text : Opcode.Binary,
            payloadLength, masked: false, maskingKey: 0);
        message._length = size;
        message.Type = type;
        return message;
    }

    private Span<byte> PayloadSpan => _buffer.AsSpan(_headerLength, _length - _headerLength);

    /// <summary>Returns the frame's buffer to the pool and recycles this object.</summary>
    public void Dispose()
    {
        lock (_deflateGate)
        {
            if (_deflated is { } deflated)
            {
                (deflated.Length <= LargestPooled ? s_buffers : ArrayPool<byte>.Shared).Return(deflated);
            }

            _deflated = null;
            _deflatedLength = 0;
            _deflatedKey = NoDeflatedFrame;
        }

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
