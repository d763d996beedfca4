using System.Buffers.Binary;

namespace Sockeye.Topics;

/// <summary>The binary frame of docs/protocol.md §2.1: <c>[4-byte big-endian JSON length][JSON][payload]</c>.</summary>
internal static class V1BinaryFrame
{
    /// <summary>Splits a received binary frame; returns null, or why it is malformed.</summary>
    public static string? Split(ReadOnlyMemory<byte> frame, out ReadOnlyMemory<byte> json, out ReadOnlyMemory<byte> payload)
    {
        json = default;
        payload = default;
        if (frame.Length < 4)
        {
            return "a binary frame must start with a 4-byte JSON length";
        }

        uint length = BinaryPrimitives.ReadUInt32BigEndian(frame.Span);
        if (length > frame.Length - 4)
        {
            return "the binary frame's JSON length is past its end";
        }

        json = frame.Slice(4, (int)length);
        payload = frame[(4 + (int)length)..];
        return null;
    }
}
