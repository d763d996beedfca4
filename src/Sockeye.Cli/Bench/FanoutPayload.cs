using System.Buffers.Binary;

namespace Sockeye.Cli.Bench;

/// <summary>
/// The fan-out messages: ASCII text of exactly <c>--size</c> bytes, <c>SEQ TICKS ....</c> (16 hex digits each, then
/// dots), sent by the publisher as masked text frames; Socket.IO wraps the same text as <c>42["m","TEXT"]</c>. The
/// same bytes reach every subscriber, which reads the sequence number to check order and to count the delivery.
/// </summary>
internal static class FanoutPayload
{
    /// <summary>Sequence number, space, send time, space.</summary>
    public const int HeaderLength = 34;

    // Socket.IO: EVENT packet (2) in an Engine.IO MESSAGE packet (4), event "m" with one string argument.
    private static ReadOnlySpan<byte> SocketIoPrefix => "42[\"m\",\""u8;

    private static ReadOnlySpan<byte> SocketIoSuffix => "\"]"u8;

    /// <summary>Bytes of the largest frame <see cref="WriteFrame"/> writes for this size.</summary>
    public static int MaxFrameLength(int size) => 14 + SocketIoPrefix.Length + size + SocketIoSuffix.Length;

    /// <summary>Writes one masked text frame carrying message <paramref name="seq"/>; returns its length.</summary>
    public static int WriteFrame(Span<byte> destination, FanoutProtocol protocol, int size, long seq, long ticks, uint mask)
    {
        int length = protocol == FanoutProtocol.SocketIo ? SocketIoPrefix.Length + size + SocketIoSuffix.Length : size;
        int header = ClientFrame.WriteHeader(destination, opcode: 0x1, length, mask);
        Span<byte> payload = destination.Slice(header, length);
        Span<byte> text = payload;
        if (protocol == FanoutProtocol.SocketIo)
        {
            SocketIoPrefix.CopyTo(payload);
            SocketIoSuffix.CopyTo(payload[(SocketIoPrefix.Length + size)..]);
            text = payload.Slice(SocketIoPrefix.Length, size);
        }

        WriteHex(text[..16], seq);
        text[16] = (byte)' ';
        WriteHex(text.Slice(17, 16), ticks);
        text[33] = (byte)' ';
        text[HeaderLength..].Fill((byte)'.');
        ClientFrame.Mask(payload, mask);
        return header + length;
    }

    /// <summary>The sequence number of a received message, or -1 when it is not one of ours of this size.</summary>
    public static long ReadSequence(ReadOnlySpan<byte> message, FanoutProtocol protocol, int size)
    {
        if (protocol == FanoutProtocol.SocketIo)
        {
            if (message.Length != SocketIoPrefix.Length + size + SocketIoSuffix.Length
                || !message.StartsWith(SocketIoPrefix) || !message.EndsWith(SocketIoSuffix))
            {
                return -1;
            }

            message = message.Slice(SocketIoPrefix.Length, size);
        }

        return message.Length == size && message[16] == (byte)' ' ? ReadHex(message[..16]) : -1;
    }

    private static void WriteHex(Span<byte> destination, long value)
    {
        for (int i = 15; i >= 0; i--)
        {
            int digit = (int)(value & 0xF);
            destination[i] = (byte)(digit < 10 ? '0' + digit : 'a' + digit - 10);
            value >>= 4;
        }
    }

    private static long ReadHex(ReadOnlySpan<byte> digits)
    {
        long value = 0;
        foreach (byte b in digits)
        {
            int digit = b switch
            {
                >= (byte)'0' and <= (byte)'9' => b - '0',
                >= (byte)'a' and <= (byte)'f' => b - 'a' + 10,
                _ => -1,
            };
            if (digit < 0)
            {
                return -1;
            }

            value = (value << 4) | (uint)digit;
        }

        return value;
    }
}

/// <summary>Client-to-server frames (RFC 6455 §5.2): FIN set, masked, payloads under 64 KiB.</summary>
internal static class ClientFrame
{
    public static int WriteHeader(Span<byte> destination, int opcode, int length, uint mask)
    {
        destination[0] = (byte)(0x80 | opcode);
        int at;
        if (length < 126)
        {
            destination[1] = (byte)(0x80 | length);
            at = 2;
        }
        else
        {
            destination[1] = 0x80 | 126;
            BinaryPrimitives.WriteUInt16BigEndian(destination[2..], (ushort)length);
            at = 4;
        }

        BinaryPrimitives.WriteUInt32BigEndian(destination[at..], mask);
        return at + 4;
    }

    /// <summary>Masks (or unmasks) <paramref name="payload"/> in place with the key as written by <see cref="WriteHeader"/>.</summary>
    public static void Mask(Span<byte> payload, uint mask)
    {
        Span<byte> key = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(key, mask);
        for (int i = 0; i < payload.Length; i++)
        {
            payload[i] ^= key[i & 3];
        }
    }

    /// <summary>A whole masked frame with <paramref name="payload"/> (control frames, handshake packets).</summary>
    public static byte[] Build(int opcode, ReadOnlySpan<byte> payload, uint mask)
    {
        var frame = new byte[8 + payload.Length];
        int header = WriteHeader(frame, opcode, payload.Length, mask);
        payload.CopyTo(frame.AsSpan(header));
        Mask(frame.AsSpan(header, payload.Length), mask);
        return frame.AsSpan(0, header + payload.Length).ToArray();
    }
}
