using System.Buffers.Binary;
using System.Security.Cryptography;

namespace Sockeye.Conformance.Wire;

/// <summary>Serializes frames exactly as described by RFC 6455 5.2, without judging their legality.</summary>
internal static class FrameEncoder
{
    public static byte[] Encode(OutFrame frame, bool mask)
    {
        var payload = frame.Payload.Span;
        var length = payload.Length;
        var lengthBytes = length <= 125 ? 0 : length <= ushort.MaxValue ? 2 : 8;
        var headerLength = 2 + lengthBytes + (mask ? 4 : 0);
        var buffer = new byte[headerLength + length];

        buffer[0] = (byte)((frame.Fin ? 0x80 : 0) | ((frame.Rsv & 0x7) << 4) | (frame.Opcode & 0xF));
        var maskBit = mask ? 0x80 : 0;
        switch (lengthBytes)
        {
            case 0:
                buffer[1] = (byte)(maskBit | length);
                break;
            case 2:
                buffer[1] = (byte)(maskBit | 126);
                BinaryPrimitives.WriteUInt16BigEndian(buffer.AsSpan(2), (ushort)length);
                break;
            default:
                buffer[1] = (byte)(maskBit | 127);
                BinaryPrimitives.WriteUInt64BigEndian(buffer.AsSpan(2), (ulong)length);
                break;
        }

        var body = buffer.AsSpan(headerLength);
        payload.CopyTo(body);
        if (mask)
        {
            // RFC 6455 5.3: a fresh, unpredictable masking key for every frame.
            var key = buffer.AsSpan(2 + lengthBytes, 4);
            RandomNumberGenerator.Fill(key);
            ApplyMask(body, key, 0);
        }

        return buffer;
    }

    /// <summary>XORs <paramref name="data"/> with the masking key, starting at key index <paramref name="offset"/> mod 4.</summary>
    public static void ApplyMask(Span<byte> data, ReadOnlySpan<byte> key, int offset)
    {
        for (var i = 0; i < data.Length; i++)
        {
            data[i] ^= key[(i + offset) & 3];
        }
    }
}
