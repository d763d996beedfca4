using System.Buffers.Binary;
using System.Text;

namespace Sockeye.Protocol;

/// <summary>Encoding and validation of the close frame body (RFC 6455 §5.5.1): a 2-byte code, then UTF-8 reason.</summary>
internal static class ClosePayload
{
    /// <summary>Longest reason that fits a control frame: 125 − 2 code bytes.</summary>
    public const int MaxReasonBytes = FrameHeader.MaxControlPayload - 2;

    /// <summary>
    /// Validates a received close body. An empty body means "no status" (<see cref="CloseCode.NoStatusReceived"/>);
    /// a 1-byte body or an invalid code is a protocol error (1002); a reason that is not UTF-8 is 1007 (§5.5.1, §8.1).
    /// </summary>
    public static ProtocolError TryParse(ReadOnlySpan<byte> body, out ushort code, out string reason)
    {
        reason = string.Empty;
        if (body.Length == 0)
        {
            code = CloseCode.NoStatusReceived;
            return default;
        }

        code = 0;
        if (body.Length == 1)
        {
            return ProtocolError.Protocol("close frame with a 1-byte payload");
        }

        ushort received = BinaryPrimitives.ReadUInt16BigEndian(body);
        if (!CloseCode.IsValidOnWire(received))
        {
            return ProtocolError.Protocol("invalid close code");
        }

        ReadOnlySpan<byte> reasonBytes = body[2..];
        if (!Utf8Validator.IsValid(reasonBytes))
        {
            return ProtocolError.InvalidData("close reason is not valid UTF-8");
        }

        code = received;
        reason = reasonBytes.IsEmpty ? string.Empty : Encoding.UTF8.GetString(reasonBytes);
        return default;
    }

    /// <summary>
    /// Writes a close body for <paramref name="code"/> and <paramref name="reason"/>, truncating the reason at a
    /// character boundary so the frame stays within 125 bytes. Returns the bytes written (at most 125).
    /// </summary>
    public static int Write(Span<byte> destination, ushort code, string? reason)
    {
        if (code == CloseCode.NoStatusReceived)
        {
            return 0; // §7.4.1: 1005 is never sent; an empty close body means the same.
        }

        BinaryPrimitives.WriteUInt16BigEndian(destination, code);
        if (string.IsNullOrEmpty(reason))
        {
            return 2;
        }

        Span<byte> target = destination.Slice(2, Math.Min(MaxReasonBytes, destination.Length - 2));
        int written = 0;
        foreach (var rune in reason.EnumerateRunes())
        {
            if (!rune.TryEncodeToUtf8(target[written..], out int n))
            {
                break;
            }

            written += n;
        }

        return 2 + written;
    }
}
