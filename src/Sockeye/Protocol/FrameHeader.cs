using System.Buffers;
using System.Buffers.Binary;

namespace Sockeye.Protocol;

/// <summary>
/// A decoded frame header (RFC 6455 §5.2). Reading checks only what the header alone decides; the rules that
/// depend on connection state (masking by role, fragmentation, limits) live in <see cref="ReceiveRules"/>.
/// </summary>
internal readonly struct FrameHeader
{
    /// <summary>Largest possible header: 2 bytes + 8-byte extended length + 4-byte masking key.</summary>
    public const int MaxSize = 14;

    /// <summary>Largest payload of a control frame (§5.5).</summary>
    public const int MaxControlPayload = 125;

    /// <summary>Creates a header.</summary>
    public FrameHeader(bool fin, byte rsv, Opcode opcode, bool masked, uint maskingKey, long payloadLength, int size)
    {
        Fin = fin;
        Rsv = rsv;
        Opcode = opcode;
        Masked = masked;
        MaskingKey = maskingKey;
        PayloadLength = payloadLength;
        Size = size;
    }

    /// <summary>FIN bit: this is the final fragment of a message.</summary>
    public bool Fin { get; }

    /// <summary>RSV1–RSV3 as the three low bits (RSV1 = 0b100).</summary>
    public byte Rsv { get; }

    /// <summary>The frame's opcode.</summary>
    public Opcode Opcode { get; }

    /// <summary>MASK bit.</summary>
    public bool Masked { get; }

    /// <summary>Masking key in wire byte order (first key byte in the low byte), valid when <see cref="Masked"/>.</summary>
    public uint MaskingKey { get; }

    /// <summary>Payload length in bytes.</summary>
    public long PayloadLength { get; }

    /// <summary>Encoded size of this header in bytes.</summary>
    public int Size { get; }

    /// <summary>
    /// Reads a header from the start of <paramref name="buffer"/>. Returns <see cref="OperationStatus.NeedMoreData"/>
    /// when the header is incomplete and <see cref="OperationStatus.InvalidData"/> (with <paramref name="error"/>) for
    /// a 64-bit length with its most significant bit set (§5.2).
    /// </summary>
    public static OperationStatus TryRead(in ReadOnlySequence<byte> buffer, out FrameHeader header, out ProtocolError error)
    {
        ReadOnlySpan<byte> first = buffer.FirstSpan;
        if (first.Length >= MaxSize || buffer.IsSingleSegment)
        {
            return TryRead(first, out header, out error);
        }

        // The header straddles segments: copy at most 14 bytes, which is cheap and keeps the parser span-based.
        Span<byte> scratch = stackalloc byte[MaxSize];
        var slice = buffer.Length > MaxSize ? buffer.Slice(0, MaxSize) : buffer;
        slice.CopyTo(scratch);
        return TryRead(scratch[..(int)slice.Length], out header, out error);
    }

    /// <summary>Span overload of <see cref="TryRead(in ReadOnlySequence{byte}, out FrameHeader, out ProtocolError)"/>.</summary>
    public static OperationStatus TryRead(ReadOnlySpan<byte> span, out FrameHeader header, out ProtocolError error)
    {
        header = default;
        error = default;
        if (span.Length < 2)
        {
            return OperationStatus.NeedMoreData;
        }

        byte b0 = span[0];
        byte b1 = span[1];
        bool masked = (b1 & 0x80) != 0;
        int lengthCode = b1 & 0x7F;
        int size = 2 + (lengthCode == 126 ? 2 : lengthCode == 127 ? 8 : 0) + (masked ? 4 : 0);
        if (span.Length < size)
        {
            return OperationStatus.NeedMoreData;
        }

        long length;
        int offset = 2;
        if (lengthCode == 126)
        {
            length = BinaryPrimitives.ReadUInt16BigEndian(span[2..]);
            offset = 4;
        }
        else if (lengthCode == 127)
        {
            ulong wide = BinaryPrimitives.ReadUInt64BigEndian(span[2..]);
            // §5.2: "the most significant bit MUST be 0".
            if ((wide & 0x8000_0000_0000_0000UL) != 0)
            {
                error = ProtocolError.Protocol("64-bit payload length has its most significant bit set");
                return OperationStatus.InvalidData;
            }

            length = (long)wide;
            offset = 10;
        }
        else
        {
            length = lengthCode;
        }

        uint key = masked ? BinaryPrimitives.ReadUInt32LittleEndian(span[offset..]) : 0;
        header = new FrameHeader((b0 & 0x80) != 0, (byte)((b0 >> 4) & 0x7), (Opcode)(b0 & 0x0F), masked, key, length, size);
        return OperationStatus.Done;
    }

    /// <summary>Encoded header size for a payload of <paramref name="payloadLength"/> bytes.</summary>
    public static int GetSize(long payloadLength, bool masked) =>
        (payloadLength <= 125 ? 2 : payloadLength <= ushort.MaxValue ? 4 : 10) + (masked ? 4 : 0);

    /// <summary>
    /// Writes a header using the shortest length encoding, as §5.2 requires ("the minimal number of bytes MUST be
    /// used"). Returns the number of bytes written; <paramref name="destination"/> must hold <see cref="GetSize"/>.
    /// </summary>
    public static int Write(Span<byte> destination, bool fin, Opcode opcode, long payloadLength, bool masked, uint maskingKey, byte rsv = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(payloadLength);
        destination[0] = (byte)((fin ? 0x80 : 0) | ((rsv & 0x7) << 4) | (byte)opcode);
        byte maskBit = masked ? (byte)0x80 : (byte)0;
        int offset;
        if (payloadLength <= 125)
        {
            destination[1] = (byte)(maskBit | (byte)payloadLength);
            offset = 2;
        }
        else if (payloadLength <= ushort.MaxValue)
        {
            destination[1] = (byte)(maskBit | 126);
            BinaryPrimitives.WriteUInt16BigEndian(destination[2..], (ushort)payloadLength);
            offset = 4;
        }
        else
        {
            destination[1] = (byte)(maskBit | 127);
            BinaryPrimitives.WriteUInt64BigEndian(destination[2..], (ulong)payloadLength);
            offset = 10;
        }

        if (masked)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(destination[offset..], maskingKey);
            offset += 4;
        }

        return offset;
    }
}
